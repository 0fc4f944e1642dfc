"""The ledger (台账): Chinese headers, masked phones, CSV with a BOM, XLSX that Excel opens."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from dispatch.projections import ProjectionRunner
from dispatch.projections.case_list import CaseListProjection
from dispatch.projections.kpi import KpiProjection
from dispatch.queries.ledger import HEADERS, LedgerFilter, csv_chunks, ledger_rows, xlsx_chunks
from events import EventStore
from events.vault import store_personal_data

from worlds.case_story import HOUR, MINUTE, CaseStory

BEIJING = ZoneInfo("Asia/Shanghai")


def a_day_of_our_own(unique: str) -> datetime:
    """A day far from other tests' cases, so the ledger of that day holds only ours: in the
    23rd to 30th centuries (between 2040 and 2089, once, two cases another test had filed on
    the day after ours showed in this ledger's 24 hours)."""
    number = int(unique, 16)
    year, month, day = 2200 + number % 800, 1 + number // 800 % 12, 1 + number // 9600 % 28
    return datetime(year, month, day, 9, 0, tzinfo=BEIJING)


@pytest.fixture
def ledger(engine: Engine, unique: str) -> dict[str, object]:
    day = a_day_of_our_own(unique)
    store = EventStore(engine)
    with engine.begin() as conn:
        ref = store_personal_data(conn, {"name": "张三", "phone": "13812345678"})
    late = CaseStory(store, category=f"cat-{unique}").received(day, reporter_ref=ref)
    task = late.dispatched(day + HOUR, f"water-{unique}", reply=24 * HOUR)
    late.signed(day + 2 * HOUR, task)
    late.replied(day + 30 * HOUR, task)
    late.callback(day + 31 * HOUR, "partly", "basic")
    late.closed(day + 32 * HOUR)
    waiting = CaseStory(store, category=f"cat-{unique}").received(day + HOUR)
    runner = ProjectionRunner(engine, [CaseListProjection(), KpiProjection()])
    runner.ensure_tables()
    runner.catch_up()
    options = {
        "now": day + 100 * HOUR,
        "filters": LedgerFilter(start=day, end=day + 24 * HOUR),
        "names": {"department": {f"water-{unique}": "自来水公司"}},
    }
    return {"late": late, "waiting": waiting, "options": options, "day": day}


def test_rows_follow_the_headers_with_masked_phones(engine, ledger) -> None:
    with engine.connect() as conn:
        rows = [row for chunk in ledger_rows(conn, **ledger["options"]) for row in chunk]
    by_number = {row[0]: dict(zip(HEADERS, row, strict=True)) for row in rows}
    late = by_number[ledger["late"].case_no]
    assert late["受理时间"] == ledger["day"].replace(tzinfo=None)  # local, as clerks read it
    assert late["主办部门"] == "自来水公司"
    assert late["状态"] == "已结案"
    assert late["是否超期"] == "是"  # replied 29 h after dispatch, 24 h allowed
    assert late["解决情况"] == "部分解决"
    assert late["满意度"] == "基本满意"
    assert late["诉求人电话"] == "138****5678"
    assert by_number[ledger["waiting"].case_no]["诉求人电话"] is None
    assert len(rows) == 2


def test_rows_come_in_chunks(engine, ledger) -> None:
    with engine.connect() as conn:
        chunks = list(ledger_rows(conn, chunk=1, **ledger["options"]))
    assert [len(chunk) for chunk in chunks] == [1, 1]
    assert chunks[0][0][0] == ledger["late"].case_no  # ordered by received time


def test_csv_starts_with_a_bom_and_the_chinese_headers(engine, ledger) -> None:
    body = b"".join(csv_chunks(engine, **ledger["options"]))
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:3] == ["工单编号", "受理时间", "渠道"]
    assert "13812345678" not in text
    assert any(line[0] == ledger["late"].case_no and "138****5678" in line for line in lines)


def test_xlsx_opens_with_the_same_rows(engine, ledger) -> None:
    body = b"".join(xlsx_chunks(engine, **ledger["options"]))
    sheet = load_workbook(io.BytesIO(body), read_only=True)["台账"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == HEADERS
    assert {row[0] for row in values[1:]} == {ledger["late"].case_no, ledger["waiting"].case_no}


FORMULA = '=HYPERLINK("http://evil.example/x","点我领补贴")'


@pytest.fixture
def formulas(engine: Engine, unique: str) -> dict[str, object]:
    """Cases whose addresses start like spreadsheet formulas, on a day of their own."""
    day = a_day_of_our_own(unique)
    store = EventStore(engine)
    addresses = [FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\tx", "＝1+1", "＠A1", "西一路 1 号"]
    stories = {
        CaseStory(store, category=f"cat-{unique}").received(day, address=a).case_no: a
        for a in addresses
    }
    runner = ProjectionRunner(engine, [CaseListProjection(), KpiProjection()])
    runner.ensure_tables()
    runner.catch_up()
    options = {"now": day + HOUR, "filters": LedgerFilter(start=day, end=day + 24 * HOUR)}
    return {"addresses": stories, "options": options}


def test_a_formula_in_an_address_is_text_in_both_exports(engine, formulas) -> None:
    address = HEADERS.index("地址")
    text = b"".join(csv_chunks(engine, **formulas["options"])).decode("utf-8-sig")
    in_csv = {line[0]: line[address] for line in list(csv.reader(io.StringIO(text)))[1:]}

    body = b"".join(xlsx_chunks(engine, **formulas["options"]))
    sheet = load_workbook(io.BytesIO(body))["台账"]
    in_xlsx = {row[0].value: row[address] for row in sheet.iter_rows(min_row=2)}

    for case_no, written in formulas["addresses"].items():
        expected = written if written == "西一路 1 号" else "'" + written
        assert in_csv[case_no] == expected
        cell = in_xlsx[case_no]
        assert (cell.value, cell.data_type) == (expected, "s")
    assert in_xlsx[next(iter(formulas["addresses"]))].value == "'" + FORMULA


def _ledger_as_of(engine: Engine, ledger: dict[str, object], as_of: datetime) -> dict:
    with engine.connect() as conn:
        chunks = ledger_rows(conn, as_of=as_of, **ledger["options"])  # type: ignore[arg-type]
        rows = [row for chunk in chunks for row in chunk]
    return {row[0]: dict(zip(HEADERS, row, strict=True)) for row in rows}


@pytest.fixture
def two_streets(engine: Engine, unique: str) -> dict[str, object]:
    """Two cases on one day: one in street N with the water company's reply, one in street S
    for the roads department, still open."""
    day = a_day_of_our_own(unique)
    store = EventStore(engine)
    water, roads = f"water-{unique}", f"roads-{unique}"
    north, south = f"N-{unique}", f"S-{unique}"
    replied = CaseStory(store, category=f"cat-{unique}", street=north).received(day)
    task = replied.dispatched(day + HOUR, water)
    replied.signed(day + 2 * HOUR, task)
    replied.replied(day + 3 * HOUR, task)
    waiting = CaseStory(store, category=f"road-{unique}", street=south).received(day + HOUR)
    waiting.dispatched(day + 2 * HOUR, roads)
    runner = ProjectionRunner(engine, [CaseListProjection(), KpiProjection()])
    runner.ensure_tables()
    runner.catch_up()
    names = {"street": {north: "北街道", south: "南街道"}}
    return {
        "day": day, "replied": replied, "waiting": waiting, "names": names,
        "water": water, "north": north, "south": south, "road": f"road-{unique}",
    }  # fmt: skip


def _ledger_of(engine: Engine, world: dict[str, object], **narrowing: str) -> dict[str, dict]:
    day = world["day"]
    filters = LedgerFilter(start=day, end=day + 24 * HOUR, **narrowing)  # type: ignore[operator]
    with engine.connect() as conn:
        chunks = ledger_rows(conn, now=day + 5 * HOUR, filters=filters, names=world["names"])
        rows = [row for chunk in chunks for row in chunk]
    return {row[0]: dict(zip(HEADERS, row, strict=True)) for row in rows}


def test_a_ledger_as_of_before_the_close_shows_the_case_open(engine, ledger) -> None:
    day = ledger["day"]
    late = _ledger_as_of(engine, ledger, day + 31 * HOUR + 30 * MINUTE)[ledger["late"].case_no]
    assert late["状态"] == "已答复"
    assert late["结案时间"] is None
    assert late["满意度"] == "基本满意"  # the callback came before
    closed = _ledger_as_of(engine, ledger, day + 33 * HOUR)[ledger["late"].case_no]
    assert closed["状态"] == "已结案"


def test_a_ledger_as_of_shows_lateness_as_it_stood_then(engine, ledger) -> None:
    day = ledger["day"]
    on_time = _ledger_as_of(engine, ledger, day + 20 * HOUR)[ledger["late"].case_no]
    assert (on_time["状态"], on_time["是否超期"], on_time["办结时间"]) == ("办理中", "否", None)
    late = _ledger_as_of(engine, ledger, day + 26 * HOUR)[ledger["late"].case_no]
    assert late["是否超期"] == "是"  # the reply was due at 25 h and had not come


def test_a_case_received_after_as_of_is_not_in_the_ledger(engine, ledger) -> None:
    day = ledger["day"]
    rows = _ledger_as_of(engine, ledger, day + 30 * MINUTE)
    assert list(rows) == [ledger["late"].case_no]
    assert rows[ledger["late"].case_no]["状态"] == "已受理"  # not yet dispatched then
    assert rows[ledger["late"].case_no]["主办部门"] is None


def test_a_ledger_as_of_filters_on_the_status_it_had_then(engine, ledger) -> None:
    day = ledger["day"]
    options = {**ledger["options"], "filters": LedgerFilter(start=day, status="received")}
    with engine.connect() as conn:
        rows = [r for c in ledger_rows(conn, as_of=day + 2 * HOUR, **options) for r in c]
    assert [row[0] for row in rows] == [ledger["waiting"].case_no]


def test_the_ledger_has_the_description_the_handling_result_and_street_names(
    engine, two_streets
) -> None:
    rows = _ledger_of(engine, two_streets)
    replied = rows[two_streets["replied"].case_no]
    assert replied["诉求描述"] == "路灯不亮"
    assert replied["办理结果"] == "已修复"
    assert replied["街道"] == "北街道"  # a name, not the code
    assert rows[two_streets["waiting"].case_no]["办理结果"] is None


def test_the_ledger_follows_the_department_street_and_category_filters(engine, two_streets) -> None:
    replied, waiting = two_streets["replied"].case_no, two_streets["waiting"].case_no
    assert set(_ledger_of(engine, two_streets)) == {replied, waiting}
    assert set(_ledger_of(engine, two_streets, department=two_streets["water"])) == {replied}
    assert set(_ledger_of(engine, two_streets, street=two_streets["south"])) == {waiting}
    assert set(_ledger_of(engine, two_streets, category=two_streets["road"])) == {waiting}
    assert _ledger_of(engine, two_streets, street=two_streets["south"], department="x") == {}
