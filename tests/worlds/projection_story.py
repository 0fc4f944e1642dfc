"""Case stories for projection tests: one case's events appended one command at a time."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import CaseState, DomainError, decide, evolve
from dispatch.projections.case_list import CaseListProjection
from events import Event, EventStore, Meta
from events.checkpoints import load_checkpoint

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Story:
    """Appends one case's events, one append each, tracking the stream version."""

    def __init__(self, store: EventStore, case_id: str) -> None:
        self.store = store
        self.case_id = case_id
        self.version = 0

    def then(self, *events: Event, role: str = "dispatcher") -> Story:
        meta = Meta(actor="test", role=role, command_id=uuid.uuid4().hex)
        self.store.append(self.case_id, list(events), expected_version=self.version, meta=meta)
        self.version += len(events)
        return self

    def received(self, **fields: Any) -> Story:
        location = {
            "address": fields.pop("address", "西一路 12 号"),
            "lat": fields.pop("lat", None),
            "lon": fields.pop("lon", None),
            "grid": fields.pop("grid", "XYL-07"),
            "street": fields.pop("street", "XYL"),
        }
        values: dict[str, Any] = {
            "case_no": f"20260302-{uuid.uuid4().hex[:6]}",
            "channel": "phone",
            "category": "water.outage",
            "description": "停水三天",
            "urgency": "normal",
            "location": ev.Location(**location),
            "reporter_ref": None,
            "received_at": T0,
        }
        values.update(fields)
        return self.then(ev.CaseReceived(**values), role="operator")

    def dispatched(self, task_id: str, department: str, role: str = "lead", **kw: Any) -> Story:
        return self.then(dispatch_event(task_id, department, role, **kw))


def dispatch_event(task_id: str, department: str, role: str = "lead", **kw: Any) -> Event:
    return ev.CaseDispatched(
        task_id=task_id,
        department=department,
        role=role,  # type: ignore[arg-type]
        rule_id=kw.get("rule_id", "R-test"),
        catalogue_version=1,
        policy="general",
        warn_at=0.8,
        max_extension="15wd",
        deadlines=ev.Deadlines(
            sign_by=T0 + timedelta(hours=24),
            contact_by=T0 + timedelta(days=2),
            reply_by=T0 + timedelta(days=7),
        ),
        calendar_version="test",
        whistle_id=kw.get("whistle_id"),
    )


def rows_of(engine: Any, runner: Any, name: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of a projection's tables, sorted, for comparing two projections."""
    with engine.connect() as conn:
        return {
            logical: sorted(tuple(r) for r in conn.execute(sa.select(table)))
            for logical, table in runner.tables(name).items()
        }


def isolated_projection(tag: str, base: type[CaseListProjection] = CaseListProjection) -> Any:
    """The case list under its own checkpoint and tables (``case_list_<tag>…``)."""

    def define(self: Any, metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
        return base.define(self, metadata, f"_{tag}{suffix}")

    cls = type(f"Isolated{tag}", (base,), {"name": f"case_list_{tag}", "define": define})
    return cls()


# -- random valid histories -------------------------------------------------------------------

DEPARTMENTS = ("water", "roads", "city", "xyl-office")
ACTIONS = (
    "dispatch", "redispatch", "sign", "return", "approve_return", "reject_return", "contact",
    "extension", "approve_extension", "deny_extension", "progress", "reply", "warning", "urge",
    "callback", "reopen", "park", "unpark", "merge", "close", "answer", "unroutable", "whistle",
)  # fmt: skip


def assignment(task_id: str, department: str, role: str = "lead") -> cmd.TaskAssignment:
    deadlines = dispatch_event(task_id, department).deadlines  # type: ignore[attr-defined]
    return cmd.TaskAssignment(
        task_id=task_id, department=department, role=role,  # type: ignore[arg-type]
        rule_id="R-test", catalogue_version=1, policy="general", warn_at=0.8,
        max_extension="15wd", deadlines=deadlines, calendar_version="test",
    )  # fmt: skip


def command_for(action: str, state: CaseState, pick: Callable[[Sequence[Any]], Any]) -> Any:
    """A command of kind ``action`` on ``state``; ``decide`` may still refuse it."""
    task_ids = sorted(state.tasks) or ["none"]
    task_id = pick(task_ids)
    fresh = uuid.uuid4().hex[:12]
    match action:
        case "dispatch" | "redispatch":
            lead = assignment(f"t{fresh}", pick(DEPARTMENTS))
            extra = [assignment(f"a{fresh}", pick(DEPARTMENTS), "assist")] if pick([0, 1]) else []
            return cmd.DispatchCase(assignments=[lead, *extra], replace_open=action == "redispatch")
        case "whistle":
            department = pick(DEPARTMENTS)
            summoned = [assignment(f"s{fresh}", department)]
            return cmd.BlowWhistle(
                whistle_id=f"w{fresh}", street="XYL", departments=[department], reason="吹哨",
                report_by=T0 + timedelta(days=30), assignments=summoned,
            )  # fmt: skip
        case "sign":
            return cmd.SignTask(task_id=task_id)
        case "return":
            return cmd.RequestReturn(
                task_id=task_id, reason=pick(["territory", "remit"]), basis="b"
            )
        case "approve_return":
            return cmd.ApproveReturn(task_id=task_id)
        case "reject_return":
            return cmd.RejectReturn(task_id=task_id)
        case "contact":
            return cmd.ContactCitizen(task_id=task_id, note="called")
        case "extension":
            later = T0 + timedelta(days=40)
            return cmd.RequestExtension(
                task_id=task_id, reply_by=later, reason="r", latest_allowed=None
            )
        case "approve_extension":
            return cmd.ApproveExtension(task_id=task_id)
        case "deny_extension":
            return cmd.DenyExtension(task_id=task_id)
        case "progress":
            return cmd.NoteProgress(task_id=task_id, note="n")
        case "reply":
            return cmd.ReplyTask(task_id=task_id, resolution="done")
        case "warning":
            return cmd.RaiseSlaWarning(
                task_id=task_id,
                stage=pick(["sign", "contact", "reply"]),
                level=pick(["yellow", "red"]),
            )
        case "urge":
            return cmd.UrgeCase(level="reminder", note="快")
        case "callback":
            return cmd.RecordCallback(solved=pick(["solved", "unsolved"]), satisfaction="basic")
        case "reopen":
            return cmd.ReopenCase(
                reason="r", assignments=[assignment(f"r{fresh}", pick(DEPARTMENTS))]
            )
        case "park":
            return cmd.ParkCase(plan="p", review_on=date(2026, 6, 1))
        case "unpark":
            return cmd.UnparkCase()
        case "merge":
            return cmd.MergeCase(into="other-case")
        case "close":
            return cmd.CloseCase()
        case "answer":
            return cmd.AnswerCase(answer="a")
        case _:
            return cmd.MarkUnroutable(reason="no rule matched")


class RandomCase:
    """A case driven by random commands through the real aggregate: only legal events land."""

    def __init__(self, store: EventStore, case_id: str) -> None:
        self.store = store
        self.case_id = case_id
        self.state: CaseState | None = None
        self.version = 0
        self.steps = 0

    def step(self, pick: Callable[[Sequence[Any]], Any]) -> None:
        self.steps += 1
        now = T0 + timedelta(minutes=self.steps)
        if self.state is None:
            command: Any = cmd.ReceiveCase(
                case_id=self.case_id, case_no=f"N-{self.case_id[-8:]}", channel="phone",
                category=pick(["water.outage", "road.pothole"]), description="随机",
                urgency="normal", location=ev.Location(address="a", grid="XYL-07", street="XYL"),
                received_at=now,
            )  # fmt: skip
        else:
            command = command_for(pick(ACTIONS), self.state, pick)
        try:
            events = decide(self.state, command, now)
        except DomainError:
            return
        if not events:
            return
        meta = Meta(actor="prop", role="dispatcher", command_id=uuid.uuid4().hex)
        self.store.append(self.case_id, events, expected_version=self.version, meta=meta, now=now)
        for event in events:
            self.state = evolve(self.state, event, now)
        self.version += len(events)


def checkpoint(engine: Engine, name: str) -> int:
    """Where projection ``name`` has read the log up to."""
    with engine.connect() as conn:
        return load_checkpoint(conn, f"projection:{name}")
