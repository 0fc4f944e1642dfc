"""A year of realistic 12345 cases, written straight into a scratch PostgreSQL ``events`` table.

Shared by ``bench/rebuild.py`` and ``bench/kpi_query.py``. Cases arrive from November 2025 to
October 2026 (Beijing time) and go through what a hotline sees: routed to one of 40
departments (a few busy ones, many quiet ones), sometimes with an assisting department; signed,
contacted and replied mostly in time and sometimes late, with SLA warnings; returned and
redispatched; extended; called back (solved / partly / unsolved, satisfied … unsatisfied);
closed; now and then reopened, merged or answered directly. Events are interleaved in time
order across cases, as the log would hold them, with a valid hash chain per stream, and loaded
with ``COPY`` (filling the log is not what is measured). Events after the end of the year have
not happened yet: those cases are still open.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.worlds

from dispatch.domain import events as ev
from events import Event
from events.database import make_engine, normalise_url
from events.hashing import GENESIS, event_hash
from tests.worlds.databases import temporary_database

DEFAULT_URL = os.environ.get("DISPATCH_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 11, 1, tzinfo=BEIJING)
END = datetime(2026, 11, 1, tzinfo=BEIJING)  # the benchmark's "now": a year of cases before it
DEPARTMENTS = [f"dept-{i:02d}" for i in range(40)]
DEPARTMENT_WEIGHTS = [1 / (i + 1) ** 0.8 for i in range(40)]
CATEGORIES = [f"cat-{i:02d}" for i in range(30)]
CATEGORY_WEIGHTS = [1 / (i + 1) ** 0.6 for i in range(30)]
GRIDS = 300  # grid g lies in street g % 20
POLICIES = [  # (share, sign, contact, reply)
    (0.70, timedelta(hours=24), timedelta(hours=48), timedelta(days=7)),
    (0.25, timedelta(hours=2), timedelta(hours=4), timedelta(hours=24)),
    (0.05, timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2)),
]
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
COPY_SQL = (
    "COPY events (stream_id, version, type, schema_version, data, meta, recorded_at, "
    "prev_hash, hash, tx_id) FROM STDIN"
)
# Readers hand out events by transaction id (see ``events.store``): the rows carry ours.
TX_ID_SQL = "SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint)"

Step = tuple[datetime, Event, str]  # when, what, who (liaison, operator, dispatcher, system)


class Story:
    """One case's events, generated forward in time."""

    def __init__(self, rng: random.Random, case_id: str, number: int, received: datetime) -> None:
        self.rng, self.case_id, self.steps = rng, case_id, []
        self.received = received
        self.tasks = 0
        grid = rng.randrange(GRIDS)
        self.location = ev.Location(
            address=f"西一路 {number % 997} 号", lat=34.27, lon=108.95,
            grid=f"grid-{grid:03d}", street=f"st-{grid % 20:02d}",
        )  # fmt: skip
        share = rng.random()
        self.policy = POLICIES[0] if share < 0.70 else POLICIES[1] if share < 0.95 else POLICIES[2]

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

    def work(self, task: dict[str, Any]) -> datetime:
        """Sign, contact, maybe warnings, progress and an extension, then reply."""
        rng, tid = self.rng, task["id"]
        signed = self.late(0.9, task["at"], task["sign_by"])
        if signed > task["sign_by"]:
            yellow = task["at"] + (task["sign_by"] - task["at"]) * 0.8
            for when, level in ((yellow, "yellow"), (task["sign_by"], "red")):
                self.add(
                    when,
                    ev.SlaWarningRaised(
                        task_id=tid, stage="sign", level=level, deadline=task["sign_by"]
                    ),
                    "system",
                )  # type: ignore[arg-type]
        self.add(signed, ev.TaskSigned(task_id=tid), "liaison")
        contacted = max(self.late(0.85, signed, task["contact_by"]), signed + MINUTE)
        self.add(contacted, ev.CitizenContacted(task_id=tid, note="电话联系诉求人"), "liaison")
        reply_by = task["reply_by"]
        if rng.random() < 0.3:
            self.add(
                contacted + HOUR, ev.ProgressNoted(task_id=tid, note="已安排现场查看"), "liaison"
            )
        if rng.random() < 0.1:
            asked = contacted + 2 * HOUR
            reply_by = reply_by + 5 * DAY
            self.add(
                asked,
                ev.ExtensionRequested(task_id=tid, reply_by=reply_by, reason="需施工"),
                "liaison",
            )
            self.add(
                asked + 2 * HOUR, ev.ExtensionApproved(task_id=tid, reply_by=reply_by), "dispatcher"
            )
        replied = max(self.late(0.85, contacted, reply_by), contacted + 3 * HOUR)
        return self.add(replied, ev.TaskReplied(task_id=tid, resolution="已处理完毕"), "liaison")

    def close(self, after: datetime) -> datetime:
        rng = self.rng
        at = after + rng.uniform(2, 48) * HOUR
        if rng.random() < 0.9:
            solved = rng.choices(["solved", "partly", "unsolved"], [75, 15, 10])[0]
            satisfied = rng.choices(["satisfied", "basic", "unsatisfied", "none"], [60, 25, 10, 5])[
                0
            ]
            self.add(at, ev.CallbackRecorded(solved=solved, satisfaction=satisfied), "operator")  # type: ignore[arg-type]
        return self.add(at + 10 * MINUTE, ev.CaseClosed(), "dispatcher")

    def tell(self) -> list[Step]:
        rng, t = self.rng, self.received
        self.add(t, ev.CaseReceived(
            case_no=f"SW{self.case_id[:10]}", channel="phone",
            category=rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
            description="小区门口路灯不亮，晚上出行不便", urgency="normal",
            location=self.location, received_at=t.astimezone(UTC),
        ), "operator")  # fmt: skip
        if rng.random() < 0.03:
            self.add(t + 5 * MINUTE, ev.CaseAnswered(answer="已直接答复政策咨询"), "operator")
            return self.steps
        t += rng.uniform(2, 60) * MINUTE
        lead = self.dispatch(t, self.department(), "lead")
        tasks = [lead]
        if rng.random() < 0.15:
            tasks.append(self.dispatch(t + MINUTE, self.department(), "assist"))
        if rng.random() < 0.02:
            at = t + rng.uniform(10, 180) * MINUTE
            for task in tasks:
                self.add(at, ev.TaskCancelled(task_id=task["id"], reason="merged"), "dispatcher")
            self.add(at + MINUTE, ev.CaseMerged(into=f"{self.case_id}-original"), "dispatcher")
            return self.steps
        if rng.random() < 0.05:
            asked = lead["at"] + (lead["sign_by"] - lead["at"]) * rng.uniform(0.1, 0.6)
            self.add(
                asked,
                ev.TaskReturnRequested(task_id=lead["id"], reason="territory", basis="不在辖区"),
                "liaison",
            )
            self.add(asked + 30 * MINUTE, ev.TaskReturnApproved(task_id=lead["id"]), "dispatcher")
            tasks[0] = self.dispatch(
                asked + 45 * MINUTE, self.department(besides=lead["department"]), "lead"
            )
        done = max(self.work(task) for task in tasks)
        closed = self.close(done)
        if rng.random() < 0.04:
            reopened = self.add(
                closed + rng.uniform(1, 5) * DAY,
                ev.CaseReopened(reason="群众反映未解决"),
                "dispatcher",
            )
            again = self.dispatch(reopened + 30 * MINUTE, self.department(), "lead")
            self.close(self.work(again))
        return self.steps


def stories(cases: int, seed: int) -> Iterator[tuple[str, list[Step]]]:
    """Cases in order of arrival, spread over the year (busier in office hours)."""
    rng = random.Random(seed)
    seconds = (END - START).total_seconds()
    moment = 0.0
    for number in range(cases):
        moment += rng.expovariate(cases / seconds)
        received = START + timedelta(seconds=min(moment, seconds - 1))
        case_id = uuid.UUID(int=rng.getrandbits(128)).hex
        yield case_id, Story(rng, case_id, number, received).tell()


def interleaved(cases: int, seed: int) -> Iterator[tuple[str, Step, bool]]:
    """Every event of every case in time order: ``(case id, step, is the case's last)``.

    A heap holds only the events of cases still running (about ten days' worth).
    """
    heap: list[tuple[datetime, int, str, Step, bool]] = []
    counter = itertools.count()
    for case_id, steps in stories(cases, seed):
        steps = sorted(steps, key=lambda step: step[0])
        steps = [step for step in steps if step[0] < END] or steps[:1]
        head = steps[0][0]
        while heap and heap[0][0] <= head:
            _, _, cid, step, last = heapq.heappop(heap)
            yield cid, step, last
        for index, step in enumerate(steps):
            heapq.heappush(heap, (step[0], next(counter), case_id, step, index == len(steps) - 1))
    while heap:
        _, _, cid, step, last = heapq.heappop(heap)
        yield cid, step, last


def fill(url: str, cases: int, *, seed: int = 12345, progress: Any = None) -> int:
    """COPY the events of ``cases`` cases into ``events``; returns how many were written."""
    engine = make_engine(url)
    chains: dict[str, tuple[int, str]] = {}
    written = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        tx_id = cursor.execute(TX_ID_SQL).fetchone()[0]  # type: ignore[index]
        copy_cm = cursor.copy(COPY_SQL)  # type: ignore[attr-defined]
        copy = copy_cm.__enter__()
        for case_id, (at, event, who), last in interleaved(cases, seed):
            version, prev = chains.get(case_id, (0, GENESIS))
            version += 1
            data = event.payload()
            meta = {"actor": f"{who}-{written % 50}", "role": who,
                    "command_id": uuid.UUID(int=random.getrandbits(128)).hex,
                    "correlation_id": None, "causation_id": None}  # fmt: skip
            moment = at.astimezone(UTC)
            digest = event_hash(
                prev_hash=prev, stream_id=case_id, version=version, type=event.type,
                schema_version=event.schema_version, data=data, meta=meta, recorded_at=moment,
            )  # fmt: skip
            copy.write_row((
                case_id, version, event.type, event.schema_version,
                json.dumps(data, ensure_ascii=False), json.dumps(meta), moment, prev, digest,
                tx_id,
            ))  # fmt: skip
            if last:
                chains.pop(case_id, None)
            else:
                chains[case_id] = (version, digest)
            written += 1
            if progress is not None and written % 100_000 == 0:
                progress(written)
        copy_cm.__exit__(None, None, None)
        raw.commit()
    finally:
        raw.close()
    # Fresh statistics, as autovacuum would gather on a live log: without them the planner
    # guesses and the rebuild's page queries can pick a sort over the whole table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE events")
    engine.dispose()
    return written


def scratch_database(
    server_url: str, *, keep: bool = False, migrate: Callable[[sa.Engine], object] | None = None
) -> AbstractContextManager[str]:
    """A fresh ``sw_bench_<random>`` database on the server, dropped afterwards unless kept."""
    backend = sa.make_url(normalise_url(server_url)).get_backend_name()
    if backend != "postgresql":
        raise SystemExit(f"the benchmark needs PostgreSQL, not {backend}")
    return temporary_database(server_url, name="bench", migrate=migrate, keep=keep)


def emit(figures: dict[str, Any], destination: str | None) -> None:
    """Print the figures as a table; ``--json FILE`` also writes them, ``--json`` alone
    prints only the JSON (the convention of every script under ``bench/``)."""
    document = json.dumps(figures, indent=2, default=str)
    if destination == "-":
        print(document)
        return
    if destination:
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        Path(destination).write_text(document + "\n")
    for key, value in figures.items():
        if isinstance(value, dict):
            value = "  ".join(f"{k} {v}" for k, v in value.items())
        print(f"{key:>24}  {value}")


def json_option(parser: Any) -> None:
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="also write the figures as JSON to FILE (alone: print only the JSON)",
    )
