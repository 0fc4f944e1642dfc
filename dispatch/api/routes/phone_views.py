"""Who was shown a reporter's full phone (§8.2): the access log, for supervisors and admins
(the same auditors as the global event feed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from dispatch.api.deps import CaseListRead, ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.queries.cases import case_exists
from dispatch.queries.phone_views import phone_views

router = APIRouter(tags=["cases"])

Auditor = Annotated[User, Depends(roles("supervisor", "admin"))]


@router.get("/cases/{case_id}/access-log", dependencies=[CaseListRead])
def access_log(case_id: str, container: ContainerDep, _user: Auditor) -> dict[str, Any]:
    """Every full-phone view of this case's reporter by a liaison, newest first."""
    with container.store.reading() as conn:
        if not case_exists(conn, case_id):
            raise Problem(404, f"no case with id {case_id!r}")
        items = phone_views(conn, case_id)
    return {"items": items, "total": len(items)}
