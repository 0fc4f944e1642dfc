"""The centre's side of the story: intake (受理), routing and manual dispatch (派单), direct
answers, duplicates merged, whistles (吹哨), callbacks (回访), reopening (重办) and closing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dispatch.catalogue import route
from dispatch.demo import scenario, texts
from dispatch.demo.agenda import CITY_APP, DISPATCHER, OPERATOR, street_officer
from dispatch.demo.departments import DepartmentWork
from dispatch.demo.hotspot import Focus
from dispatch.domain import commands as c
from dispatch.domain.case import CaseState, TaskState
from dispatch.domain.events import Rating
from dispatch.handlers import (
    CASE_ACTIONS,
    TASK_ACTIONS,
    CommandResult,
    Requested,
    SystemActor,
    load_case,
    new_case_id,
    routed_tasks,
)
from dispatch.handlers.bodies import (
    DepartmentIn,
    DispatchIn,
    EvaluationIn,
    MergeIn,
    ReasonIn,
    WhistleIn,
)

# A second complaint about the same thing in the same grid within a day: often the same.
DUPLICATE_WINDOW = timedelta(hours=24)
DUPLICATE_CHANCE = 0.3
WHISTLE_RATE = 0.35  # high enough that a small demo month has a few 双考核 ratings
WHISTLE_PRONE = ("city.building", "env.river", "property.", "housing.", "city.garbage")
WHISTLE_DEPARTMENTS = ("city", "housing", "envir", "roads", "market", "traffic")
PARK_RATE = 0.12
PARKABLE = ("city.building", "property.fund", "housing.arrears")
REOPEN_RATE = 0.45
# 双考核: most replied summoned tasks are rated by the street that blew the whistle.
EVALUATION_RATE = 0.75
RATINGS: tuple[Rating, ...] = ("satisfied", "basic", "unsatisfied")
RATING_WEIGHTS = (60, 28, 12)
# (satisfaction, solved) of a callback, with weights: most citizens are content.
CALLBACKS = (
    (("satisfied", "solved"), 64),
    (("satisfied", "partly"), 6),
    (("basic", "partly"), 9),
    (("basic", "solved"), 5),
    (("unsatisfied", "unsolved"), 8),
    (("unsatisfied", "partly"), 3),
    (("none", "solved"), 5),
)


def new_task_ids(result: CommandResult) -> list[str]:
    return [e.task_id for e in result.events if e.type == "CaseDispatched"]  # type: ignore[attr-defined]


class Story(DepartmentWork):
    """A month of one district's 12345 centre, one agenda item at a time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recent: dict[tuple[str, str | None], tuple[str, datetime]] = {}

    # -- intake ----------------------------------------------------------------------------

    def intake(self, focus: Focus | None = None) -> None:
        if focus is None:
            call = scenario.call(self.rng, self.catalogue)
        else:
            call = scenario.call(
                self.rng, self.catalogue, grid_code=focus.grid, category=focus.category
            )
        actor, role = self._intake_actor(call)
        result = self.attempt(
            "receive", lambda: self.send(new_case_id(), call.complaint, actor, role)
        )
        if result is None:
            return
        case_id, now = result.case_id, self.clock.now
        if call.answer_directly:
            self.agenda.at(self.in_minutes(2, 8), self.answer, case_id)
            return
        key = (call.complaint.category, result.state.location.grid)
        earlier = self.recent.get(key)
        self.recent[key] = (case_id, now)
        if earlier and now - earlier[1] < DUPLICATE_WINDOW and self.chance(DUPLICATE_CHANCE):
            self.agenda.at(self.in_minutes(3, 20), self.merge, case_id, earlier[0])
            return
        self.agenda.at(self.in_minutes(0.2, 1.5), self.route, case_id)

    def _intake_actor(self, call: scenario.Call) -> tuple[SystemActor, str]:
        if call.complaint.channel == "patrol" and call.street:
            return street_officer(call.street), "street"
        if call.complaint.channel == "open311":
            return CITY_APP, "open311"
        return OPERATOR, "operator"

    def answer(self, case_id: str) -> None:
        command = c.AnswerCase(answer=self.rng.choice(texts.ANSWERS))
        if self._centre("answer", case_id, command) is None:
            return
        if self.chance(0.4):
            self.agenda.at(self.in_hours(4, 30), self.callback, case_id)
        else:
            self.agenda.at(self.in_hours(1, 30), self.close, case_id)

    def merge(self, case_id: str, into: str) -> None:
        result = self.attempt(
            "merge",
            lambda: self.send(
                case_id, Requested(CASE_ACTIONS["merge"], MergeIn(into=into)), OPERATOR, "operator"
            ),
        )
        if result is not None:
            self.frozen.add(case_id)
        else:
            self.route(case_id)

    # -- routing and dispatch --------------------------------------------------------------

    def route(self, case_id: str) -> None:
        task_ids = routed_tasks(self.container.handling, case_id)
        state, _version = load_case(self.container.store, case_id)
        if not task_ids:
            self.tally["unroutable"] += 1
            later = self.in_minutes(10, 120)
            self.agenda.at(later, self.dispatch_by_hand, case_id, None, None)
            return
        self.tally["routed"] += 1
        self.take_on(state, task_ids)
        self._maybe_later(state)

    def dispatch_by_hand(self, case_id: str, avoid: str | None, reason: str | None) -> None:
        state, _version = load_case(self.container.store, case_id)
        department = self._department_for(state, avoid, elsewhere=reason == "territory")
        result = self.attempt(
            "dispatch",
            lambda: self.send(
                case_id,
                Requested(
                    CASE_ACTIONS["dispatch"],
                    DispatchIn(departments=[DepartmentIn(code=department, role="lead")]),
                ),
                DISPATCHER,
                "dispatcher",
            ),
        )
        if result is not None:
            self.withdrawn.update(
                e.task_id  # type: ignore[attr-defined]
                for e in result.events
                if e.type == "TaskCancelled"
            )
            self.take_on(result.state, new_task_ids(result))

    def redispatch_after_return(self, case_id: str, task: TaskState, reason: str) -> None:
        if task.role == "lead":
            later = self.in_minutes(10, 90)
            self.agenda.at(later, self.dispatch_by_hand, case_id, task.department, reason)

    def _department_for(self, state: CaseState, avoid: str | None, *, elsewhere: bool) -> str:
        """Who the dispatcher picks: the rules' answer, else the street's own office; after
        a return for territory (属地不符), the other street's office first."""
        street = self.catalogue.street(state.location.street or "")
        own = street.office if street else None
        others = [s.office for s in self.catalogue.streets if s.office != own]
        decision = route(self.catalogue, state.category, state.location.grid, state.location.street)
        choices = [*others, decision.lead, own] if elsewhere else [decision.lead, own, *others]
        for choice in choices:
            if choice and choice != avoid and not choice.startswith("@"):
                return choice
        return self.rng.choice([s.office for s in self.catalogue.streets])

    def _maybe_later(self, state: CaseState) -> None:
        street = state.location.street
        if street and state.category.startswith(WHISTLE_PRONE) and self.chance(WHISTLE_RATE):
            when = self.in_hours(3, 48)
            self.agenda.at(when, self.blow_whistle, state.case_id, street)
        if state.category.startswith(PARKABLE) and self.chance(PARK_RATE):
            when = self.in_hours(3 * 24, 9 * 24)
            self.agenda.at(when, self.park, state.case_id)

    def blow_whistle(self, case_id: str, street: str) -> None:
        state, _version = load_case(self.container.store, case_id)
        busy = {t.department for t in state.open_tasks}
        free = [d for d in WHISTLE_DEPARTMENTS if d not in busy]
        summoned = self.rng.sample(free, k=min(len(free), self.rng.choice((2, 2, 3))))
        result = self.attempt(
            "whistle",
            lambda: self.send(
                case_id,
                Requested(
                    CASE_ACTIONS["whistle"],
                    WhistleIn(
                        departments=summoned,
                        reason=self.rng.choice(texts.WHISTLE_REASONS),
                        report_within=f"{self.rng.choice((2, 4, 24))}h",
                    ),
                ),
                street_officer(street),
                "street",
            ),
        )
        if result is not None:
            self.take_on(result.state, new_task_ids(result))

    def after_summoned_task_replied(self, state: CaseState, task_id: str) -> None:
        whistle_id = state.tasks[task_id].whistle_id
        street = next((w.street for w in state.whistles if w.whistle_id == whistle_id), None)
        if street is not None and self.chance(EVALUATION_RATE):
            self.agenda.at(self.in_hours(2, 30), self.evaluate, task_id, street)

    def evaluate(self, task_id: str, street: str) -> None:
        rating = self.rng.choices(RATINGS, weights=RATING_WEIGHTS)[0]
        body = EvaluationIn(rating=rating, note=self.rng.choice(texts.EVALUATION_NOTES[rating]))
        self.attempt(
            "evaluation",
            lambda: self.send(
                task_id,
                Requested(TASK_ACTIONS["evaluation"], body),
                street_officer(street),
                "street",
            ),
        )

    def park(self, case_id: str) -> None:
        review = self.clock.now.astimezone(self.catalogue.zone).date() + timedelta(days=30)
        command = c.ParkCase(plan=self.rng.choice(texts.PARK_PLANS), review_on=review)
        if self._centre("park", case_id, command, actor=DISPATCHER) is not None:
            self.frozen.add(case_id)

    # -- callbacks, reopening, closing -----------------------------------------------------

    def after_case_replied(self, case_id: str) -> None:
        later = self.in_hours(3, 40)
        self.agenda.at(later, self.callback, case_id)

    def callback(self, case_id: str) -> None:
        outcomes, weights = zip(*CALLBACKS, strict=True)
        satisfaction, solved = self.rng.choices(outcomes, weights=weights)[0]
        command = c.RecordCallback(
            solved=solved, satisfaction=satisfaction, note=texts.CALLBACK_NOTES[satisfaction]
        )
        result = self._centre("callback", case_id, command)
        if result is None:
            return
        unhappy = satisfaction == "unsatisfied" and solved == "unsolved"
        if unhappy and result.state.reopen_count == 0 and self.chance(REOPEN_RATE):
            self.agenda.at(self.in_hours(1, 8), self.reopen, case_id)
        else:
            self.agenda.at(self.in_hours(0.3, 12), self.close, case_id)

    def reopen(self, case_id: str) -> None:
        result = self.attempt(
            "reopen",
            lambda: self.send(
                case_id,
                Requested(
                    CASE_ACTIONS["reopen"], ReasonIn(reason=self.rng.choice(texts.REOPEN_REASONS))
                ),
                DISPATCHER,
                "dispatcher",
            ),
        )
        if result is not None:
            self.take_on(result.state, new_task_ids(result))

    def close(self, case_id: str) -> None:
        self._centre("close", case_id, c.CloseCase())

    def _centre(
        self, what: str, case_id: str, command: object, *, actor: SystemActor = OPERATOR
    ) -> CommandResult | None:
        role = next(iter(actor.roles))
        return self.attempt(what, lambda: self.send(case_id, command, actor, role))
