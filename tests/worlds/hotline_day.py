"""A hotline day in random moves, through the real handlers on the real store: calls come in,
the router and the dispatchers send them out, departments sign, return, ask for more time and
reply, the centre calls back, closes, reopens, parks, merges and urges, streets blow whistles,
and the clock moves on. For the worklist property test (``tests/integration/test_worklists.py``).

A move that is illegal where the case stands is refused by the domain and simply skipped: the
point is to reach every state the rules allow, not to script one path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Any

from fakes import FixedClock, person, sample_catalogue

from dispatch.domain.case import CaseState, DomainError
from dispatch.domain.case_state import CASE_ACTIONS as STATUS_MOVES
from dispatch.domain.case_state import TASK_TRANSITIONS
from dispatch.handlers import (
    CASE_ACTIONS,
    TASK_ACTIONS,
    ApplicationError,
    Complaint,
    Handling,
    Issuer,
    Requested,
    handle,
    load_case,
    new_case_id,
    routed_tasks,
)
from dispatch.handlers.case_numbers import StoredIntake
from events import EventStore

Pick = Callable[[Sequence[Any]], Any]

DEPARTMENTS = ("water", "roads", "city", "envir", "xyl-office", "clz-office")
STREETS = ("XYL", "CLZ")
CALLS = (  # (category, grid): routed to one or two departments, or to nobody
    ("road.pothole", "XYL-01"),
    ("city.stall", "CLZ-02"),
    ("env.smoke", "XYL-02"),
    ("water.outage", "CLZ-01"),
    ("other.consult", None),
)
URGENCIES = ("normal", "urgent", "emergency")
CASE_MOVES = (
    "route",
    "dispatch",
    "whistle",
    "answer",
    "callback",
    "close",
    "reopen",
    "park",
    "unpark",
    "merge",
    "recall",
    "urge",
)
TASK_MOVES = (
    "sign",
    "return",
    "return/approve",
    "return/reject",
    "contact",
    "extension",
    "extension/approve",
    "extension/deny",
    "progress",
    "reply",
)


def staff(role: str, **scope: str) -> Issuer:
    return Issuer(actor=person(role, **scope), role=role)


class HotlineDay:
    """Cases on ``store``, moved at random by ``step``; ``clock`` is moved by ``wait``."""

    def __init__(self, store: EventStore, clock: FixedClock) -> None:
        catalogue = (1, sample_catalogue())
        self.deps = Handling(
            log=store, clock=clock, catalogue_source=lambda: catalogue, intake=StoredIntake(store)
        )
        self.clock = clock
        self.case_ids: list[str] = []

    def call(self, category: str, grid: str | None, urgency: str = "normal") -> str:
        """An operator files a complaint; the router has not seen it yet."""
        complaint = Complaint(
            channel="phone", category=category, description="来电", urgency=urgency, grid=grid
        )
        case_id = handle(self.deps, new_case_id(), complaint, staff("operator")).case_id
        self.case_ids.append(case_id)
        return case_id

    def route(self, case_id: str) -> list[str]:
        """What the routing job does: the catalogue's tasks, or ``CaseUnroutable``."""
        return routed_tasks(self.deps, case_id)

    def wait(self, hours: int) -> None:
        self.clock.now += timedelta(hours=hours)

    def step(self, pick: Pick) -> str:
        """One move on a random recent case (or a new call); returns what was tried.

        Moves are drawn from what the domain's tables allow where the case and the task stand
        (plus the odd illegal one), so deep states — a return approved, a reopened round, a
        callback then a close — are reached in a few dozen steps."""
        if not self.case_ids or pick(range(6)) == 0:
            self.call(*pick(CALLS), urgency=pick(URGENCIES))
            return "call"
        case_id = pick(self.case_ids[-4:])
        state, _version = load_case(self.deps.log, case_id)
        tasks = sorted(state.tasks.values(), key=lambda t: t.task_id)
        if tasks and pick(range(3)) > 0:
            task = pick(tasks)
            allowed = [m for m in TASK_TRANSITIONS[task.state] if m in TASK_MOVES]
            move = pick(allowed or TASK_MOVES) if pick(range(8)) else pick(TASK_MOVES)
            self._try(lambda: self._task_move(move, task.task_id, task.department, pick))
            return f"{move} {task.task_id[-2:]}"
        allowed = ["route" if m == "unroutable" else m for m in STATUS_MOVES[state.status]]
        allowed = [m for m in allowed if m in CASE_MOVES]  # timer-raised ones are not moves
        move = pick(allowed or CASE_MOVES) if pick(range(8)) else pick(CASE_MOVES)
        self._try(lambda: self._case_move(move, case_id, state, pick))
        return move

    def _try(self, move: Callable[[], object]) -> None:
        with suppress(DomainError, ApplicationError):
            move()  # refused where the case stands: another move will come

    def _case_move(self, move: str, case_id: str, state: CaseState, pick: Pick) -> None:
        if move == "route":
            self.route(case_id)
            return
        who, body = self._case_body(move, case_id, state, pick)
        action = CASE_ACTIONS[move]
        handle(self.deps, case_id, Requested(action, action.body.model_validate(body)), who)

    def _case_body(
        self, move: str, case_id: str, state: CaseState, pick: Pick
    ) -> tuple[Issuer, dict[str, Any]]:
        today = self.clock.now.date()
        match move:
            case "dispatch":
                departments = [{"code": pick(DEPARTMENTS), "role": "lead"}]
                return staff("dispatcher"), {"departments": departments}
            case "whistle":
                street = state.location.street or pick(STREETS)
                body = {
                    "departments": [pick(DEPARTMENTS)],
                    "reason": "多次反映",
                    "report_within": "2h",
                }
                return staff("street", street=street), body
            case "answer":
                return staff("operator"), {"answer": "已答复"}
            case "callback":
                rated = {"solved": pick(("solved", "unsolved")), "satisfaction": "satisfied"}
                return staff("operator"), rated
            case "close":
                return staff("operator"), {}
            case "reopen":
                return staff("dispatcher"), {"reason": "市民不满意"}
            case "park":
                review_on: date = today + timedelta(days=pick((0, 1, 3)))
                return staff("dispatcher"), {"plan": "列入计划", "review_on": review_on.isoformat()}
            case "unpark":
                return staff("dispatcher"), {}
            case "recall":
                return staff("dispatcher"), {"reason": "派错了，收回重派"}
            case "merge":
                others = [c for c in self.case_ids if c != case_id]
                into = pick(others) if others else case_id
                return staff("operator"), {"into": into}
            case _:  # urge
                return staff("supervisor"), {"level": "reminder", "note": "请加快办理"}

    def _task_move(self, move: str, task_id: str, department: str, pick: Pick) -> None:
        liaison = staff("liaison", department=department)
        bodies: dict[str, tuple[Issuer, dict[str, Any]]] = {
            "sign": (liaison, {}),
            "return": (liaison, {"reason": "remit", "basis": "不属本部门职能"}),
            "contact": (liaison, {"note": "已电话联系"}),
            "extension": (liaison, {"reply_by": self._later(pick), "reason": "需协调"}),
            "progress": (liaison, {"note": "正在处理"}),
            "reply": (liaison, {"resolution": "已处理完毕"}),
        }
        who, body = bodies.get(move, (staff("dispatcher"), {}))
        action = TASK_ACTIONS[move]
        handle(self.deps, task_id, Requested(action, action.body.model_validate(body)), who)

    def _later(self, pick: Pick) -> str:
        moment: datetime = self.clock.now + timedelta(days=pick((3, 10)))
        return moment.isoformat()
