"""Intake and the centre's lifecycle commands on a case (DESIGN.md §4)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from dispatch.api.commands import add_case_action, run_command
from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.auth.users import User
from dispatch.handlers import CASE_ACTIONS, Issuer, new_case_id
from dispatch.handlers.bodies import IntakeIn

router = APIRouter(tags=["cases"])

INTAKE = ("operator", "dispatcher", "street", "grid")

# Stored as "<username>:<key>" in a 200-character column; usernames have at most 64.
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)
]


@router.post("/cases", status_code=201)
def receive(
    body: IntakeIn,
    container: ContainerDep,
    user: Annotated[User, Depends(roles(*INTAKE))],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """受理: enter a complaint; routing to departments follows asynchronously. A street
    officer files problems in the street's own grids only."""
    issuer = Issuer(actor=user, role=str(user.role_for(*INTAKE)), command_id=idempotency_key)
    return run_command(
        container,
        lambda: container.handle(new_case_id(), body.complaint(), issuer),
        status=201,
        created=True,
    )


for action in CASE_ACTIONS.values():
    add_case_action(router, action)
