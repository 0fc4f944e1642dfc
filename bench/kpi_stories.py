"""One case's events, generated forward in time: what a 12345 hotline sees (benchmark data).

Most cases run their course: routed to one of 40 departments (a few busy ones, many quiet
ones), sometimes with an assisting department; signed, contacted and replied mostly in time
and sometimes late, with SLA warnings; returned and redispatched; extended; called back
(solved / partly / unsolved, satisfied … unsatisfied); closed; now and then reopened, merged
or answered directly.

A recent case may instead stall where real ones do (``STALLS``): never signed, signed and
never replied, a return or an extension awaiting a ruling, returned and not yet dispatched
again, unroutable, replied and not called back, called back and not closed, reopened with no
new task, parked (挂账). The older the case the rarer the stall (``stall_share``), so the
benchmark's "now" finds most of the year closed and a few thousand cases on each worklist at
a million cases a year, as a centre's desk does — the lists are not trivially empty.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.domain import events as ev
from events import Event

BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 11, 1, tzinfo=BEIJING)
END = datetime(2026, 11, 1, tzinfo=BEIJING)  # the benchmark's "now": a year of cases before it
DEPARTMENTS = [f"dept-{i:02d}" for i in range(40)]
DEPARTMENT_WEIGHTS = [1 / (i + 1) ** 0.8 for i in range(40)]
CATEGORIES = [f"cat-{i:02d}" for i in range(30)]
CATEGORY_WEIGHTS = [1 / (i + 1) ** 0.6 for i in range(30)]
GRIDS = 300  # grid g lies in street g % 20
STREETS = 20
NATURES = (("complaint", 55), ("help", 20), ("consult", 10), ("report", 10), ("suggestion", 5))
URGENCIES = (("normal", 94), ("urgent", 5), ("emergency", 1))
CHANNELS = (("phone", 80), ("app", 8), ("wechat", 7), ("web", 5))
# What callers say; the case list's ``q`` finds a word in about one case in ten.
DESCRIPTIONS = (
    "小区门口路灯不亮，晚上出行不便",
    "人行道井盖松动，有安全隐患",
    "夜间施工噪音扰民，影响休息",
    "垃圾清运不及时，异味明显",
    "供水管道漏水，路面积水",
    "占道停车堵塞消防通道",
    "餐馆油烟直排扰民",
    "绿化带树木倒伏需要清理",
    "暖气不热，室温过低",
    "电梯长期故障，物业不处理",
)
POLICIES = [  # (share, sign, contact, reply)
    (0.70, timedelta(hours=24), timedelta(hours=48), timedelta(days=7)),
    (0.25, timedelta(hours=2), timedelta(hours=4), timedelta(hours=24)),
    (0.05, timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2)),
]
# Where a stalled case stops, and how often relative to the others.
STALLS = (
    ("unsigned", 2.0),  # 待签收, and 超期 once the sign deadline passes
    ("unreplied", 3.0),  # 待办理, 超期
    ("return_pending", 1.0),  # 待审核
    ("extension_pending", 1.0),  # 待审核 and 待办理
    ("returned", 1.0),  # 待派单
    ("unroutable", 1.0),  # 待派单
    ("uncalled", 2.0),  # 待回访
    ("unclosed", 1.0),  # 待结案
    ("reopened", 0.5),  # 待派单
    ("parked", 0.5),  # 挂账到期 once its review day has come
)
STALL_SHARE = 0.3  # of the cases received just before "now"
STALL_HALF_LIFE = timedelta(days=14)  # … half as many a fortnight earlier
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

Step = tuple[datetime, Event, str]  # when, what, who (liaison, operator, dispatcher, system)


def stall_share(received: datetime) -> float:
    """How likely a case received then is still stuck somewhere at ``END``."""
    age = max(END - received, timedelta(0))
    return STALL_SHARE * 0.5 ** (age / STALL_HALF_LIFE)


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [weight for _, weight in weighted])[0]


class Story:
    """One case's events, generated forward in time."""

    def __init__(self, rng: random.Random, case_id: str, number: int, received: datetime) -> None:
        self.rng, self.case_id, self.steps = rng, case_id, []
        self.received = received
        self.tasks = 0
        grid = rng.randrange(GRIDS)
        self.location = ev.Location(
            address=f"西一路 {number % 997} 号", lat=34.27, lon=108.95,
            grid=f"grid-{grid:03d}", street=f"st-{grid % STREETS:02d}",
        )  # fmt: skip
        share = rng.random()
        self.policy = POLICIES[0] if share < 0.70 else POLICIES[1] if share < 0.95 else POLICIES[2]
        self.stall = pick(rng, STALLS) if rng.random() < stall_share(received) else None

    def add(self, at: datetime, event: Event, who: str) -> datetime:
        self.steps.append((at, event, who))
        return at

    def department(self, besides: str | None = None) -> str:
        while True:
            code = self.rng.choices(DEPARTMENTS, DEPARTMENT_WEIGHTS)[0]
            if code != besides:
                return code

    def late(self, share_on_time: float, start: datetime, deadline: datetime) -> datetime:
        """A moment before the deadline (mostly), or after it."""
        span = max(deadline - start, MINUTE)
        if self.rng.random() < share_on_time:
            return start + span * self.rng.uniform(0.05, 0.95)
        return deadline + span * self.rng.uniform(0.05, 1.0)

    def warn(self, task: dict[str, Any], stage: str, deadline: datetime) -> None:
        """The SLA timers' yellow and red warnings of a step not done by its deadline."""
        yellow = task["at"] + (deadline - task["at"]) * 0.8
        for when, level in ((yellow, "yellow"), (deadline, "red")):
            warning = ev.SlaWarningRaised(
                task_id=task["id"], stage=stage, level=level, deadline=deadline
            )  # type: ignore[arg-type]
            self.add(when, warning, "system")

    def dispatch(self, at: datetime, department: str, role: str) -> dict[str, Any]:
        self.tasks += 1
        _, sign, contact, reply = self.policy
        task = {
            "id": f"{self.case_id}-{self.tasks}", "department": department, "at": at,
            "sign_by": at + sign, "contact_by": at + contact, "reply_by": at + reply,
        }  # fmt: skip
        deadlines = ev.Deadlines(sign_by=at + sign, contact_by=at + contact, reply_by=at + reply)
        self.add(at, ev.CaseDispatched(
            task_id=task["id"], department=department, role=role,  # type: ignore[arg-type]
            rule_id="R-bench", catalogue_version=1, policy="general", warn_at=0.8,
            max_extension="15wd", deadlines=deadlines, calendar_version="bench",
        ), "system")  # fmt: skip
        return task

    def work(self, task: dict[str, Any], stall: str | None = None) -> datetime | None:
        """Sign, contact, maybe progress and an extension, then reply; ``None`` where the
        task stalls (it never replies)."""
        rng, tid = self.rng, task["id"]
        if stall == "unsigned":
            self.warn(task, "sign", task["sign_by"])
            return None
        signed = self.late(0.9, task["at"], task["sign_by"])
        if signed > task["sign_by"]:
            self.warn(task, "sign", task["sign_by"])
        self.add(signed, ev.TaskSigned(task_id=tid), "liaison")
        contacted = max(self.late(0.85, signed, task["contact_by"]), signed + MINUTE)
        self.add(contacted, ev.CitizenContacted(task_id=tid, note="电话联系诉求人"), "liaison")
        reply_by = task["reply_by"]
        if rng.random() < 0.3:
            self.add(
                contacted + HOUR, ev.ProgressNoted(task_id=tid, note="已安排现场查看"), "liaison"
            )
        if stall == "parked":
            self.park(contacted + rng.uniform(1, 48) * HOUR)
            return None
        if stall == "unreplied":
            self.warn(task, "reply", reply_by)
            return None
        if stall == "extension_pending" or rng.random() < 0.1:
            asked = contacted + 2 * HOUR
            reply_by = reply_by + 5 * DAY
            self.add(
                asked,
                ev.ExtensionRequested(task_id=tid, reply_by=reply_by, reason="需施工"),
                "liaison",
            )
            if stall == "extension_pending":
                return None
            self.add(
                asked + 2 * HOUR, ev.ExtensionApproved(task_id=tid, reply_by=reply_by), "dispatcher"
            )
        replied = max(self.late(0.85, contacted, reply_by), contacted + 3 * HOUR)
        return self.add(replied, ev.TaskReplied(task_id=tid, resolution="已处理完毕"), "liaison")

    def park(self, at: datetime) -> None:
        """挂账: the dispatcher parks the case until a review day; the timers raise the
        review when that day comes."""
        review_on = (at + self.rng.uniform(3, 40) * DAY).astimezone(BEIJING).date()
        self.add(at, ev.CaseParked(plan="列入年度改造计划", review_on=review_on), "dispatcher")
        due = datetime.combine(review_on, time(8), tzinfo=BEIJING)
        self.add(due, ev.CaseParkReviewDue(review_on=review_on), "system")

    def close(self, after: datetime, stall: str | None = None) -> datetime | None:
        rng = self.rng
        at = after + rng.uniform(2, 48) * HOUR
        if stall == "uncalled":
            return None
        if stall == "unclosed" or rng.random() < 0.9:
            solved = pick(rng, (("solved", 75), ("partly", 15), ("unsolved", 10)))
            satisfied = pick(
                rng, (("satisfied", 60), ("basic", 25), ("unsatisfied", 10), ("none", 5))
            )
            self.add(at, ev.CallbackRecorded(solved=solved, satisfaction=satisfied), "operator")  # type: ignore[arg-type]
        if stall == "unclosed":
            return None
        return self.add(at + 10 * MINUTE, ev.CaseClosed(), "dispatcher")

    def receive(self) -> datetime:
        rng, t = self.rng, self.received
        self.add(t, ev.CaseReceived(
            case_no=f"SW{self.case_id[:10]}", channel=pick(rng, CHANNELS),  # type: ignore[arg-type]
            nature=pick(rng, NATURES), category=rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],  # type: ignore[arg-type]
            description=rng.choice(DESCRIPTIONS), urgency=pick(rng, URGENCIES),  # type: ignore[arg-type]
            location=self.location, received_at=t.astimezone(UTC),
        ), "operator")  # fmt: skip
        return t

    def tell(self) -> list[Step]:
        rng, stall = self.rng, self.stall
        t = self.receive()
        if rng.random() < 0.03:
            self.add(t + 5 * MINUTE, ev.CaseAnswered(answer="已直接答复政策咨询"), "operator")
            return self.steps
        t += rng.uniform(2, 60) * MINUTE
        if stall == "unroutable":
            candidate = ev.RoutingCandidate(rule_id="R-bench", matched=False, reason="网格未覆盖")
            self.add(t, ev.CaseUnroutable(
                reason="no rule matches", catalogue_version=1, candidates=(candidate,)
            ), "system")  # fmt: skip
            return self.steps
        lead = self.dispatch(t, self.department(), "lead")
        tasks = [lead]
        if stall is None and rng.random() < 0.15:
            tasks.append(self.dispatch(t + MINUTE, self.department(), "assist"))
        if stall is None and rng.random() < 0.02:
            at = t + rng.uniform(10, 180) * MINUTE
            for task in tasks:
                self.add(at, ev.TaskCancelled(task_id=task["id"], reason="merged"), "dispatcher")
            self.add(at + MINUTE, ev.CaseMerged(into=f"{self.case_id}-original"), "dispatcher")
            return self.steps
        if stall in ("return_pending", "returned") or rng.random() < 0.05:
            asked = lead["at"] + (lead["sign_by"] - lead["at"]) * rng.uniform(0.1, 0.6)
            self.add(
                asked,
                ev.TaskReturnRequested(task_id=lead["id"], reason="territory", basis="不在辖区"),
                "liaison",
            )
            if stall == "return_pending":
                return self.steps
            self.add(asked + 30 * MINUTE, ev.TaskReturnApproved(task_id=lead["id"]), "dispatcher")
            if stall == "returned":
                return self.steps
            tasks[0] = self.dispatch(
                asked + 45 * MINUTE, self.department(besides=lead["department"]), "lead"
            )
        done = [self.work(task, stall if task is tasks[0] else None) for task in tasks]
        if None in done:
            return self.steps
        closed = self.close(max(d for d in done if d is not None), stall)
        if closed is None:
            return self.steps
        if stall == "reopened" or rng.random() < 0.04:
            reopened = self.add(
                closed + rng.uniform(1, 5) * DAY,
                ev.CaseReopened(reason="群众反映未解决"),
                "dispatcher",
            )
            if stall == "reopened":
                return self.steps
            again = self.dispatch(reopened + 30 * MINUTE, self.department(), "lead")
            replied = self.work(again)
            if replied is not None:
                self.close(replied)
        return self.steps
