"""Who may see which cases: the read side of the role rules in DESIGN.md §4.

A viewer holding only the liaison role sees the cases in which its department has (or had) a
task; a viewer holding only the street role sees its street's cases, and a grid worker (网格员)
its grid's; a viewer holding several of these sees what any of them does; any other role sees
everything. Any object with ``roles``, ``department`` and ``street`` (and ``grid``, when it
may hold that role) will do (``dispatch.auth.Principal`` in the API, a stub in tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

SCOPED_ROLES = frozenset({"liaison", "street", "grid"})
ANYTHING_ELSE = None


class Viewer(Protocol):
    @property
    def roles(self) -> Iterable[Any]: ...
    @property
    def department(self) -> str | None: ...
    @property
    def street(self) -> str | None: ...


def roles_of(viewer: Viewer) -> frozenset[str]:
    """Plain role names, whether the viewer holds strings or ``Role`` members."""
    return frozenset(str(getattr(role, "value", role)) for role in viewer.roles)


def grid_of(viewer: Viewer) -> str | None:
    """The grid a grid worker is bound to; viewers that never hold the role need no field."""
    grid = getattr(viewer, "grid", None)
    return str(grid) if grid else None


def is_scoped(viewer: Viewer) -> bool:
    """True when every role the viewer holds limits what it sees (or it holds none)."""
    return roles_of(viewer) <= SCOPED_ROLES


def liaison_department(viewer: Viewer) -> str | None:
    """The department a scoped liaison is limited to ('' when it has none: sees nothing)."""
    if is_scoped(viewer) and "liaison" in roles_of(viewer):
        return viewer.department or ""
    return None


def case_scope(viewer: Viewer, cases: sa.Table, tasks: sa.Table) -> ColumnElement[bool] | None:
    """A WHERE clause limiting ``cases`` to what ``viewer`` sees; None means no limit."""
    if not is_scoped(viewer):
        return ANYTHING_ELSE
    roles = roles_of(viewer)
    allowed: list[ColumnElement[bool]] = []
    if "liaison" in roles and viewer.department:
        allowed.append(
            sa.exists().where(
                tasks.c.case_id == cases.c.id, tasks.c.department == viewer.department
            )
        )
    if "street" in roles and viewer.street:
        allowed.append(cases.c.street == viewer.street)
    if "grid" in roles and grid_of(viewer):
        allowed.append(cases.c.grid == grid_of(viewer))
    return sa.or_(*allowed) if allowed else sa.false()


def can_view_case(case: Mapping[str, Any], viewer: Viewer) -> bool:
    """The same rule as ``case_scope``, on a case representation (``get_case``'s dict)."""
    if not is_scoped(viewer):
        return True
    roles = roles_of(viewer)
    tasks = case.get("tasks", [])
    if "liaison" in roles and any(t["department"] == viewer.department for t in tasks):
        return True
    location = case.get("location") or {}
    if "grid" in roles and grid_of(viewer) and location.get("grid") == grid_of(viewer):
        return True
    street = location.get("street")
    return "street" in roles and bool(viewer.street) and street == viewer.street
