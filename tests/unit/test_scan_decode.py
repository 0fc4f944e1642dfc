"""A replay's events (``events.scan``) decode exactly as the registry decodes stored rows,
upcasters included, straight from the JSON text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from test_registry import TaskReturnRequested, recorded, registry_with_upcasters

from dispatch.domain import events as ev
from dispatch.domain.events import registry as domain_registry
from events.scan import ScannedEvent, decode

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def scanned(type_name: str, schema_version: int, data: dict[str, Any]) -> ScannedEvent:
    return ScannedEvent.make(1, "s-1", 1, type_name, schema_version, json.dumps(data), AT)


def test_current_and_old_payloads_decode_as_the_registry_decodes_them() -> None:
    registry = registry_with_upcasters()
    for version, data in [
        (1, {"why": "not ours"}),
        (2, {"reason": "remit", "note": "n"}),
        (3, {"reason": "remit", "note": "n", "basis": "§3"}),
    ]:
        got = decode(registry, scanned(TaskReturnRequested.type, version, data))
        assert got == registry.decode(recorded(TaskReturnRequested.type, version, data))


def test_every_domain_event_decodes_from_text_as_from_its_dict() -> None:
    samples = [
        ev.CaseReceived(
            case_no="20260302-0000001", channel="phone", category="water.outage",
            description="停水", urgency="normal",
            location=ev.Location(address="西一路", lat=34.27, lon=108.95, grid="G", street="S"),
            received_at=AT,
        ),
        ev.CaseDispatched(
            task_id="t-1", department="water", role="lead", policy="general", warn_at=0.8,
            deadlines=ev.Deadlines(sign_by=AT, contact_by=AT, reply_by=AT),
            calendar_version="2026",
        ),
        ev.ExtensionApproved(task_id="t-1", reply_by=AT),
        ev.CaseParked(plan="等待施工", review_on=AT.date()),
        ev.CallbackRecorded(solved="partly", satisfaction="basic"),
    ]  # fmt: skip
    for event in samples:
        data = event.payload()
        text = scanned(event.type, event.schema_version, data)
        assert decode(domain_registry, text) == domain_registry.decode(
            recorded(event.type, event.schema_version, data)
        )
        assert decode(domain_registry, text) == event


def test_the_payload_is_parsed_only_when_asked_for() -> None:
    event = scanned("CaseClosed", 1, {"note": None})
    assert "_data" not in event.__dict__
    assert event.data == {"note": None}
    assert event.recorded_at == AT and event.position == 1
