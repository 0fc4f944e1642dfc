"""A whole case, as a 12345 centre lives it, told through the domain alone."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from builders import T0, assignment, receive_command

from dispatch.domain import commands as cmd
from dispatch.domain.case import (
    CaseState,
    CaseStatus,
    IllegalTransition,
    TaskStatus,
    decide,
    evolve,
    fold,
)
from events import Event


class Story:
    """Runs commands through decide → evolve, keeping the stream as a handler would."""

    def __init__(self) -> None:
        self.state: CaseState | None = None
        self.stream: list[tuple[Event, datetime]] = []
        self.now = T0

    def do(self, command: cmd.Command, after: timedelta = timedelta(minutes=30)) -> list[Event]:
        self.now += after
        events = decide(self.state, command, self.now)
        for event in events:
            self.state = evolve(self.state, event, self.now)
            self.stream.append((event, self.now))
        return events

    @property
    def case(self) -> CaseState:
        assert self.state is not None
        return self.state

    def types(self) -> list[str]:
        return [event.type for event, _ in self.stream]


def test_a_pothole_from_phone_call_to_closure() -> None:
    story = Story()
    intake = receive_command(case_id="case-story", category="road.pothole")
    roads = assignment("roads", "lead", "T-roads", rule_id="R-road")
    city = assignment("city", "assist", "T-city", rule_id="R-road")
    street = assignment("xyl-office", "assist", "T-xyl")

    story.do(intake, after=timedelta(0))
    assert story.case.status == CaseStatus.RECEIVED

    story.do(cmd.DispatchCase(assignments=[roads, city]))
    assert story.case.status == CaseStatus.DISPATCHED

    story.do(cmd.SignTask(task_id="T-roads"))
    assert story.case.status == CaseStatus.IN_PROGRESS

    story.do(cmd.RequestReturn(task_id="T-city", reason="territory", basis="路段属街道管辖"))
    story.do(cmd.ApproveReturn(task_id="T-city", note="同意，改派街道"))
    story.do(cmd.DispatchCase(assignments=[street]))
    story.do(cmd.RaiseSlaWarning(task_id="T-xyl", stage="sign", level="yellow"))
    story.do(cmd.RaiseSlaWarning(task_id="T-xyl", stage="sign", level="yellow"))  # timer re-run
    story.do(cmd.SignTask(task_id="T-xyl"))

    story.do(cmd.ContactCitizen(task_id="T-roads", note="已与市民电话沟通"))
    new_reply_by = roads.deadlines.reply_by + timedelta(days=5)
    story.do(
        cmd.RequestExtension(
            task_id="T-roads",
            reply_by=new_reply_by,
            reason="需等待沥青到货",
            latest_allowed=roads.deadlines.reply_by + timedelta(days=21),
        )
    )
    story.do(cmd.ApproveExtension(task_id="T-roads", note="同意延期"))
    story.do(
        cmd.NoteProgress(task_id="T-roads", note="材料已到，明日施工"), after=timedelta(days=3)
    )
    story.do(cmd.UrgeCase(level="reminder", note="市民再次来电", department="xyl-office"))
    story.do(cmd.ReplyTask(task_id="T-xyl", resolution="已设置警示标志"))
    assert story.case.status == CaseStatus.IN_PROGRESS
    story.do(cmd.ReplyTask(task_id="T-roads", resolution="坑已填平"))
    assert story.case.status == CaseStatus.REPLIED

    story.do(cmd.RecordCallback(solved="solved", satisfaction="satisfied"))
    story.do(cmd.CloseCase())

    case = story.case
    assert case.status == CaseStatus.CLOSED
    assert case.hops == 1
    assert case.tasks["T-roads"].deadlines.reply_by == new_reply_by
    assert case.tasks["T-city"].state == TaskStatus.RETURNED
    assert case.warnings == frozenset({("T-xyl", "sign", "yellow")})
    assert story.types() == [
        "CaseReceived",
        "CaseDispatched",
        "CaseDispatched",
        "TaskSigned",
        "TaskReturnRequested",
        "TaskReturnApproved",
        "CaseDispatched",
        "SlaWarningRaised",
        "TaskSigned",
        "CitizenContacted",
        "ExtensionRequested",
        "ExtensionApproved",
        "ProgressNoted",
        "CaseUrged",
        "TaskReplied",
        "TaskReplied",
        "CallbackRecorded",
        "CaseClosed",
    ]
    assert fold(story.stream) == case
    assert fold(story.stream, case_id="case-story").case_id == "case-story"  # type: ignore[union-attr]

    with pytest.raises(IllegalTransition, match="is closed, cannot callback; allowed next: reopen"):
        story.do(cmd.RecordCallback(solved="unsolved", satisfaction="unsatisfied"))
