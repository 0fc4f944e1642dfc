"""挂账到期 and the older shapes of the events §8.2/§8.5 changed, as domain rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

from builders import assignment, dispatched, given, received, then_state, when

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import CaseStatus
from dispatch.domain.kpi_formulas import KpiCounts, closure_rate
from dispatch.projections.kpi_rollup import outcome, task_part
from events import Event, RecordedEvent

REVIEW_ON = date(2026, 6, 1)


def parked_case() -> list[Event]:
    return [
        received(),
        dispatched(assignment()),
        ev.CaseParked(plan="纳入改造计划", review_on=REVIEW_ON),
    ]


def test_a_park_review_is_raised_once_per_parking() -> None:
    state = given(*parked_case())

    first = when(state, cmd.RaiseParkReviewDue(review_on=REVIEW_ON))
    assert first == [ev.CaseParkReviewDue(review_on=REVIEW_ON)]
    after = then_state(state, first)
    assert after.status == CaseStatus.PARKED and after.parking is not None
    assert after.parking.review_due
    assert when(after, cmd.RaiseParkReviewDue(review_on=REVIEW_ON)) == []


def test_a_stale_park_review_raises_nothing() -> None:
    unparked = given(*parked_case(), ev.CaseUnparked())
    assert when(unparked, cmd.RaiseParkReviewDue(review_on=REVIEW_ON)) == []

    reparked = given(
        *parked_case(), ev.CaseUnparked(), ev.CaseParked(plan="再议", review_on=date(2026, 9, 1))
    )
    assert when(reparked, cmd.RaiseParkReviewDue(review_on=REVIEW_ON)) == []


def test_a_parking_after_a_raised_review_can_be_reviewed_again() -> None:
    state = given(
        *parked_case(),
        ev.CaseParkReviewDue(review_on=REVIEW_ON),
        ev.CaseUnparked(),
        ev.CaseParked(plan="再议", review_on=date(2026, 9, 1)),
    )
    assert when(state, cmd.RaiseParkReviewDue(review_on=date(2026, 9, 1))) != []


def _stored(type_name: str, schema_version: int, data: dict[str, object]) -> RecordedEvent:
    return RecordedEvent(
        position=1,
        stream_id="case-old",
        version=1,
        type=type_name,
        schema_version=schema_version,
        data=data,
        meta={},
        recorded_at=datetime(2026, 1, 5, tzinfo=UTC),
        prev_hash="0" * 64,
        hash="f" * 64,
    )


def test_a_case_received_before_natures_were_asked_reads_as_a_complaint() -> None:
    data = received().payload()
    del data["nature"]

    event = ev.registry.decode(_stored("CaseReceived", 1, data))

    assert isinstance(event, ev.CaseReceived) and event.nature == "complaint"


def test_old_dispatches_and_closures_read_without_candidates_or_override() -> None:
    data = dispatched(assignment()).payload()
    del data["candidates"]
    old = ev.registry.decode(_stored("CaseDispatched", 1, data))
    assert isinstance(old, ev.CaseDispatched) and old.candidates == ()

    closed = ev.registry.decode(_stored("CaseClosed", 1, {"note": "ok"}))
    assert closed == ev.CaseClosed(note="ok", override_reason=None)


def test_an_old_unroutable_mark_reads_without_candidates() -> None:
    old = ev.registry.decode(
        _stored("CaseUnroutable", 1, {"reason": "no routing rule matches", "catalogue_version": 3})
    )
    assert old == ev.CaseUnroutable(
        reason="no routing rule matches", catalogue_version=3, candidates=()
    )


# -- parked cases and the KPI denominators ---------------------------------------------------


def _task_row(*, parked: bool) -> dict[str, object]:
    due = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "excluded_at": None,
        "case_parked": parked,
        "signed_at": None,
        "sign_by": due,
        "contacted_at": None,
        "contact_by": due,
        "replied_at": None,
        "reply_by": due,
        "returned_at": None,
        "cancelled_at": None,
        "street_rating": None,
    }


def test_a_parked_cases_overdue_task_counts_in_no_timeliness_rate() -> None:
    assert task_part(_task_row(parked=False))["due_sign"]
    parked = task_part(_task_row(parked=True))
    assert parked["dispatched"] == 1
    assert not any(parked.get(name) for name in ("due_sign", "due_contact", "due_reply"))


def test_a_parked_case_leaves_the_closure_denominator_while_parked() -> None:
    case = {
        "case_closed_at": None,
        "case_first_closed_at": None,
        "case_reopened_at": None,
        "callback_solved": None,
        "callback_satisfaction": None,
    }
    closed = dict(case, case_closed_at=datetime(2026, 1, 2, tzinfo=UTC), case_parked=False)
    counts = [outcome(closed), outcome(dict(case, case_parked=True))]
    totals = KpiCounts.of({k: sum(int(c.get(k, 0)) for c in counts) for k in counts[0]})

    assert (totals.received, totals.parked, totals.closed) == (2, 1, 1)
    assert closure_rate(totals) == 1.0
