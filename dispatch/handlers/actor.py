"""Who issues a command, as the handlers need it: identity, role, department, street, grid."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class Actor(Protocol):
    @property
    def username(self) -> str: ...
    @property
    def department(self) -> str | None: ...
    @property
    def street(self) -> str | None: ...
    @property
    def grid(self) -> str | None: ...
    def has(self, role: str) -> bool: ...


@dataclass(frozen=True)
class SystemActor:
    """The router, the SLA timers and other jobs: they act as ``system``."""

    username: str = "system"
    department: str | None = None
    street: str | None = None
    grid: str | None = None
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"system"}))

    def has(self, role: str) -> bool:
        return role in self.roles


SYSTEM = SystemActor()
