"""GeoReport errors: ``[{code, description}]`` with the HTTP status as the code."""

from __future__ import annotations


class Open311Error(Exception):
    """Raise anywhere under /open311 to answer with the spec's error list."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description

    def as_errors(self) -> list[dict[str, object]]:
        return [{"code": self.status, "description": self.description}]
