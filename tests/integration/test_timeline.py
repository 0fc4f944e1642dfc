"""The timeline shows each stage with its actor and how long it took, and who held the case."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.engine import Engine

from dispatch.catalogue import Calendar, WorkCalendar
from dispatch.domain import events as ev
from dispatch.queries.timeline import case_timeline
from events import EventStore, Meta

from worlds.case_story import HOUR, MINUTE, CaseStory

CALENDAR = WorkCalendar(Calendar(), "Asia/Shanghai")  # 09:00–12:00, 13:30–18:00


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-{text}+08:00")


@pytest.fixture
def story(engine: Engine, unique: str) -> CaseStory:
    """Returned by A for territory, redispatched to B, extended, replied, called back, closed."""
    case = CaseStory(EventStore(engine), category=f"cat-{unique}").received(at("02T09:00"))
    a = case.dispatched(at("02T09:30"), f"a-{unique}")
    case.signed(at("02T10:00"), a)
    case.return_requested(at("02T10:30"), a)
    case.return_approved(at("02T11:00"), a)
    b = case.dispatched(at("02T11:30"), f"b-{unique}")
    case.signed(at("02T13:00"), b)
    case.contacted(at("02T14:00"), b)
    extension = ev.ExtensionRequested(task_id=b, reply_by=at("09T18:00"), reason="需要施工")
    meta = Meta(actor="liaison-b", role="liaison", command_id=f"ext-{unique}")
    EventStore(engine).append(
        case.case_id, [extension], expected_version=case.version, meta=meta, now=at("02T15:00")
    )
    case.version += 1
    case.extension_approved(at("02T16:00"), b, reply_by=at("09T18:00"))
    case.replied(at("03T10:00"), b)
    case.callback(at("03T11:00"), "solved", "satisfied")
    case.closed(at("03T11:30"))
    return case


def test_each_stage_lasts_until_the_next_actor_moved(engine, story, unique) -> None:
    timeline = case_timeline(EventStore(engine), story.case_id, CALENDAR)

    assert timeline["hops"] == 2
    stages = [
        (s["stage"], s["department"], s["hop"], s["seconds"], s["working_seconds"])
        for s in timeline["stages"]
    ]
    a, b = f"a-{unique}", f"b-{unique}"
    assert stages == [
        ("received", None, None, 30 * 60, 30 * 60),
        ("dispatched", a, 1, 30 * 60, 30 * 60),
        ("signed", a, None, 30 * 60, 30 * 60),
        ("return_requested", a, None, 30 * 60, 30 * 60),
        ("returned", a, None, 30 * 60, 30 * 60),  # the centre took 30 min to redispatch
        ("dispatched", b, 2, 90 * 60, 30 * 60),  # the lunch break is not working time
        ("signed", b, None, 60 * 60, 30 * 60),
        ("contacted", b, None, 20 * 3600, 5 * 3600),  # overnight: 14–18 h and 9–10 h
        ("extension_requested", b, None, 3600, 3600),
        ("extension_approved", b, None, 0, 0),
        ("replied", b, None, 3600, 3600),
        ("callback", None, None, 30 * 60, 30 * 60),
        ("closed", None, None, None, None),
    ]


def test_stages_name_their_actor(engine, story) -> None:
    stages = case_timeline(EventStore(engine), story.case_id, CALENDAR)["stages"]
    actors = {s["stage"]: (s["actor"], s["actor_role"]) for s in stages}
    assert actors["received"] == ("op-1", "operator")
    assert actors["returned"] == ("disp-1", "dispatcher")
    assert actors["extension_requested"] == ("liaison-b", "liaison")


def test_holders_say_who_had_the_case_and_for_how_long(engine, story, unique) -> None:
    with engine.connect() as conn:
        holders = case_timeline(conn, story.case_id, CALENDAR)["holders"]
    assert [(h["holder"], h["seconds"]) for h in holders] == [
        ("centre", 30 * 60),
        (f"a-{unique}", 90 * 60),
        ("centre", 30 * 60),
        (f"b-{unique}", (22 * 60 + 30) * 60),
        ("centre", 90 * 60),
    ]


def test_an_open_stage_runs_until_now_when_now_is_given(engine, unique) -> None:
    # Years ahead, so this open task never shows among the real clock's overdue alerts.
    received = datetime.fromisoformat("2036-11-03T09:00+08:00")
    case = CaseStory(EventStore(engine), category=f"cat-{unique}").received(received)
    case.dispatched(received + MINUTE, f"a-{unique}")
    now = received + 2 * HOUR
    timeline = case_timeline(EventStore(engine), case.case_id, None, now=now)
    dispatched = timeline["stages"][-1]
    assert dispatched["ongoing"] is True
    assert dispatched["end"] is None
    assert dispatched["seconds"] == 2 * 3600 - 60
    assert dispatched["working_seconds"] is None  # no calendar given: clock time only
    assert timeline["working_time"] is False


def test_an_unknown_case_has_no_timeline(engine) -> None:
    assert case_timeline(EventStore(engine), "no-such-case") is None
