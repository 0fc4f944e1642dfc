"""Catalogue text (YAML or JSON) → a validated ``Catalogue``, or every problem at once.

Validation runs in two passes: the shape of each field (pydantic), then, when the shape is
right, the rules that relate parts to each other (``consistency``). Each problem names its
field as a dotted path (``routing.2.lead``) and, for YAML or JSON text, its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from dispatch.catalogue import consistency
from dispatch.catalogue.model import Catalogue

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class CatalogueProblem:
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.field} (line {self.line})" if self.line else self.field
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "line": self.line}


class CatalogueError(ValueError):
    """The catalogue is refused; ``problems`` lists every reason, the message lists them too."""

    def __init__(self, problems: list[CatalogueProblem]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"the catalogue is invalid ({count}): " + "; ".join(map(str, problems)))


class _Loader(yaml.SafeLoader):
    """YAML with YAML 1.2 scalars: ``no``/``on`` stay text (codes), ``13:30`` stays a time."""


def _yaml_12_scalars() -> None:
    bool_tag, int_tag, float_tag = (f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float"))
    _Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (bool_tag, int_tag, float_tag)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _Loader.add_implicit_resolver(
        bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _Loader.add_implicit_resolver(
        int_tag, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
    )
    _Loader.add_implicit_resolver(
        float_tag,
        re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?$"),
        list("-+.0123456789"),
    )


_yaml_12_scalars()


def parse_catalogue(text: str) -> Catalogue:
    """Parse and validate a catalogue; raise ``CatalogueError`` listing every problem."""
    data, lines, found = _read(text)
    if found:
        raise CatalogueError(found)
    if not isinstance(data, dict):
        raise CatalogueError(
            [CatalogueProblem("(top)", "the catalogue must be a mapping: version, departments, …")]
        )
    found = [_problem(path, message, lines) for path, message in consistency.problems(data)]
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as error:
        found = [*_shape_problems(error, lines), *found]
    if found:
        # In file order, so the admin can work down the file.
        raise CatalogueError(sorted(found, key=lambda p: (p.line is None, p.line or 0)))
    return catalogue


# A real catalogue has at most some hundred thousand nodes (grid polygons are the bulk);
# aliases nested like the "billion laughs" would expand far beyond that in the checks.
MAX_NODES = 1_000_000


class _TooLarge(Exception):
    pass


def _read(text: str) -> tuple[Any, dict[Path, int], list[CatalogueProblem]]:
    """The data, the line of every node, and syntax problems (duplicate keys included)."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            lines, found = _lines_of(node)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except _TooLarge:
        reason = f"the document expands to more than {MAX_NODES} values (nested aliases?)"
        return None, {}, [CatalogueProblem("(syntax)", reason)]
    except RecursionError:
        return None, {}, [CatalogueProblem("(syntax)", "the document is nested too deeply")]
    except yaml.YAMLError as error:
        # Pretty-printed JSON with tab indentation is valid JSON but not YAML.
        try:
            return json.loads(text), {}, []
        except (ValueError, RecursionError):
            pass
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(error, "problem", None) or str(error)
        return None, {}, [CatalogueProblem("(syntax)", f"not valid YAML or JSON: {reason}", line)]
    return data, lines, found


def _lines_of(node: yaml.Node | None) -> tuple[dict[Path, int], list[CatalogueProblem]]:
    lines: dict[Path, int] = {}
    found: list[CatalogueProblem] = []
    if node is None:
        return lines, found
    for count, (path, line, duplicate) in enumerate(_walk(node, ())):
        if count > MAX_NODES:
            raise _TooLarge
        if duplicate:
            message = "key given twice; the later one would win"
            found.append(CatalogueProblem(_dotted(path), message, line))
        else:
            lines.setdefault(path, line)
    return lines, found


def _walk(node: yaml.Node, path: Path) -> Iterator[tuple[Path, int, bool]]:
    yield path, node.start_mark.line + 1, False
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            child = (*path, name)
            if name in seen:
                yield child, key.start_mark.line + 1, True
            seen.add(name)
            yield from _walk(value, child)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*path, index))


def _shape_problems(error: ValidationError, lines: dict[Path, int]) -> Iterator[CatalogueProblem]:
    for item in error.errors(include_url=False):
        path = tuple(part for part in item["loc"] if part != "[key]")
        yield _problem(path, _message(item), lines)


def _message(item: Any) -> str:
    kind: str = item["type"]
    message: str = item["msg"]
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling)"
    return message.removeprefix("Value error, ")


def _problem(path: Path, message: str, lines: dict[Path, int]) -> CatalogueProblem:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return CatalogueProblem(_dotted(path), message, lines[path[:end]])
    return CatalogueProblem(_dotted(path), message)


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path) or "(top)"
