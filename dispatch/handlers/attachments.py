"""随手拍 · 影像证明 (DESIGN §8.6): recording a stored file on a case, the one handler shape.

The HTTP layer has judged and stored the bytes already; the handler checks who may add to this
case and appends ``AttachmentAdded`` through ``execute``. Privacy erase records
``AttachmentErased`` first and deletes the files after, so a crash between the two leaves a
stray file (``dispatch verify --strays`` lists it) rather than a file the log calls missing.
"""

from __future__ import annotations

from dispatch.domain import commands as c
from dispatch.domain.case import CaseState
from dispatch.handlers.errors import NotInScope
from dispatch.handlers.executor import CommandResult, execute
from dispatch.handlers.handling import Handling, Issuer


def check_may_attach(state: CaseState, issuer: Issuer) -> None:
    """The centre on any case; a street officer on its street's; a grid worker on its grid's
    (a patrol finding's photos); a liaison on a case where its department holds a task."""
    actor = issuer.actor
    if issuer.role == "street" and (actor.street is None or state.location.street != actor.street):
        raise NotInScope(f"case {state.case_no} is not in street {actor.street!r}")
    if issuer.role == "grid" and (actor.grid is None or state.location.grid != actor.grid):
        raise NotInScope(f"case {state.case_no} is not in grid {actor.grid!r}")
    if issuer.role == "liaison" and not any(
        task.department == actor.department for task in state.tasks.values()
    ):
        raise NotInScope(f"department {actor.department!r} holds no task on {state.case_no}")


def add_attachment(
    deps: Handling, target: str, command: c.AddAttachment, issuer: Issuer
) -> CommandResult:
    return execute(
        deps,
        target,
        lambda _state, _now: command,
        issuer,
        scope=lambda state: check_may_attach(state, issuer),
    )


def erase_intake_photos(
    deps: Handling, target: str, command: c.EraseIntakePhotos, issuer: Issuer
) -> CommandResult:
    """Run by an administrator (``dispatch privacy erase``): no scope to check."""
    return execute(deps, target, lambda _state, _now: command, issuer)
