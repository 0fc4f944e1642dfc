"""Intake and the centre's lifecycle commands on a case (DESIGN.md §4)."""

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import Field, field_validator

from dispatch.api.commands import Body, IfMatch, run_command
from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.bootstrap import Container
from dispatch.domain import commands as c
from dispatch.domain.events import Channel, Satisfaction, Solved, UrgeLevel, Urgency
from dispatch.handlers import Complaint, InvalidInput
from dispatch.handlers.intake import place_complaint

router = APIRouter(tags=["cases"])

INTAKE = ("operator", "dispatcher", "street")
CENTRE = ("operator", "dispatcher")
RULING = ("dispatcher", "supervisor")
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")

# Stored as "<username>:<key>" in a 200-character column; usernames have at most 64.
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)
]


class LocationIn(Body):
    address: str | None = Field(None, max_length=300)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    grid: str | None = Field(None, min_length=1, max_length=64)


class ReporterIn(Body):
    name: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=20)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not PHONE.match(value):
            raise ValueError("a phone number: digits, optionally +, spaces or dashes")
        return value


class IntakeIn(Body):
    channel: Channel = "phone"
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    urgency: Urgency = "normal"
    location: LocationIn = Field(default_factory=LocationIn)
    reporter: ReporterIn = Field(default_factory=ReporterIn)

    def complaint(self) -> Complaint:
        return Complaint(
            channel=self.channel,
            category=self.category,
            description=self.description,
            urgency=self.urgency,
            address=self.location.address,
            lat=self.location.lat,
            lon=self.location.lon,
            grid=self.location.grid,
            reporter_name=self.reporter.name,
            reporter_phone=self.reporter.phone,
        )


@router.post("/cases", status_code=201)
def receive(
    body: IntakeIn,
    container: ContainerDep,
    user: Annotated[User, Depends(roles(*INTAKE))],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """受理: enter a complaint; routing to departments follows asynchronously."""
    complaint = body.complaint()
    if user.has("street") and not user.has_any(*CENTRE):
        check_in_own_street(container, user, complaint)
    return run_command(
        container,
        lambda: container.cases.receive(
            complaint,
            actor=user,
            role=str(user.role_for(*INTAKE)),
            idempotency_key=idempotency_key,
        ),
        status=201,
        created=True,
    )


def check_in_own_street(container: Container, user: User, complaint: Complaint) -> None:
    """A street officer files problems found in the street's own grids only."""
    active = container.catalogue_source()
    if active is None:
        return
    try:
        street = place_complaint(active[1], complaint).street
    except InvalidInput as error:
        raise Problem(
            422, str(error), errors=[{"field": error.field, "message": str(error)}]
        ) from None
    if street != user.street:
        raise Problem(
            403,
            f"street officers of {user.street} report problems in their own street only; "
            f"this location is in {street or 'no known street'}",
        )


# -- lifecycle commands of the centre ------------------------------------------------------


class DepartmentIn(Body):
    code: str = Field(min_length=1, max_length=64)
    role: str = Field("lead", pattern="^(lead|assist)$")


class DispatchIn(Body):
    departments: list[DepartmentIn] = Field(min_length=1, max_length=20)


class WhistleIn(Body):
    departments: list[str] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)
    report_within: str = Field("2h", pattern=r"^[1-9][0-9]{0,3}(m|h)$")


class AnswerIn(Body):
    answer: str = Field(min_length=1, max_length=4000)


class CallbackIn(Body):
    solved: Solved
    satisfaction: Satisfaction
    note: str | None = Field(None, max_length=2000)


class ReasonIn(Body):
    reason: str = Field(min_length=1, max_length=2000)


class ParkIn(Body):
    plan: str = Field(min_length=1, max_length=2000)
    review_on: date


class NoteIn(Body):
    note: str | None = Field(None, max_length=2000)


class MergeIn(Body):
    into: str = Field(min_length=1, max_length=64)


class UrgeIn(Body):
    level: UrgeLevel
    note: str = Field(min_length=1, max_length=2000)
    department: str | None = Field(None, max_length=64)


def as_role(user: User, allowed: tuple[str, ...]) -> str:
    return str(user.role_for(*allowed))


@router.post("/cases/{case_id}/dispatch")
def dispatch_case(
    case_id: str,
    body: DispatchIn,
    container: ContainerDep,
    if_match: IfMatch,
    user: Annotated[User, Depends(roles("dispatcher"))],
) -> JSONResponse:
    """派单: manual (re)dispatch; naming a lead replaces the case's open tasks."""
    departments = [(item.code, item.role) for item in body.departments]
    return run_command(
        container,
        lambda: container.cases.dispatch(
            case_id, departments, actor=user, role="dispatcher", if_match=if_match
        ),
    )


@router.post("/cases/{case_id}/whistle")
def blow_whistle(
    case_id: str,
    body: WhistleIn,
    container: ContainerDep,
    if_match: IfMatch,
    user: Annotated[User, Depends(roles("street"))],
) -> JSONResponse:
    """吹哨: summon departments to report in within ``report_within`` (e.g. "2h", "30m")."""
    from dispatch.catalogue import parse_duration

    within = parse_duration(body.report_within).clock()
    return run_command(
        container,
        lambda: container.cases.blow_whistle(
            case_id,
            body.departments,
            reason=body.reason,
            report_within=within,
            actor=user,
            role="street",
            if_match=if_match,
        ),
    )


def _simple(
    path: str, allowed: tuple[str, ...], body_type: type[Body], build: object, summary: str
) -> None:
    """Register a case command whose body maps straight onto one domain command."""

    def endpoint(
        case_id: str,
        body: body_type,
        container: ContainerDep,
        if_match: IfMatch,  # type: ignore[valid-type]
        user: Annotated[User, Depends(roles(*allowed))],
    ) -> JSONResponse:
        return run_command(
            container,
            lambda: container.cases.case_command(
                case_id,
                build(body),
                actor=user,
                role=as_role(user, allowed),  # type: ignore[operator]
                if_match=if_match,
            ),
        )

    endpoint.__name__ = path.strip("/").replace("/", "_")
    router.add_api_route(f"/cases/{{case_id}}/{path}", endpoint, methods=["POST"], summary=summary)


_simple("answer", CENTRE, AnswerIn, lambda b: c.AnswerCase(answer=b.answer), "直接答复 answer")
_simple(
    "callback",
    CENTRE,
    CallbackIn,
    lambda b: c.RecordCallback(solved=b.solved, satisfaction=b.satisfaction, note=b.note),
    "回访 record the callback",
)
_simple(
    "park",
    RULING,
    ParkIn,
    lambda b: c.ParkCase(plan=b.plan, review_on=b.review_on),
    "挂账 park with a plan",
)
_simple("unpark", RULING, NoteIn, lambda b: c.UnparkCase(note=b.note), "unpark")
_simple("close", CENTRE, NoteIn, lambda b: c.CloseCase(note=b.note), "结案 close")
_simple(
    "urge",
    ("supervisor", "dispatcher"),
    UrgeIn,
    lambda b: c.UrgeCase(level=b.level, note=b.note, department=b.department),
    "催办/督办 urge",
)


@router.post("/cases/{case_id}/reopen")
def reopen_case(
    case_id: str,
    body: ReasonIn,
    container: ContainerDep,
    if_match: IfMatch,
    user: Annotated[User, Depends(roles(*RULING))],
) -> JSONResponse:
    """重办: new tasks with fresh deadlines for the departments that replied."""
    return run_command(
        container,
        lambda: container.cases.reopen(
            case_id, body.reason, actor=user, role=as_role(user, RULING), if_match=if_match
        ),
    )


@router.post("/cases/{case_id}/merge")
def merge_case(
    case_id: str,
    body: MergeIn,
    container: ContainerDep,
    if_match: IfMatch,
    user: Annotated[User, Depends(roles(*CENTRE))],
) -> JSONResponse:
    """Fold a duplicate into another case; its open tasks are cancelled."""
    return run_command(
        container,
        lambda: container.cases.merge(
            case_id, body.into, actor=user, role=as_role(user, CENTRE), if_match=if_match
        ),
    )
