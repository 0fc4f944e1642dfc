"""What a client may send with each command (DESIGN.md §4): the API validates JSON with these
bodies and the console its forms, so a form accepts exactly what the API accepts."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from dispatch.domain.events import (
    Channel,
    Nature,
    Rating,
    ReturnReason,
    Satisfaction,
    Solved,
    UrgeLevel,
    Urgency,
)
from dispatch.handlers.intake import Complaint
from dispatch.handlers.patrols import Finding, PatrolReport
from dispatch.handlers.text import check_plain_text

PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")


class Body(BaseModel):
    """Command bodies refuse unknown fields, so a typo is a 422 that names it, and text with
    control characters, which the store cannot keep (``dispatch.handlers.text``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _plain_text(cls, value: object) -> object:
        return check_plain_text(value)


# -- intake -----------------------------------------------------------------------------------


class LocationIn(Body):
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    grid: str | None = Field(default=None, min_length=1, max_length=64)


class ReporterIn(Body):
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    # 保密: the caller asked that their number be shown to no department.
    confidential: bool = False

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not PHONE.match(value):
            raise ValueError("a phone number: digits, optionally +, spaces or dashes")
        return value


class IntakeIn(Body):
    channel: Channel = "phone"
    nature: Nature = "complaint"
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    urgency: Urgency = "normal"
    location: LocationIn = Field(default_factory=LocationIn)
    reporter: ReporterIn = Field(default_factory=ReporterIn)
    # 直接答复: the operator's answer; the case is created answered and never routed.
    answer: str | None = Field(default=None, min_length=1, max_length=4000)

    def complaint(self) -> Complaint:
        return Complaint(
            channel=self.channel,
            nature=self.nature,
            category=self.category,
            description=self.description,
            urgency=self.urgency,
            answer=self.answer,
            address=self.location.address,
            lat=self.location.lat,
            lon=self.location.lon,
            grid=self.location.grid,
            reporter_name=self.reporter.name,
            reporter_phone=self.reporter.phone,
            reporter_confidential=self.reporter.confidential,
        )


# -- the centre's commands on a case ----------------------------------------------------------


class DepartmentIn(Body):
    code: str = Field(min_length=1, max_length=64)
    role: Literal["lead", "assist"] = "lead"


class DispatchIn(Body):
    departments: list[DepartmentIn] = Field(min_length=1, max_length=20)


class WhistleIn(Body):
    departments: list[str] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)
    report_within: str = Field(default="2h", pattern=r"^[1-9][0-9]{0,3}(m|h)$")


class AnswerIn(Body):
    answer: str = Field(min_length=1, max_length=4000)


class CallbackIn(Body):
    solved: Solved
    satisfaction: Satisfaction
    note: str | None = Field(default=None, max_length=2000)


class ReasonIn(Body):
    reason: str = Field(min_length=1, max_length=2000)


class ParkIn(Body):
    plan: str = Field(min_length=1, max_length=2000)
    review_on: date


class NoteIn(Body):
    note: str | None = Field(default=None, max_length=2000)


class RecallIn(Body):
    reason: str | None = Field(default=None, max_length=2000)


class CloseIn(Body):
    note: str | None = Field(default=None, max_length=2000)
    # Needed when the last callback was unsolved or unsatisfied (else 409 callback_unsatisfied).
    override_reason: str | None = Field(default=None, min_length=1, max_length=2000)


class MergeIn(Body):
    into: str = Field(min_length=1, max_length=64)


class UrgeIn(Body):
    level: UrgeLevel
    note: str = Field(min_length=1, max_length=2000)
    department: str | None = Field(default=None, max_length=64)


# -- the departments' actions on a task, and the dispatchers' rulings --------------------------


class Empty(Body):
    pass


class ReturnIn(Body):
    reason: ReturnReason
    basis: str = Field(min_length=1, max_length=2000)


class NoteRequired(Body):
    note: str = Field(min_length=1, max_length=2000)


class ExtensionIn(Body):
    reply_by: AwareDatetime
    reason: str = Field(min_length=1, max_length=2000)


class ReplyIn(Body):
    resolution: str = Field(min_length=1, max_length=4000)


class EvaluationIn(Body):
    """双考核: the summoning street's rating of a replied summoned task."""

    rating: Rating
    note: str | None = Field(default=None, max_length=2000)


class RulingIn(Body):
    note: str | None = Field(default=None, max_length=2000)


# -- patrols (三巡一查零报告) -------------------------------------------------------------------


class FindingIn(Body):
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    urgency: Urgency = "normal"
    location: LocationIn = Field(default_factory=LocationIn)  # the patrol's grid by default


class PatrolIn(Body):
    grid: str = Field(min_length=1, max_length=64)
    round: str = Field(min_length=1, max_length=32)
    findings: list[FindingIn] = Field(default_factory=list, max_length=50)  # [] = 零报告
    note: str | None = Field(default=None, max_length=1000)

    def report(self) -> PatrolReport:
        return PatrolReport(
            grid=self.grid,
            round=self.round,
            note=self.note,
            findings=tuple(
                Finding(
                    category=f.category,
                    description=f.description,
                    urgency=f.urgency,
                    address=f.location.address,
                    lat=f.location.lat,
                    lon=f.location.lon,
                    grid=f.location.grid,
                )
                for f in self.findings
            ),
        )
