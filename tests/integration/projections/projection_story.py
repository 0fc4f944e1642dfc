"""Case stories for projection tests: one case's events appended one command at a time.

Imported by name (``from projection_story import Story``): pytest puts this folder on ``sys.path``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from dispatch.domain import events as ev
from dispatch.projections.case_list import CaseListProjection
from events import Event, EventStore, Meta

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


def isolated_projection(tag: str, base: type[CaseListProjection] = CaseListProjection) -> Any:
    """The case list under its own checkpoint and tables (``case_list_<tag>…``)."""

    def define(self: Any, metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
        return base.define(self, metadata, f"_{tag}{suffix}")

    cls = type(f"Isolated{tag}", (base,), {"name": f"case_list_{tag}", "define": define})
    return cls()
