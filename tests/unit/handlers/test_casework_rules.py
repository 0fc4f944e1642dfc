"""§8.2 and §8.5 through the handlers, without I/O: intake fields, answering and recalling
before a department signs, Idempotency-Key reuse, merge targets, the close override and the
routing explanation kept in CaseDispatched.

A case here is a pothole on 西一路 (grid XYL-01), routed by the sample catalogue: task ``-1`` is
the roads department's (lead), ``-2`` the street office's.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from fakes import FakeLog, fake_handling, person

from dispatch.domain import events as ev
from dispatch.domain.case import DomainError
from dispatch.handlers import (
    CASE_ACTIONS,
    TASK_ACTIONS,
    Complaint,
    Handling,
    Issuer,
    Requested,
    handle,
    load_case,
    new_case_id,
    routed_tasks,
)
from dispatch.handlers.bodies import (
    AnswerIn,
    CallbackIn,
    CloseIn,
    Empty,
    MergeIn,
    RecallIn,
    ReplyIn,
)
from dispatch.handlers.errors import IdempotencyKeyReused

OPERATOR = Issuer(actor=person("operator"), role="operator")
DISPATCHER = Issuer(actor=person("dispatcher"), role="dispatcher")
ROADS = Issuer(actor=person("liaison", department="roads"), role="liaison")


def pothole(**changes: object) -> Complaint:
    complaint = Complaint(
        channel="phone",
        category="road.pothole",
        description="路面有坑",
        urgency="normal",
        grid="XYL-01",
        reporter_phone="13912345678",
    )
    return replace(complaint, **changes)  # type: ignore[arg-type]


def received_case(deps: Handling, **changes: object) -> str:
    return handle(deps, new_case_id(), pothole(**changes), OPERATOR).case_id


def routed_case(deps: Handling) -> str:
    case_id = received_case(deps)
    assert routed_tasks(deps, case_id) == [f"{case_id}-1", f"{case_id}-2"]
    return case_id


def act(deps: Handling, case_id: str, path: str, body: object, issuer: Issuer = DISPATCHER):
    return handle(deps, case_id, Requested(CASE_ACTIONS[path], body), issuer)


def sign(deps: Handling, task_id: str) -> None:
    handle(deps, task_id, Requested(TASK_ACTIONS["sign"], Empty()), ROADS)


def replied_case(deps: Handling) -> str:
    """Routed, and both tasks replied (the street office's through its own liaison)."""
    case_id = routed_case(deps)
    for task_id, department in ((f"{case_id}-1", "roads"), (f"{case_id}-2", "xyl-office")):
        liaison = Issuer(actor=person("liaison", department=department), role="liaison")
        handle(deps, task_id, Requested(TASK_ACTIONS["sign"], Empty()), liaison)
        reply = Requested(TASK_ACTIONS["reply"], ReplyIn(resolution="已修复"))
        handle(deps, task_id, reply, liaison)
    return case_id


# -- intake -----------------------------------------------------------------------------------


def test_intake_records_the_nature_and_a_case_without_one_is_a_complaint() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    consult = received_case(deps, nature="consult")
    plain = received_case(deps)

    assert load_case(log, consult)[0].nature == "consult"
    assert load_case(log, plain)[0].nature == "complaint"


def test_a_confidential_reporter_is_kept_confidential_in_the_vault() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = received_case(deps, reporter_confidential=True)

    ref = load_case(log, case_id)[0].reporter_ref
    assert ref is not None
    assert log.vault[ref] == {"name": None, "phone": "13912345678", "confidential": True}


def test_an_answer_at_intake_creates_an_answered_case_that_is_never_routed() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = received_case(deps, nature="consult", answer="停水通知已在官网发布")

    assert log.events(case_id) == ["CaseReceived", "CaseAnswered"]
    assert load_case(log, case_id)[0].status == "answered"
    # The routing job may run anyway (the relay sees every CaseReceived): it does nothing.
    assert routed_tasks(deps, case_id) == []
    assert "CaseDispatched" not in log.events(case_id)


def test_an_idempotency_key_reused_with_another_body_is_refused() -> None:
    deps = fake_handling()
    keyed = Issuer(actor=OPERATOR.actor, role="operator", command_id="key-7")
    first = handle(deps, new_case_id(), pothole(), keyed)

    again = handle(deps, new_case_id(), pothole(), keyed)
    assert (again.case_id, again.duplicate) == (first.case_id, True)
    with pytest.raises(IdempotencyKeyReused) as refused:
        handle(deps, new_case_id(), pothole(description="另一个坑"), keyed)
    assert refused.value.code == "idempotency_key_reused"
    assert refused.value.status == 422


# -- answering and recalling before a department signs -------------------------------------


def test_answering_a_dispatched_case_cancels_its_unsigned_tasks() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = routed_case(deps)

    result = act(deps, case_id, "answer", AnswerIn(answer="已电话解释"), OPERATOR)

    assert [e.type for e in result.events] == ["TaskCancelled", "TaskCancelled", "CaseAnswered"]
    assert result.state.status == "answered"
    assert result.state.open_tasks == []


def test_the_centre_cannot_answer_once_a_department_has_signed() -> None:
    deps = fake_handling()
    case_id = routed_case(deps)
    sign(deps, f"{case_id}-1")

    with pytest.raises(DomainError) as refused:
        act(deps, case_id, "answer", AnswerIn(answer="x"), OPERATOR)
    assert refused.value.code == "task_already_signed"
    assert refused.value.facts["departments"] == ["roads"]


def test_a_recalled_case_is_received_again_with_no_live_task() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = routed_case(deps)

    result = act(deps, case_id, "recall", RecallIn(reason="派错了"))

    assert [e.type for e in result.events] == ["TaskCancelled", "TaskCancelled"]
    assert all(
        isinstance(e, ev.TaskCancelled) and e.reason == "recalled: 派错了" for e in result.events
    )
    state = load_case(log, case_id)[0]
    assert state.status == "received"
    assert [t for t in state.tasks.values() if t.is_active] == []
    # Nor does the router take it back: the dispatcher decides now.
    assert routed_tasks(deps, case_id) == [f"{case_id}-1", f"{case_id}-2"]
    assert log.events(case_id)[-1] == "TaskCancelled"


def test_a_case_cannot_be_recalled_once_a_department_has_signed() -> None:
    deps = fake_handling()
    case_id = routed_case(deps)
    sign(deps, f"{case_id}-1")

    with pytest.raises(DomainError) as refused:
        act(deps, case_id, "recall", RecallIn())
    assert refused.value.code == "task_already_signed"


def test_a_case_with_no_task_out_has_nothing_to_recall() -> None:
    deps = fake_handling()
    case_id = received_case(deps)

    with pytest.raises(DomainError) as refused:
        act(deps, case_id, "recall", RecallIn())
    assert refused.value.code == "nothing_to_recall"


# -- merge --------------------------------------------------------------------------------------


def test_merging_back_into_a_merged_case_is_refused_so_merges_never_loop() -> None:
    deps = fake_handling()
    a, b = received_case(deps), received_case(deps)
    act(deps, a, "merge", MergeIn(into=b), OPERATOR)

    with pytest.raises(DomainError) as refused:
        act(deps, b, "merge", MergeIn(into=a), OPERATOR)
    assert refused.value.code == "merge_target_merged"


def test_a_duplicate_cannot_be_merged_into_a_closed_case() -> None:
    deps = fake_handling()
    target = received_case(deps, answer="已答复")
    act(deps, target, "close", CloseIn(), OPERATOR)
    duplicate = received_case(deps)

    with pytest.raises(DomainError) as refused:
        act(deps, duplicate, "merge", MergeIn(into=target), OPERATOR)
    assert refused.value.code == "merge_target_closed"


def test_a_duplicate_cannot_be_merged_into_an_answered_case() -> None:
    deps = fake_handling()
    target = received_case(deps, answer="已答复")
    duplicate = received_case(deps)

    with pytest.raises(DomainError) as refused:
        act(deps, duplicate, "merge", MergeIn(into=target), OPERATOR)
    assert refused.value.code == "merge_target_closed"


# -- close after an unsatisfied callback -------------------------------------------------------


def test_closing_after_an_unsatisfied_callback_needs_an_override_reason() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = replied_case(deps)
    verdict = CallbackIn(solved="unsolved", satisfaction="unsatisfied")
    act(deps, case_id, "callback", verdict, OPERATOR)

    with pytest.raises(DomainError) as refused:
        act(deps, case_id, "close", CloseIn(), OPERATOR)
    assert refused.value.code == "callback_unsatisfied"

    reason = "诉求超出政策范围，已解释"
    closed = act(deps, case_id, "close", CloseIn(override_reason=reason), OPERATOR)
    assert closed.events == [ev.CaseClosed(note=None, override_reason=reason)]


def test_closing_after_a_satisfied_callback_needs_no_reason() -> None:
    deps = fake_handling()
    case_id = replied_case(deps)
    act(deps, case_id, "callback", CallbackIn(solved="solved", satisfaction="basic"), OPERATOR)

    assert act(deps, case_id, "close", CloseIn(), OPERATOR).state.status == "closed"


# -- the routing explanation ---------------------------------------------------------------------


def test_a_routed_task_keeps_the_rule_and_every_candidate_weighed() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = routed_case(deps)

    dispatched = [e for e, _at in _decoded(log, case_id) if isinstance(e, ev.CaseDispatched)]
    lead = dispatched[0]
    assert lead.rule_id is not None
    matched = [c for c in lead.candidates if c.matched]
    assert [c.rule_id for c in matched] == [lead.rule_id]
    assert all(c.reason for c in lead.candidates)


def test_an_unroutable_case_keeps_every_rule_weighed_and_why_none_matched() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = received_case(deps, category="other.consult", grid=None)

    assert routed_tasks(deps, case_id) == []

    [unroutable] = [e for e, _at in _decoded(log, case_id) if isinstance(e, ev.CaseUnroutable)]
    assert unroutable.candidates, "the rules the router weighed"
    assert not any(c.matched for c in unroutable.candidates)
    assert all(c.reason for c in unroutable.candidates)


def _decoded(log: FakeLog, case_id: str) -> list[tuple[object, object]]:
    return [(ev.registry.decode(r), r.recorded_at) for r in log.read_stream(case_id)]
