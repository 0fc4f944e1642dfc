"""派单建议: why the rules send a case where they do (or cannot), as one line of plain Chinese,
and the departments the catalogue offers for its category.

``routing.explain`` keeps a line per rule for the record (``CaseDispatched.candidates``); a
dispatcher choosing by hand needs one sentence and a short list instead: the departments of
every rule written for the category (the street office for ``@street``; every street office
when the case has no street), the rules' own choice first, never a department that has
already returned the case.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from dispatch.catalogue.model import STREET_OFFICE, Catalogue, Rule
from dispatch.catalogue.routing import Placement, place, route


@dataclass(frozen=True)
class RoutingAdvice:
    line: str  # one sentence, Chinese, no codes
    lead: str | None  # the rules' lead, unless it is excluded
    assist: tuple[str, ...]
    suggested: tuple[str, ...]  # department codes, the rules' choice first


def routing_advice(
    catalogue: Catalogue,
    *,
    category: str,
    location: Mapping[str, Any] | Any,
    exclude: Collection[str] = (),
) -> RoutingAdvice:
    """The advice for a case of ``category`` at ``location``; ``exclude``: departments that
    returned it (never suggested, never the pre-selected lead)."""
    placed = place(catalogue, location)
    decision = route(catalogue, category, placed.grid, placed.street)
    rules = [rule for rule in catalogue.routing if fnmatchcase(category, rule.category)]
    offices = _offices(catalogue, placed.street)
    named = [decision.lead or "", *decision.assist]
    for rule in rules:
        named.extend(code for ref in (rule.lead, *rule.assist) for code in _resolve(ref, offices))
    suggested = tuple(
        code
        for code in dict.fromkeys(named)
        if code and code not in exclude and catalogue.department(code) is not None
    )
    lead = decision.lead if decision.lead not in exclude else None
    assist = tuple(code for code in decision.assist if code not in exclude and code != lead)
    line = _line(catalogue, category, placed, decision.lead, decision.assist, rules)
    if decision.lead is not None and decision.lead in exclude:
        returned = _department(catalogue, decision.lead)
        line = f"{line[:-1]}，但{returned}已退回本案：请另选主办单位。"
    return RoutingAdvice(line=line, lead=lead, assist=assist, suggested=suggested)


def _line(
    catalogue: Catalogue,
    category: str,
    placed: Placement,
    lead: str | None,
    assist: list[str],
    rules: list[Rule],
) -> str:
    known = catalogue.category(category)
    if known is None:
        return "本案的诉求类别不在当前目录中，请人工选择承办单位。"
    name = f"「{known.name}」"
    where = _where(catalogue, placed)
    if lead is not None:
        helpers = "、".join(_department(catalogue, code) for code in assist)
        also = f"，{helpers}协办" if helpers else ""
        return f"{name}{where}按派单规则由{_department(catalogue, lead)}主办{also}。"
    if not rules:
        return f"目录中没有适用于{name}的派单规则，请人工派单。"
    if placed.street is None:
        return f"本案未定位到网格或街道，适用于{name}的规则要按所在街道派单，请人工派单。"
    return f"{name}{where}没有适用的派单规则，请人工派单。"


def _where(catalogue: Catalogue, placed: Placement) -> str:
    grid = catalogue.grid(placed.grid) if placed.grid else None
    street = catalogue.street(placed.street) if placed.street else None
    if grid is not None and street is not None:
        return f"在{street.name}{grid.name}"
    return f"在{street.name}" if street is not None else ""


def _department(catalogue: Catalogue, code: str) -> str:
    found = catalogue.department(code)
    return found.name if found else "未知单位"


def _offices(catalogue: Catalogue, street: str | None) -> list[str]:
    """``@street`` resolved: the case's street office, or every office when it has none."""
    found = catalogue.street(street) if street else None
    if found is not None:
        return [found.office]
    return [s.office for s in catalogue.streets]


def _resolve(ref: str, offices: list[str]) -> list[str]:
    return offices if ref == STREET_OFFICE else [ref]
