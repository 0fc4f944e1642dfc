"""The ledger (台账): every case as one row with Chinese headers, as CSV or XLSX, streamed.

Rows come from the case list projection in keyset-paginated chunks (ordered by received time
and id), with each case's current lead task from the KPI facts, so memory stays flat for a
million cases (``as_of`` rebuilds them from the log instead: see ``ledger_as_of``): CSV is
encoded chunk by chunk; XLSX is written by openpyxl in write-only mode (rows go straight to a
temporary file) into a ``SpooledTemporaryFile`` that is then streamed in pieces. Phones are
always masked.

A cell a citizen's words reach (an address, say) may start like a formula —
``=HYPERLINK(…)`` — which a spreadsheet would run on the clerk's machine. Every text cell
that starts with ``= + - @``, a tab, a carriage return or a full-width ``＝ ＋ － ＠`` is
written as text: prefixed with ``'`` in both formats, and typed as a string in the XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy.engine import Connection, Engine

from dispatch.projections.bulk import among
from dispatch.projections.case_list import live_tables
from dispatch.projections.kpi_tables import define_kpi_tables
from dispatch.queries.ledger_as_of import as_ledger_row, cases_as_of
from dispatch.queries.masking import mask_phone, mask_phones
from events import as_utc
from events.vault import load_personal_data

HEADERS = (
    "工单编号", "受理时间", "渠道", "类别", "紧急程度", "诉求描述", "地址", "网格", "街道",
    "主办部门", "状态", "签收时限", "办结时限", "办结时间", "办理结果", "结案时间", "是否超期",
    "流转次数", "重办次数", "解决情况", "满意度", "诉求人电话",
)  # fmt: skip
CHANNELS = {
    "phone": "电话", "web": "网站", "app": "移动端", "wechat": "微信", "open311": "Open311",
    "patrol": "巡查上报", "email": "邮件", "other": "其他",
}  # fmt: skip
URGENCIES = {"normal": "一般", "urgent": "紧急", "emergency": "特急"}
STATUSES = {
    "received": "已受理", "dispatched": "已派单", "in_progress": "办理中", "replied": "已答复",
    "closed": "已结案", "answered": "直接答复", "parked": "挂账", "merged": "已合并",
    "reopened": "重办",
}  # fmt: skip
SOLVED = {"solved": "已解决", "partly": "部分解决", "unsolved": "未解决"}
SATISFACTION = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意", "none": "未评价"}
CHUNK = 1000
kpi_tasks = define_kpi_tables(sa.MetaData())["tasks"]
PIECE = 64 * 1024  # bytes per chunk of a streamed XLSX
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


class LedgerFilter:
    """Which cases go into the ledger: received in ``[start, end)`` and, optionally, a status,
    a department holding a task, a street and a category (the dashboard's filter bar)."""

    def __init__(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        status: str | None = None,
        department: str | None = None,
        street: str | None = None,
        category: str | None = None,
    ) -> None:
        self.start = start.astimezone(UTC) if start else None
        self.end = end.astimezone(UTC) if end else None
        self.status = status
        self.department, self.street, self.category = department, street, category

    def where(self, cases: sa.Table) -> list[sa.ColumnElement[bool]]:
        clauses = []
        if self.start is not None:
            clauses.append(cases.c.received_at >= self.start)
        if self.end is not None:
            clauses.append(cases.c.received_at < self.end)
        if self.status is not None:
            clauses.append(cases.c.status == self.status)
        if self.department is not None:
            # ``departments`` is ",water,roads,": every department that held a task.
            clauses.append(cases.c.departments.contains(f",{self.department},", autoescape=True))
        if self.street is not None:
            clauses.append(cases.c.street == self.street)
        if self.category is not None:
            clauses.append(cases.c.category == self.category)
        return clauses

    def admits(self, row: Any) -> bool:
        """The same test on a row folded in memory (the ``as_of`` ledger); its received time
        was chosen by the window already."""
        return (
            self.status in (None, row.status)
            and self.street in (None, row.street)
            and self.category in (None, row.category)
            and (
                self.department is None
                or f",{self.department}," in (getattr(row, "departments", None) or "")
            )
        )


def _current_leads(conn: Connection, rows: Sequence[Any]) -> dict[str, Any]:
    """Each case's current lead task (the latest lead dispatch), from the KPI task facts.

    Those rows keep every time in UTC and ``reply_by`` after approved extensions.
    """
    query = (
        sa.select(kpi_tasks)
        .where(among(conn, kpi_tasks.c.case_id, [row.id for row in rows]))
        .where(kpi_tasks.c.role == "lead", kpi_tasks.c.superseded_at.is_(None))
        .order_by(kpi_tasks.c.case_id, kpi_tasks.c.dispatched_at)
    )
    return {task.case_id: task for task in conn.execute(query)}


def _resolutions(conn: Connection, rows: Sequence[Any]) -> dict[str, str]:
    """办结结果: each case's replies, lead first, then in dispatch order (one line each)."""
    tasks = live_tables()["case_tasks"]
    query = (
        sa.select(tasks.c.case_id, tasks.c.resolution)
        .where(among(conn, tasks.c.case_id, [row.id for row in rows]))
        .where(tasks.c.resolution.is_not(None))
        .order_by(tasks.c.case_id, tasks.c.role != "lead", tasks.c.dispatched_version)
    )
    found: dict[str, list[str]] = {}
    for task in conn.execute(query):
        found.setdefault(task.case_id, []).append(task.resolution)
    return {case_id: "\n".join(texts) for case_id, texts in found.items()}


def _overdue(row: Any, lead: Any | None, now: datetime) -> bool:
    """是否超期 in the ledger is the case's history: late at any step, now or before."""
    if row.overdue or row.was_overdue:
        return True
    if lead is None or lead.reply_by is None:
        return False
    reply_by = as_utc(lead.reply_by)
    if lead.replied_at is not None:
        return as_utc(lead.replied_at) > reply_by
    return row.status not in ("closed", "answered", "merged", "parked") and now > reply_by


Page = tuple[Sequence[Any], dict[str, Any], dict[str, str]]


def _pages(conn: Connection, filters: LedgerFilter, chunk: int) -> Iterator[Page]:
    """The case list's rows, a chunk at a time, with each case's current lead task and its
    departments' replies (办理结果)."""
    cases = live_tables()["case_list"]
    after: tuple[datetime, str] | None = None
    while True:
        query = sa.select(cases).where(*filters.where(cases))
        if after is not None:
            query = query.where(sa.tuple_(cases.c.received_at, cases.c.id) > after)
        rows = conn.execute(query.order_by(cases.c.received_at, cases.c.id).limit(chunk)).all()
        if not rows:
            return
        yield rows, _current_leads(conn, rows), _resolutions(conn, rows)
        last = rows[-1]
        after = (last.received_at, last.id)


def _pages_as_of(
    conn: Connection, filters: LedgerFilter, chunk: int, as_of: datetime
) -> Iterator[Page]:
    """The same rows as the log stood at ``as_of`` (see ``ledger_as_of``)."""
    chosen = []
    for case in cases_as_of(conn, as_of, start=filters.start, end=filters.end):
        row, lead = as_ledger_row(case)
        if filters.admits(row):
            chosen.append((row, lead, _replies_of(case.tasks.values())))
    for first in range(0, len(chosen), chunk):
        part = chosen[first : first + chunk]
        leads = {row.id: lead for row, lead, _ in part if lead is not None}
        yield [row for row, _, _ in part], leads, {row.id: text for row, _, text in part if text}


def _replies_of(tasks: Iterable[Mapping[str, Any]]) -> str:
    """办理结果 from folded task rows: lead first, then in dispatch order."""
    ordered = sorted(tasks, key=lambda t: (t["role"] != "lead", t["dispatched_version"]))
    return "\n".join(t["resolution"] for t in ordered if t.get("resolution"))


def ledger_rows(
    conn: Connection,
    *,
    now: datetime,
    filters: LedgerFilter | None = None,
    names: dict[str, dict[str, str]] | None = None,
    timezone: str = "Asia/Shanghai",
    chunk: int = CHUNK,
    as_of: datetime | None = None,
) -> Iterator[list[list[Any]]]:
    """Chunks of ledger rows (values in ``HEADERS`` order, times as local naive datetimes).

    ``names`` maps codes to display names: ``{"category": {...}, "department": {...}}``.
    With ``as_of``, the cases as the log stood at that instant, late or not as of then.
    """
    filters = filters or LedgerFilter()
    names = names or {}
    zone = ZoneInfo(timezone)
    now = (as_of or now).astimezone(UTC)
    pages = _pages_as_of(conn, filters, chunk, as_of) if as_of else _pages(conn, filters, chunk)

    def local(moment: datetime | None) -> datetime | None:
        return as_utc(moment).astimezone(zone).replace(tzinfo=None) if moment else None

    def named(kind: str, code: str | None) -> str | None:
        return names.get(kind, {}).get(code, code) if code else None

    for rows, leads, resolutions in pages:
        people = load_personal_data(conn, [r.reporter_ref for r in rows if r.reporter_ref])
        out = []
        for row in rows:
            lead = leads.get(row.id)
            person = (people.get(row.reporter_ref) or {}) if row.reporter_ref else {}
            out.append(
                [
                    row.case_no,
                    local(row.received_at),
                    CHANNELS.get(row.channel, row.channel),
                    named("category", row.category),
                    URGENCIES.get(row.urgency, row.urgency),
                    mask_phones(row.description),
                    mask_phones(row.address),
                    named("grid", row.grid),
                    named("street", row.street),
                    named("department", row.lead_department),
                    STATUSES.get(row.status, row.status),
                    local(lead.sign_by) if lead is not None else None,
                    local(lead.reply_by) if lead is not None else None,
                    local(lead.replied_at) if lead is not None else None,
                    mask_phones(resolutions.get(row.id)),
                    local(row.closed_at),
                    "是" if _overdue(row, lead, now) else "否",
                    row.hops,
                    row.reopen_count,
                    SOLVED.get(row.callback_solved or ""),
                    SATISFACTION.get(row.callback_satisfaction or ""),
                    mask_phone(person.get("phone")),
                ]
            )
        yield out


def as_text(value: str) -> str:
    """``value`` as a spreadsheet will show it, never run it: see the module docstring."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return as_text(str(value))


def _cells(sheet: Any, row: list[Any]) -> list[Any]:
    """Text cells typed as strings (openpyxl takes any text starting with ``=`` for a
    formula); numbers and times as they are."""
    cells: list[Any] = []
    for value in row:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=as_text(value))
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def csv_chunks(engine: Engine, **options: Any) -> Iterator[bytes]:
    """The ledger as UTF-8 CSV with a BOM (so Excel opens the Chinese correctly), in pieces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(HEADERS)
    with engine.connect() as conn:
        for rows in ledger_rows(conn, **options):
            writer.writerows([_text(value) for value in row] for row in rows)
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    tail = buffer.getvalue()
    if tail:
        yield tail.encode("utf-8")


def write_xlsx(engine: Engine, target: IO[bytes], **options: Any) -> None:
    """The ledger as an XLSX workbook, written row by row (openpyxl write-only mode)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("台账")
    sheet.freeze_panes = "A2"
    sheet.append(list(HEADERS))
    with engine.connect() as conn:
        for rows in ledger_rows(conn, **options):
            for row in rows:
                sheet.append(_cells(sheet, row))
    workbook.save(target)


def xlsx_chunks(engine: Engine, **options: Any) -> Iterator[bytes]:
    """Build the workbook in a spooled temporary file, then hand it out in pieces.

    A ZIP cannot be streamed before it is finished, so the file is built first; it spills to
    disk past a few megabytes, which keeps memory flat however long the ledger is.
    """
    with SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        write_xlsx(engine, spool, **options)
        spool.seek(0)
        while piece := spool.read(PIECE):
            yield piece
