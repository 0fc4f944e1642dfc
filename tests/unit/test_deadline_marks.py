"""A deadline reads ✓ only when the step was done by it: late steps say how late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.console.display import deadline_marks

H = timedelta(hours=1)
T0 = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)


def a_task(state: str, **done: datetime) -> dict[str, object]:
    deadlines = {"sign_by": T0 + 2 * H, "contact_by": T0 + 4 * H, "reply_by": T0 + 24 * H}
    return {"state": state, "deadlines": {k: v.isoformat() for k, v in deadlines.items()},
            **{k: v.isoformat() for k, v in done.items()}}  # fmt: skip


def verdicts(task: dict[str, object], now: datetime) -> dict[str, tuple[str, int | None]]:
    return {m["stage"]: (m["verdict"], m["late_by"]) for m in deadline_marks(task, now)}


def test_a_step_done_after_its_deadline_is_late_by_the_difference() -> None:
    task = a_task("replied", signed_at=T0 + H, contacted_at=T0 + 3 * H, replied_at=T0 + 27 * H)
    marks = verdicts(task, T0 + 30 * H)
    assert marks["sign"] == ("on_time", 0)
    assert marks["contact"] == ("on_time", 0)
    assert marks["reply"] == ("late", 3 * 3600)  # 迟了 3小时


def test_a_live_task_past_a_deadline_is_overdue_until_now() -> None:
    marks = verdicts(a_task("dispatched"), T0 + 5 * H)
    assert marks["sign"] == ("overdue", 3 * 3600)
    assert marks["contact"] == ("overdue", 3600)
    assert marks["reply"] == ("open", None)


def test_a_reply_without_contact_after_the_contact_deadline_is_missed() -> None:
    task = a_task("replied", signed_at=T0 + H, replied_at=T0 + 6 * H)
    assert verdicts(task, T0 + 7 * H)["contact"] == ("missed", 2 * 3600)


def test_a_task_that_left_before_a_deadline_shows_no_verdict_for_it() -> None:
    task = a_task("returned", signed_at=T0 + H)
    assert verdicts(task, T0 + 30 * H)["reply"] == ("none", None)
