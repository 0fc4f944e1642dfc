"""Seals that survive a database administrator (DESIGN.md §2 invariant 5, §8.9).

Each test has a throwaway database of its own: it seals, exports, forges rows behind the
triggers' back, and runs the real CLI against what is left.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner, Result

from dispatch.settings import get_settings
from events import AppendResult, Event, EventStore, Meta
from events.hashing import GENESIS, event_hash, seal_hash
from events.integrity import verify_log
from events.schema import events
from events.seals import Seal, SealBroken, all_seals, latest_seal, seal_log
from events.store import as_utc
from workers.cli import app

KEY = "seal-key-kept-in-the-vault-not-the-database"


class LampReported(Event):
    type: ClassVar[str] = "test.lamp_reported"
    description: str


def report(store: EventStore, stream: str, *descriptions: str) -> AppendResult:
    return store.append(
        stream,
        [LampReported(description=text) for text in descriptions],
        expected_version=store.stream_version(stream),
        meta=Meta(actor="op-1", role="operator", command_id=uuid.uuid4().hex),
    )


def dispatch_cli(database_url: str, *args: str, key: str | None = KEY) -> Result:
    env = {"DISPATCH_DATABASE_URL": database_url, "DISPATCH_SEAL_KEY": key}
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


@contextmanager
def triggers_off(engine: Engine, *tables: str) -> Iterator[Connection]:
    """What a database administrator can do: a transaction with the append-only triggers of
    ``tables`` out of the way until it commits."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for table in tables:
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield conn
            for table in tables:
                conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            return
        listed = ", ".join(f"'{table}'" for table in tables)
        triggers = conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({listed})"
        ).all()
        assert len(triggers) >= 2 * len(tables), "the append-only triggers are missing"
        for name, _sql in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        yield conn
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)


def rewrite_event_and_its_chain(conn: Connection, stream: str, version: int, text: str) -> None:
    """Change one event's description and recompute its hash and every later hash of its
    stream, so that the stream's chain verifies again."""
    rows = conn.execute(
        sa.select(events)
        .where(events.c.stream_id == stream, events.c.version >= version)
        .order_by(events.c.version)
    ).all()
    prev_hash = rows[0].prev_hash
    for row in rows:
        data = {**row.data, "description": text} if row.version == version else row.data
        digest = event_hash(
            prev_hash=prev_hash,
            stream_id=stream,
            version=row.version,
            type=row.type,
            schema_version=row.schema_version,
            data=data,
            meta=row.meta,
            recorded_at=as_utc(row.recorded_at),
        )
        conn.execute(
            events.update()
            .where(events.c.position == row.position)
            .values(data=data, prev_hash=prev_hash, hash=digest)
        )
        prev_hash = digest


def reseal_the_seals_table(conn: Connection) -> None:
    """Recompute every seal's cumulative hash from the (rewritten) log, keeping each row's
    signature as it was: without the key there is no other to give it."""
    hashes = conn.execute(sa.text("SELECT position, hash FROM events ORDER BY position")).all()
    for seal_id, position in conn.execute(sa.text("SELECT id, position FROM seals")).all():
        cumulative = GENESIS
        for row in hashes:
            if row.position > position:
                break
            cumulative = seal_hash(cumulative, row.hash)
        conn.execute(
            sa.text("UPDATE seals SET cumulative_hash = :c WHERE id = :i"),
            {"c": cumulative, "i": seal_id},
        )


def test_the_seals_table_refuses_update_and_delete(scratch_engine: Engine) -> None:
    report(EventStore(scratch_engine), "case-a", "lamp out")
    sealed = seal_log(scratch_engine, key=KEY)
    assert sealed is not None
    for statement in ("UPDATE seals SET cumulative_hash = 'x'", "DELETE FROM seals"):
        with pytest.raises(DBAPIError, match="append-only"), scratch_engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert [seal.cumulative_hash for seal in all_seals(scratch_engine)] == [sealed.cumulative_hash]


def test_a_seal_made_with_the_key_is_signed_and_verifies(scratch_engine: Engine) -> None:
    store = EventStore(scratch_engine)
    report(store, "case-a", "lamp out", "lamp fixed")
    sealed = seal_log(scratch_engine, key=KEY)
    assert sealed is not None and sealed.position == 2 and sealed.event_count == 2
    assert sealed.signed_with(KEY) and not sealed.signed_with("another key entirely, 32 bytes")
    outcome = verify_log(scratch_engine, key=KEY)
    assert outcome.ok and outcome.signed_seals == 1
    assert seal_log(scratch_engine, key=KEY) == latest_seal(scratch_engine)  # nothing new


def test_a_seal_made_during_concurrent_appends_never_fails_verify(
    scratch_database_url: str, scratch_engine: Engine
) -> None:
    store = EventStore(scratch_engine)
    stop = threading.Event()
    failures: list[BaseException] = []

    def append_until_stopped(stream: str) -> None:
        try:
            while not stop.is_set():
                report(store, stream, "lamp out")
        except BaseException as error:  # surfaced below, not lost in the thread
            failures.append(error)

    writers = [threading.Thread(target=append_until_stopped, args=(f"case-{n}",)) for n in range(4)]
    for writer in writers:
        writer.start()
    seals: list[Seal | None] = []
    # Seal until the log has visibly grown between two seals (at least 25 seals): on a busy
    # machine the writers may not get a turn during 25 quick seals, and a test of sealing
    # *during* appends must see appends happen.
    deadline = time.monotonic() + 30
    try:
        while len(seals) < 25 or (
            len({seal.position for seal in seals if seal}) < 2 and time.monotonic() < deadline
        ):
            seals.append(seal_log(scratch_engine, key=KEY))
            if len(seals) >= 25:
                time.sleep(0.01)
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert not failures
    assert len({seal.position for seal in seals if seal}) > 1  # sealed as the log grew

    result = dispatch_cli(scratch_database_url, "verify")

    assert result.exit_code == 0, result.output
    assert "signed with DISPATCH_SEAL_KEY" in result.output


@pytest.mark.postgres_only
def test_a_seal_never_covers_an_append_still_in_flight_below_a_committed_one(
    scratch_engine: Engine,
) -> None:
    store = EventStore(scratch_engine)
    report(store, "case-a", "lamp out")
    with scratch_engine.begin() as slow:  # takes position 2 and has not committed yet
        report_in = store.append(
            "case-b",
            [LampReported(description="lamp flickers")],
            expected_version=0,
            meta=Meta(actor="op-1", role="operator", command_id=uuid.uuid4().hex),
            conn=slow,
        )
        fast = report(store, "case-c", "lamp broken")  # position 3, committed
        assert fast.last_position > report_in.last_position

        sealed = seal_log(scratch_engine, key=KEY)

        assert sealed is not None and sealed.position < report_in.last_position
    assert verify_log(scratch_engine, key=KEY).ok
    assert seal_log(scratch_engine, key=KEY).position == fast.last_position  # type: ignore[union-attr]
    assert verify_log(scratch_engine, key=KEY).ok


def test_seal_export_writes_the_latest_seal_and_verify_against_it_passes(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    store = EventStore(scratch_engine)
    report(store, "case-a", "lamp out", "lamp fixed")
    assert dispatch_cli(scratch_database_url, "seal", "now").exit_code == 0
    exported = tmp_path / "seal.json"

    written = dispatch_cli(scratch_database_url, "seal", "export", str(exported))
    report(store, "case-b", "another lamp out")  # the log grows after the export
    result = dispatch_cli(scratch_database_url, "verify", "--against", str(exported))

    assert written.exit_code == 0, written.output
    seal = Seal.from_json(json.loads(exported.read_text()))
    assert (seal.position, seal.event_count) == (2, 2) and seal.signed_with(KEY)
    assert result.exit_code == 0, result.output
    assert "the log extends the exported seal at position 2" in result.output
    on_stdout = dispatch_cli(scratch_database_url, "seal", "export")
    assert Seal.from_json(json.loads(on_stdout.stdout)) == seal


def test_a_dba_rewrite_of_an_event_its_chain_and_the_seals_is_caught_by_the_exported_seal(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    store = EventStore(scratch_engine)
    report(store, "case-a", "lamp out on Changan Road")
    report(store, "case-b", "pothole on Xiyi Road", "pothole still there", "pothole filled")
    report(store, "case-a", "lamp fixed")
    assert dispatch_cli(scratch_database_url, "seal", "now").exit_code == 0
    exported = tmp_path / "kept-elsewhere.json"
    assert dispatch_cli(scratch_database_url, "seal", "export", str(exported)).exit_code == 0

    with triggers_off(scratch_engine, "events", "seals") as conn:
        rewrite_event_and_its_chain(conn, "case-b", 2, "no pothole was ever reported")
        reseal_the_seals_table(conn)
    unsigned = dispatch_cli(scratch_database_url, "verify", key=None)
    keyed = dispatch_cli(scratch_database_url, "verify")
    against = dispatch_cli(scratch_database_url, "verify", "--against", str(exported))

    assert unsigned.exit_code == 0, "the chains and the unsigned seals were forged consistently"
    assert keyed.exit_code == 1
    assert "does not carry DISPATCH_SEAL_KEY's signature" in keyed.output
    assert against.exit_code == 1
    [line] = against.output.strip().splitlines()
    assert line.startswith("error: the exported seal at position 5 (5 events) does not match")
    with pytest.raises(SealBroken):
        seal_log(scratch_engine, key=KEY)  # never signs the forgery


def test_an_exported_seal_with_a_forged_signature_is_refused(
    scratch_database_url: str, scratch_engine: Engine, tmp_path: Path
) -> None:
    report(EventStore(scratch_engine), "case-a", "lamp out")
    sealed = seal_log(scratch_engine, key=KEY)
    assert sealed is not None
    forged = {**sealed.as_json(), "hmac": "0" * 64}
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))

    result = dispatch_cli(scratch_database_url, "verify", "--against", str(path))

    assert result.exit_code == 1
    assert "the file was altered" in result.output


def test_without_the_key_seals_are_unsigned_and_verify_says_so(
    scratch_database_url: str, scratch_engine: Engine
) -> None:
    report(EventStore(scratch_engine), "case-a", "lamp out")
    made = dispatch_cli(scratch_database_url, "seal", "now", key=None)

    result = dispatch_cli(scratch_database_url, "verify", key=None)

    assert made.exit_code == 0 and "unsigned" in made.output
    assert latest_seal(scratch_engine).hmac is None  # type: ignore[union-attr]
    assert result.exit_code == 0
    assert "signatures not checked (DISPATCH_SEAL_KEY is not set)" in result.output


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{}", "not an exported seal"), ("not json", "not an exported seal")],
)
def test_verify_against_a_file_that_is_not_a_seal_fails_with_one_line(
    scratch_database_url: str, tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "seal.json"
    path.write_text(content)
    result = dispatch_cli(scratch_database_url, "verify", "--against", str(path))
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert reason in line


def test_seal_export_of_a_log_never_sealed_fails_with_one_line(scratch_database_url: str) -> None:
    result = dispatch_cli(scratch_database_url, "seal", "export")
    assert result.exit_code == 1
    assert result.output.strip() == "error: the log has no seal yet; `dispatch seal now` makes one"
