"""The seven roles of a 12345 centre, and parsing them from what users type."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    """A role a user holds; a user may hold several, and any one that fits lets them act."""

    OPERATOR = "operator"  # 话务员: takes calls, answers simple cases, records callbacks
    DISPATCHER = "dispatcher"  # 派单/审核: routes what the rules could not, rules on returns
    LIAISON = "liaison"  # 联络员: acts for exactly one department
    STREET = "street"  # 街乡: reports and blows the whistle for exactly one street
    SUPERVISOR = "supervisor"  # 督办: audits, urges, ranks, exports
    ADMIN = "admin"  # loads catalogues and manages users
    GRID = "grid"  # 网格员: patrols exactly one grid (三巡一查零报告) and reports what it finds


ALL_ROLES: tuple[Role, ...] = tuple(Role)


def listed_roles(roles: Iterable[Role] = ALL_ROLES) -> str:
    """``"operator, dispatcher, …"`` in the canonical order, for messages."""
    return ", ".join(role.value for role in ordered(roles))


def ordered(roles: Iterable[Role]) -> list[Role]:
    """Roles in the order of ``Role``, so stored lists and responses never reshuffle."""
    held = set(roles)
    return [role for role in ALL_ROLES if role in held]


def parse_role(value: str | Role) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise ValueError(f"unknown role {value!r}; the roles are: {listed_roles()}") from None


def parse_roles(values: Iterable[str | Role]) -> frozenset[Role]:
    return frozenset(parse_role(value) for value in values)
