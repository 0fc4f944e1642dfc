"""``dispatch demo``: a small month of history has the mix a newcomer should see.

The history goes to a scratch SQLite file (the demo loads its own catalogue, which the
session's shared database should not have to put up with) and ends at a fixed moment, so
one seed always tells the same story.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.auth.signin import authenticate
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import add_user
from dispatch.bootstrap import Container, bootstrap
from dispatch.catalogue.versions import load_catalogue
from dispatch.cli.demo import prepare_demo
from dispatch.demo.agenda import DemoClock
from dispatch.demo.history import HistoryReport, write_history
from dispatch.handlers import Complaint, Issuer, SystemActor, new_case_id
from dispatch.ops.backlog import RELAY_CHECKPOINT
from dispatch.ops.migrations import prepare_database
from dispatch.projections.case_list import live_tables
from dispatch.queries.kpis import kpi_rows
from dispatch.settings import Settings, get_settings
from events.checkpoints import load_checkpoint

END = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # noon in Asia/Shanghai, a Monday
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
SAMPLE = Path(__file__).parents[2] / "dispatch/catalogue/samples/sample.yaml"
SECRET = "demo-test-secret-of-at-least-32-bytes"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Container, HistoryReport]]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    clock = DemoClock(END)
    settings = Settings(database_url=f"sqlite:///{path}", secret_key=SECRET)
    container = bootstrap(settings, clock=clock)
    prepare_database(container.engine)
    report = write_history(container, clock, cases=150, seed=7, end=END)
    yield container, report
    container.close()


def count(container: Container, table: str, condition: str) -> int:
    with container.engine.connect() as conn:
        query = f"SELECT count(*) FROM {live_tables()[table].name} WHERE {condition}"
        return int(conn.exec_driver_sql(query).scalar() or 0)


def test_the_month_has_closed_open_and_overdue_cases(demo):
    container, report = demo
    assert sum(report.statuses.values()) == 150
    assert report.statuses["closed"] > 75
    assert report.statuses.get("in_progress", 0) + report.statuses.get("dispatched", 0) > 0
    assert report.open_overdue > 0
    assert count(container, "case_list", "overdue AND status NOT IN ('closed', 'merged')") > 0
    assert report.start == END - timedelta(days=30)


def test_the_month_has_returns_extensions_reopens_urges_and_unhappy_citizens(demo):
    container, report = demo
    assert count(container, "case_tasks", "state = 'returned'") > 0
    assert count(container, "case_tasks", "extensions_approved > 0") > 0
    assert count(container, "case_list", "callback_satisfaction = 'unsatisfied'") > 0
    assert count(container, "case_list", "urge_count > 0") > 0
    assert count(container, "case_list", "hops > 1") > 0
    for happened in ("reply", "callback", "close", "warning red", "return/approve"):
        assert report.tally[happened] > 0, happened
    # Some commands are refused because the case moved on (a task cancelled by a manual
    # re-dispatch, say); the story must not be mostly refusals.
    refused = sum(n for what, n in report.tally.items() if what.startswith("refused"))
    assert refused < 0.02 * sum(report.tally.values()), report.refusals


def test_every_event_happened_in_the_month_in_log_order(demo):
    container, report = demo
    with container.engine.connect() as conn:
        times = [
            row[0]
            for row in conn.exec_driver_sql("SELECT recorded_at FROM events ORDER BY position")
        ]
    moments = [datetime.fromisoformat(str(t)).replace(tzinfo=UTC) for t in times]
    assert moments == sorted(moments)
    assert report.start <= moments[0] and moments[-1] < END


def test_kpis_are_computable_for_every_department(demo):
    container, report = demo
    with container.engine.connect() as conn:
        rows = kpi_rows(conn, group_by="department", start=report.start, end=END, now=END)
    assert len(rows) >= 10
    rated = [row for row in rows if row["satisfaction_rate"] is not None]
    assert rated and all(0 <= row["satisfaction_rate"] <= 1 for row in rated)
    assert any(row["on_time_rate"] is not None and row["on_time_rate"] < 1 for row in rows)


def test_summoning_streets_rated_their_summoned_departments(demo):
    container, report = demo
    with container.engine.connect() as conn:
        ratings = {
            json.loads(row[0])["rating"]
            for row in conn.exec_driver_sql("SELECT data FROM events WHERE type = 'TaskEvaluated'")
        }
        rows = kpi_rows(conn, group_by="department", start=report.start, end=END, now=END)
    assert report.tally["evaluation"] > 0 and "refused evaluation" not in report.tally
    assert ratings == {"satisfied", "basic", "unsatisfied"}, "a mix of 双考核 ratings"
    rated = [row for row in rows if row["street_rating"] is not None]
    assert rated and all(0 <= row["street_rating"] <= 1 for row in rated)


@pytest.fixture(scope="module")
def demo_client(demo) -> Iterator[TestClient]:
    container, _report = demo
    with TestClient(create_app(container)) as client:
        yield client


def bearer(container: Container, role: str, street: str | None = None) -> dict[str, str]:
    with container.engine.begin() as conn:
        user = add_user(
            conn,
            username=f"{role}-{street or 'centre'}-demo",
            password="a password for the demo tests",
            roles=(role,),
            street=street,
            now=END,
            hasher=FAST_HASHER,
        )
    token, _ = issue_token(user, container.settings, END)
    return {"Authorization": f"Bearer {token}"}


def test_the_month_has_exactly_one_hotspot_and_its_street_is_told(demo, demo_client):
    container, report = demo
    month = {"from": report.start.date().isoformat(), "to": END.date().isoformat()}
    with container.engine.connect() as conn:
        raised = conn.exec_driver_sql("SELECT count(*) FROM events WHERE type = 'HotspotDetected'")
        assert raised.scalar() == 1

    own = bearer(container, "street", street="QH")
    listed = demo_client.get("/api/v1/worklists/hotspots", params=month, headers=own)
    assert listed.status_code == 200, listed.text
    [hotspot] = listed.json()["items"]
    assert (hotspot["grid"], hotspot["category"]) == ("QH-03", "city.stall")
    assert hotspot["count"] >= 5
    window = {"from": hotspot["window_start"], "to": hotspot["window_end"]}
    counted = demo_client.get(
        "/api/v1/stats/hotspots", params=window, headers=bearer(container, "supervisor")
    )
    assert counted.status_code == 200, counted.text
    [item] = counted.json()["items"]
    assert (item["grid"], item["category"]) == ("QH-03", "city.stall")
    # Raised on the day the fifth case came in; the window's later cases are counted too.
    assert set(hotspot["cases"]) <= set(item["cases"])
    other = bearer(container, "street", street="LA")
    elsewhere = demo_client.get("/api/v1/worklists/hotspots", params=month, headers=other)
    assert elsewhere.status_code == 200 and elsewhere.json()["items"] == []


def test_the_relay_has_nothing_left_to_do(demo):
    container, report = demo
    with container.engine.connect() as conn:
        assert load_checkpoint(conn, RELAY_CHECKPOINT) == report.events
        delivered = conn.exec_driver_sql("SELECT count(*) FROM deliveries").scalar()
    assert delivered == count(container, "case_tasks", "1 = 1")


@pytest.fixture
def demo_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DISPATCH_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_a_second_start_reuses_the_history_with_new_passwords(demo_settings, capsys):
    options = {"seed": 1, "fresh": False, "host": "127.0.0.1", "port": 8000}
    prepare_demo(cases=12, hasher=FAST_HASHER, **options)
    first = capsys.readouterr().out
    prepare_demo(cases=12, hasher=FAST_HASHER, **options)
    second = capsys.readouterr().out
    assert "Writing 12 cases" in first and "Reusing the demo" in second
    password = next(line.split()[2] for line in second.splitlines() if " operator " in line)
    assert password not in first
    engine = sa.create_engine(demo_settings)
    assert authenticate(engine, "operator", password, hasher=FAST_HASHER) is not None
    with engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM case_list").scalar() == 12
    engine.dispose()


def test_a_database_that_is_not_a_demo_is_refused(demo_settings):
    container = bootstrap(Settings(database_url=demo_settings))
    prepare_database(container.engine)
    load_catalogue(container.engine, SAMPLE.read_text(encoding="utf-8"), loaded_by="tests")
    complaint = Complaint(
        channel="phone", category="road.pothole", description="路面有坑", urgency="normal"
    )
    container.handle(
        new_case_id(), complaint, Issuer(actor=SystemActor(username="op"), role="operator")
    )
    container.close()
    for fresh in (False, True):
        with pytest.raises(typer.Exit):
            prepare_demo(cases=5, seed=1, fresh=fresh, host="127.0.0.1", port=8000)
    assert Path(demo_settings.removeprefix("sqlite:///")).exists()


def test_a_database_with_only_users_is_not_a_demo_either(demo_settings):
    container = bootstrap(Settings(database_url=demo_settings))
    prepare_database(container.engine)
    with container.engine.begin() as conn:
        add_user(conn, username="root", password="a long password", roles=["admin"])
    container.close()
    with pytest.raises(typer.Exit):
        prepare_demo(cases=5, seed=1, fresh=False, host="127.0.0.1", port=8000)


def test_the_month_has_patrols_with_a_few_missed_rounds(demo):
    container, _report = demo
    with container.engine.connect() as conn:
        kinds = dict(
            conn.exec_driver_sql(
                "SELECT type, count(*) FROM events WHERE stream_id LIKE 'patrol-%' GROUP BY type"
            ).all()
        )
    assert kinds.get("PatrolReported", 0) > 20 * kinds.get("PatrolReportMissed", 0) > 0
