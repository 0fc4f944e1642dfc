"""The event store's guarantees, on the real session database (PostgreSQL or SQLite).

Concurrency, idempotent command ids, the append-only triggers, safe tailing, the total order
of the log, and checkpoints that move with the rows written beside them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import ClassVar

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from events import (
    GENESIS,
    AppendResult,
    ConcurrencyError,
    Event,
    EventStore,
    Meta,
    RecordedEvent,
    StreamAppend,
)
from events.checkpoints import all_checkpoints, load_checkpoint, save_checkpoint
from events.store import EVENT_LOG_LOCK


class NoteTaken(Event):
    type: ClassVar[str] = "test.note_taken"
    text: str


def note(text: str = "a pothole on Changan Road") -> NoteTaken:
    return NoteTaken(text=text)


def meta(command_id: str | None = None) -> Meta:
    return Meta(actor="op-1", role="operator", command_id=command_id or uuid.uuid4().hex)


def run_together(*jobs: Callable[[], object], timeout: float = 30) -> list[object]:
    """Run each job in its own thread, released at once by a barrier; return each outcome.

    An outcome is the job's return value, or the exception it raised.
    """
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def run(index: int, job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            outcomes[index] = job()
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a writer hung"
    return outcomes


# -- reading -------------------------------------------------------------------------------


def test_several_streams_read_together_are_each_what_read_stream_returns(
    store: EventStore, unique: str
) -> None:
    streams = [f"{unique}-{n}" for n in range(3)]
    for n, stream in enumerate(streams):
        for version in range(n + 1):
            store.append(
                stream, [note(f"{stream} #{version}")], expected_version=version, meta=meta()
            )

    together = store.read_streams([*streams, f"{unique}-none"])

    assert together == {
        **{stream: store.read_stream(stream) for stream in streams},
        f"{unique}-none": [],
    }
    assert [len(together[s]) for s in streams] == [1, 2, 3]


# -- optimistic concurrency ----------------------------------------------------------------


def test_two_writers_racing_on_one_stream_exactly_one_wins(store: EventStore, unique: str) -> None:
    for round_ in range(10):
        stream = f"case-race-{unique}-{round_}"
        outcomes = run_together(
            lambda s=stream: store.append(s, [note("first")], expected_version=0, meta=meta()),
            lambda s=stream: store.append(s, [note("second")], expected_version=0, meta=meta()),
        )

        winners = [o for o in outcomes if isinstance(o, AppendResult)]
        losers = [o for o in outcomes if isinstance(o, ConcurrencyError)]
        assert len(winners) == 1 and len(losers) == 1, outcomes
        assert losers[0].stream_id == stream and losers[0].expected_version == 0
        recorded = store.read_stream(stream)
        assert [e.version for e in recorded] == [1]
        assert recorded[0].position == winners[0].last_position


def test_a_writer_that_read_the_head_before_the_winner_committed_still_loses(
    store: EventStore, unique: str
) -> None:
    stream = f"case-late-{unique}"
    inserted = threading.Event()

    def slow_winner() -> AppendResult:
        with store.transaction() as conn:
            result = store.append(
                stream, [note("winner")], expected_version=0, meta=meta(), conn=conn
            )
            inserted.set()
            time.sleep(0.3)
        return result

    winner = threading.Thread(target=slow_winner)
    winner.start()
    assert inserted.wait(10)
    with pytest.raises(ConcurrencyError) as lost:
        store.append(stream, [note("loser")], expected_version=0, meta=meta())
    winner.join(10)

    assert lost.value.expected_version == 0 and lost.value.actual_version == 1
    assert [e.data["text"] for e in store.read_stream(stream)] == ["winner"]


def test_appending_after_a_stale_version_raises_concurrency_error(
    store: EventStore, unique: str
) -> None:
    stream = f"case-stale-{unique}"
    store.append(stream, [note(), note()], expected_version=0, meta=meta())

    with pytest.raises(ConcurrencyError) as stale:
        store.append(stream, [note()], expected_version=1, meta=meta())

    assert (stale.value.expected_version, stale.value.actual_version) == (1, 2)
    assert store.stream_version(stream) == 2


# -- several streams in one append --------------------------------------------------------


def test_an_append_to_several_streams_writes_each_chain_and_command_in_the_order_given(
    store: EventStore, unique: str
) -> None:
    old = f"{unique}-old"
    store.append(old, [note("before")], expected_version=0, meta=meta())
    asked = [
        StreamAppend(f"{unique}-new", [note("a1"), note("a2")], 0, meta(f"{unique}-c1")),
        StreamAppend(old, [note("b1")], 1, meta(f"{unique}-c2")),
        StreamAppend(f"{unique}-third", [note("c1")], 0, meta(f"{unique}-c3")),
    ]

    results = store.append_many(asked)

    streams = {a.stream_id: store.read_stream(a.stream_id) for a in asked}
    positions = [e.position for a in asked for e in streams[a.stream_id][-len(a.events) :]]
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert [(r.stream_id, r.first_version, r.last_version) for r in results] == [
        (f"{unique}-new", 1, 2),
        (old, 2, 2),
        (f"{unique}-third", 1, 1),
    ]
    assert [r.last_position for r in results] == [s[-1].position for s in streams.values()]
    assert streams[old][1].prev_hash == streams[old][0].hash  # each stream its own chain
    assert streams[f"{unique}-new"][1].prev_hash == streams[f"{unique}-new"][0].hash
    # Each stream's command is recorded: asked again, each gets its original result.
    again = store.append_many(asked)
    assert again == [dataclasses.replace(r, duplicate=True) for r in results]
    assert [len(s) for s in streams.values()] == [2, 2, 1]


def test_an_append_to_several_streams_appends_nothing_when_one_of_them_moved_on(
    store: EventStore, unique: str
) -> None:
    moved = f"{unique}-moved"
    store.append(moved, [note()], expected_version=0, meta=meta())

    with pytest.raises(ConcurrencyError) as stale:
        store.append_many(
            [
                StreamAppend(f"{unique}-fresh", [note()], 0, meta()),
                StreamAppend(moved, [note()], 0, meta()),
            ]
        )

    assert (stale.value.stream_id, stale.value.actual_version) == (moved, 1)
    assert store.read_stream(f"{unique}-fresh") == []
    assert store.stream_version(moved) == 1


def test_an_append_to_several_streams_skips_a_stream_whose_command_is_in_the_log(
    store: EventStore, unique: str
) -> None:
    done = store.append(f"{unique}-done", [note()], expected_version=0, meta=meta(f"{unique}-1"))

    results = store.append_many(
        [
            StreamAppend(f"{unique}-done", [note()], 0, meta(f"{unique}-1")),
            StreamAppend(f"{unique}-todo", [note()], 0, meta(f"{unique}-2")),
        ]
    )

    assert results[0] == dataclasses.replace(done, duplicate=True)
    assert not results[1].duplicate and results[1].last_position > done.last_position
    assert store.stream_version(f"{unique}-done") == 1
    assert store.stream_version(f"{unique}-todo") == 1


def test_an_append_to_several_streams_loses_whole_to_a_writer_that_took_one_of_them(
    store: EventStore, unique: str
) -> None:
    """The loser read the heads before the winner committed: its insert finds a version
    taken, and none of its streams keeps a row."""
    contested = f"{unique}-contested"
    inserted = threading.Event()

    def slow_winner() -> None:
        with store.transaction() as conn:
            store.append(contested, [note("winner")], expected_version=0, meta=meta(), conn=conn)
            inserted.set()
            time.sleep(0.3)

    winner = threading.Thread(target=slow_winner)
    winner.start()
    assert inserted.wait(10)
    with pytest.raises(ConcurrencyError):
        store.append_many(
            [
                StreamAppend(f"{unique}-other", [note()], 0, meta()),
                StreamAppend(contested, [note("loser")], 0, meta()),
            ]
        )
    winner.join(10)

    assert store.read_stream(f"{unique}-other") == []
    assert [e.data["text"] for e in store.read_stream(contested)] == ["winner"]


def test_an_append_to_several_streams_takes_each_stream_once(
    store: EventStore, unique: str
) -> None:
    twice = StreamAppend(f"{unique}-twice", [note()], 0, meta())
    with pytest.raises(ValueError, match="once"):
        store.append_many([twice, dataclasses.replace(twice, meta=meta())])
    assert store.read_stream(f"{unique}-twice") == []


# -- idempotent command ids ----------------------------------------------------------------


def test_the_same_command_id_twice_appends_one_event_and_returns_the_original_result(
    store: EventStore, unique: str
) -> None:
    stream = f"case-once-{unique}"
    command = meta(f"cmd-{unique}")

    first = store.append(stream, [note()], expected_version=0, meta=command)
    second = store.append(stream, [note()], expected_version=0, meta=command)

    assert not first.duplicate
    assert second == dataclasses.replace(first, duplicate=True)
    assert len(store.read_stream(stream)) == 1


def test_a_replayed_command_returns_its_original_result_after_the_stream_moved_on(
    store: EventStore, unique: str
) -> None:
    stream = f"case-replay-{unique}"
    command = meta(f"cmd-{unique}")
    first = store.append(stream, [note(), note()], expected_version=0, meta=command)
    store.append(stream, [note()], expected_version=2, meta=meta())

    replay = store.append(stream, [note()], expected_version=0, meta=command)

    assert replay == dataclasses.replace(first, duplicate=True)
    assert (replay.first_version, replay.last_version) == (1, 2)
    assert store.stream_version(stream) == 3


def test_the_same_command_racing_itself_is_appended_once(store: EventStore, unique: str) -> None:
    stream = f"case-twin-{unique}"
    command = meta(f"cmd-{unique}")

    def attempt() -> AppendResult:
        return store.append(stream, [note()], expected_version=0, meta=command)

    outcomes = run_together(attempt, attempt)
    retried = attempt()

    originals = [o for o in outcomes if isinstance(o, AppendResult) and not o.duplicate]
    assert len(originals) == 1, outcomes
    assert all(isinstance(o, AppendResult | ConcurrencyError) for o in outcomes), outcomes
    assert retried == dataclasses.replace(originals[0], duplicate=True)
    assert len(store.read_stream(stream)) == 1


# -- append-only in the database itself ----------------------------------------------------


@pytest.fixture
def stored_stream(store: EventStore, unique: str) -> list[RecordedEvent]:
    stream = f"case-frozen-{unique}"
    store.append(stream, [note("original"), note("second")], expected_version=0, meta=meta())
    return store.read_stream(stream)


def refused(engine: Engine, sql: str, **params: object) -> None:
    """Run raw SQL that must be refused by the database; never commit, whatever happens."""
    with engine.connect() as conn:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.execute(sa.text(sql), params)
        conn.rollback()


def test_the_database_refuses_to_update_an_event(
    engine: Engine, store: EventStore, stored_stream: list[RecordedEvent]
) -> None:
    stream = stored_stream[0].stream_id

    refused(engine, "UPDATE events SET type = 'forged' WHERE stream_id = :s", s=stream)

    assert store.read_stream(stream) == stored_stream


def test_the_database_refuses_to_delete_an_event(
    engine: Engine, store: EventStore, stored_stream: list[RecordedEvent]
) -> None:
    stream = stored_stream[0].stream_id

    refused(engine, "DELETE FROM events WHERE stream_id = :s", s=stream)

    assert store.read_stream(stream) == stored_stream


def test_the_database_refuses_to_overwrite_an_event_through_an_upsert(
    engine: Engine, store: EventStore, stored_stream: list[RecordedEvent]
) -> None:
    stream, position = stored_stream[0].stream_id, stored_stream[0].position
    columns = "position, stream_id, version, type, schema_version, data, meta, recorded_at, "
    columns += "prev_hash, hash"
    forged = columns.replace("type,", "'forged',")
    copy = f"INSERT INTO events ({columns}) SELECT {forged} FROM events WHERE position = :p"

    refused(engine, copy + " ON CONFLICT (position) DO UPDATE SET type = 'forged'", p=position)
    if engine.dialect.name == "sqlite":
        refused(engine, copy.replace("INSERT", "INSERT OR REPLACE"), p=position)

    assert store.read_stream(stream) == stored_stream


@pytest.mark.postgres_only
def test_the_database_refuses_to_truncate_the_log(
    engine: Engine, store: EventStore, stored_stream: list[RecordedEvent]
) -> None:
    refused(engine, "TRUNCATE events")

    assert store.read_stream(stored_stream[0].stream_id) == stored_stream


# -- safe tailing and the total order ------------------------------------------------------


def test_a_tail_sees_two_appends_whose_commits_are_reversed_in_position_order(
    store: EventStore, unique: str
) -> None:
    """The first appender takes the lower position, then sleeps before committing; the
    second commits meanwhile. A tail that advances its checkpoint past what it sees must
    still see the first event. Without the serialised append (PostgreSQL's advisory lock,
    SQLite's BEGIN IMMEDIATE) the second would commit first and the tail would skip the first.
    """
    early, late = f"case-early-{unique}", f"case-late-{unique}"
    ours = {early, late}
    start = store.head_position()
    inserted, stop = threading.Event(), threading.Event()
    seen: list[RecordedEvent] = []

    def tail() -> None:
        checkpoint = start
        while True:
            stopping = stop.is_set()
            batch = store.read_all(after=checkpoint)
            if batch:
                seen.extend(e for e in batch if e.stream_id in ours)
                checkpoint = batch[-1].position
            if stopping:
                return
            time.sleep(0.005)

    def first_appender() -> None:
        with store.transaction() as conn:
            store.append(early, [note("early")], expected_version=0, meta=meta(), conn=conn)
            inserted.set()
            time.sleep(1.0)

    def second_appender() -> None:
        assert inserted.wait(10)
        store.append(late, [note("late")], expected_version=0, meta=meta())

    tailer = threading.Thread(target=tail)
    appenders = [threading.Thread(target=first_appender), threading.Thread(target=second_appender)]
    tailer.start()
    for thread in appenders:
        thread.start()
    for thread in appenders:
        thread.join(30)
    stop.set()
    tailer.join(30)

    assert [e.stream_id for e in seen] == [early, late], "the tail skipped an event"
    assert seen[0].position < seen[1].position


@pytest.mark.postgres_only
def test_an_append_draws_its_position_only_once_it_holds_the_log_lock(
    engine: Engine, store: EventStore, unique: str
) -> None:
    """Otherwise a writer could draw position N, wait, and commit after N+1 became visible."""
    outcome: list[AppendResult] = []
    appender = threading.Thread(
        target=lambda: outcome.append(
            store.append(f"case-lock-{unique}", [note()], expected_version=0, meta=meta())
        )
    )
    with engine.connect() as holder:
        holder.execute(sa.select(sa.func.pg_advisory_xact_lock(EVENT_LOG_LOCK)))
        appender.start()
        assert wait_until(lambda: lock_waiters(engine) > 0), "the append did not wait for the lock"
        drawn = holder.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence('events', 'position'))")
        ).scalar_one()
        holder.commit()
    appender.join(10)

    assert outcome[0].last_position > drawn


def lock_waiters(engine: Engine) -> int:
    """Sessions of this database waiting for the log lock (a bigint key: classid, objid)."""
    query = sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid::bigint = :high AND objid::bigint = :low"
    )
    key = {"high": EVENT_LOG_LOCK >> 32, "low": EVENT_LOG_LOCK & 0xFFFF_FFFF}
    with engine.connect() as conn:
        return conn.execute(query, key).scalar_one()


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


plans = st.lists(
    st.tuples(st.integers(min_value=0, max_value=2), st.integers(min_value=1, max_value=3)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans, writers=st.integers(min_value=2, max_value=4))
def test_random_interleavings_of_appends_read_back_in_one_total_order(
    engine: Engine, plan: list[tuple[int, int]], writers: int
) -> None:
    """Each plan step appends ``size`` events to one of three streams; the steps are dealt
    out to concurrent writers, who reload and retry when another writer got there first."""
    store = EventStore(engine)
    prefix = f"case-order-{uuid.uuid4().hex[:10]}"
    start = store.head_position()

    def writer(steps: list[tuple[int, int]]) -> None:
        for stream_index, size in steps:
            stream = f"{prefix}-{stream_index}"
            for _attempt in range(200):
                version = store.stream_version(stream)
                try:
                    store.append(stream, [note()] * size, expected_version=version, meta=meta())
                    break
                except ConcurrencyError:
                    continue
            else:
                raise AssertionError(f"{stream}: a writer never got its turn")

    outcomes = run_together(*(lambda i=i: writer(plan[i::writers]) for i in range(writers)))
    assert outcomes == [None] * writers

    log = [e for e in store.read_all(after=start, limit=10_000) if e.stream_id.startswith(prefix)]
    positions = [e.position for e in log]
    assert positions == sorted(set(positions)), "positions are not strictly increasing"
    planned: dict[str, int] = defaultdict(int)
    for stream_index, size in plan:
        planned[f"{prefix}-{stream_index}"] += size
    chains: dict[str, list[RecordedEvent]] = defaultdict(list)
    for event in log:
        chains[event.stream_id].append(event)
    assert {stream: len(chain) for stream, chain in chains.items()} == planned
    for stream, chain in chains.items():
        assert [e.version for e in chain] == list(range(1, planned[stream] + 1)), stream
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain)), stream


def test_read_all_pages_through_the_log_in_position_order(store: EventStore, unique: str) -> None:
    stream = f"case-pages-{unique}"
    start = store.head_position()
    written = store.append(
        stream, [note(str(i)) for i in range(5)], expected_version=0, meta=meta()
    )

    pages = [page for page in store.iter_all(after=start, batch=2)]
    texts = [e.data["text"] for page in pages for e in page if e.stream_id == stream]

    assert texts == ["0", "1", "2", "3", "4"]
    assert store.head_position() >= written.last_position
    assert all(e.stream_id != stream for e in store.read_all(after=written.last_position))


# -- checkpoints ---------------------------------------------------------------------------


def test_a_checkpoint_saved_in_a_transaction_moves_with_its_rows(
    engine: Engine, store: EventStore, unique: str
) -> None:
    name = f"projection-{unique}"
    with store.transaction() as conn:
        save_checkpoint(conn, name, 7)
        save_checkpoint(conn, name, 9)

    with engine.connect() as conn:
        assert load_checkpoint(conn, name) == 9
        assert all_checkpoints(conn)[name] == 9


def test_a_rolled_back_transaction_takes_its_checkpoint_and_its_events_with_it(
    engine: Engine, store: EventStore, unique: str
) -> None:
    name, stream = f"projection-{unique}", f"case-rollback-{unique}"
    with store.transaction() as conn:
        save_checkpoint(conn, name, 3)

    class Crash(Exception):
        pass

    with pytest.raises(Crash), store.transaction() as conn:
        store.append(stream, [note()], expected_version=0, meta=meta(), conn=conn)
        save_checkpoint(conn, name, 4)
        assert load_checkpoint(conn, name) == 4
        raise Crash

    with engine.connect() as conn:
        assert load_checkpoint(conn, name) == 3
    assert store.read_stream(stream) == []


def test_an_unknown_checkpoint_starts_at_the_beginning(engine: Engine, unique: str) -> None:
    with engine.connect() as conn:
        assert load_checkpoint(conn, f"never-saved-{unique}") == 0


@pytest.mark.postgres_only
def test_an_append_after_another_write_in_its_transaction_is_refused(
    store: EventStore, unique: str
) -> None:
    """Positions follow transaction ids only if the id is assigned under the log lock."""
    from events.errors import AppendNotFirst

    with pytest.raises(AppendNotFirst), store.transaction() as conn:
        save_checkpoint(conn, f"first-write-{unique}", 1)
        store.append(f"case-late-{unique}", [note()], expected_version=0, meta=meta(), conn=conn)
    assert store.stream_version(f"case-late-{unique}") == 0


@pytest.mark.postgres_only
def test_a_reader_waits_for_an_older_open_append_instead_of_skipping_it(
    store: EventStore, unique: str
) -> None:
    """An append holds an older transaction id open; a younger one commits first. The tail
    does not hand out the younger event until the older one has finished, then both."""
    start = store.head_position()
    older_appended = threading.Event()
    release = threading.Event()

    def older() -> None:
        with store.transaction() as conn:
            store.append(f"case-old-{unique}", [note()], expected_version=0, meta=meta(), conn=conn)
            older_appended.set()
            release.wait(10)

    thread = threading.Thread(target=older)
    thread.start()
    assert older_appended.wait(10)
    store.append(f"case-young-{unique}", [note()], expected_version=0, meta=meta())
    seen = [e.stream_id for e in store.read_all(after=start, settle=0.2)]
    assert f"case-young-{unique}" not in seen and f"case-old-{unique}" not in seen
    release.set()
    thread.join(10)
    seen = [e.stream_id for e in store.read_all(after=start)]
    mine = [s for s in seen if s.endswith(unique)]
    assert mine == [f"case-old-{unique}", f"case-young-{unique}"]


# -- a new stream (intake) -----------------------------------------------------------------


def test_a_new_stream_append_starts_its_chain_at_genesis(store: EventStore, unique: str) -> None:
    with store.transaction() as conn:
        result = store.append(
            f"new-{unique}", [note(), note()], expected_version=0, meta=meta(), conn=conn,
            new_stream=True,
        )  # fmt: skip

    recorded = store.read_stream(f"new-{unique}")
    assert [e.version for e in recorded] == [1, 2] and result.last_position == recorded[-1].position
    assert recorded[0].prev_hash == GENESIS and recorded[1].prev_hash == recorded[0].hash


def test_a_new_stream_append_to_a_stream_that_exists_after_all_appends_nothing(
    store: EventStore, unique: str
) -> None:
    taken = f"taken-{unique}"
    store.append(taken, [note("first")], expected_version=0, meta=meta())

    with pytest.raises(ConcurrencyError), store.transaction() as conn:
        store.append(
            taken, [note("second")], expected_version=0, meta=meta(), conn=conn, new_stream=True
        )

    assert [e.data["text"] for e in store.read_stream(taken)] == ["first"]


def test_a_new_stream_append_under_a_command_in_the_log_appends_nothing(
    store: EventStore, unique: str
) -> None:
    """The caller promised a new command id and broke the promise: nothing is appended (on
    PostgreSQL the insert loses; SQLite, which looks first, answers with the original)."""
    command = meta(f"cmd-{unique}")
    first = store.append(f"one-{unique}", [note()], expected_version=0, meta=command)

    with contextlib.suppress(ConcurrencyError), store.transaction() as conn:
        again = store.append(
            f"two-{unique}", [note()], expected_version=0, meta=command, conn=conn, new_stream=True
        )
        assert again == dataclasses.replace(first, duplicate=True)

    assert store.read_stream(f"two-{unique}") == []
    assert len(store.read_stream(f"one-{unique}")) == 1


@pytest.mark.postgres_only
def test_a_new_stream_append_after_another_write_in_its_transaction_is_refused(
    store: EventStore, unique: str
) -> None:
    from events.errors import AppendNotFirst

    with pytest.raises(AppendNotFirst), store.transaction() as conn:
        save_checkpoint(conn, f"first-write-{unique}", 1)
        store.append(
            f"new-late-{unique}", [note()], expected_version=0, meta=meta(), conn=conn,
            new_stream=True,
        )  # fmt: skip
    assert store.stream_version(f"new-late-{unique}") == 0
