"""The ledger (台账) as a download, CSV or XLSX, streamed; phones always masked.

The API's export routes and the console's export buttons both answer with ``ledger_download``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Engine

from dispatch.catalogue import Catalogue
from dispatch.queries.ledger import LedgerFilter, csv_chunks, xlsx_chunks

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def ledger_names(active: tuple[int, Catalogue] | None) -> dict[str, dict[str, str]]:
    """Category, department, street and grid names for the codes, from the active catalogue."""
    if active is None:
        return {}
    catalogue = active[1]
    return {
        "category": {c.code: c.name for c in catalogue.categories},
        "department": {d.code: d.name for d in catalogue.departments},
        "street": {s.code: s.name for s in catalogue.streets},
        "grid": {g.code: g.name for g in catalogue.grids},
    }


def ledger_download(
    engine: Engine,
    kind: Literal["csv", "xlsx"],
    *,
    now: datetime,
    active: tuple[int, Catalogue] | None,
    timezone: ZoneInfo,
    filters: LedgerFilter,
    as_of: datetime | None = None,
) -> StreamingResponse:
    stamp = now.astimezone(timezone).strftime("%Y%m%d")
    ascii_name, chinese_name = f"ledger-{stamp}.{kind}", f"台账-{stamp}.{kind}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}"
    chunks = csv_chunks if kind == "csv" else xlsx_chunks
    return StreamingResponse(
        chunks(
            engine,
            now=now,
            filters=filters,
            names=ledger_names(active),
            timezone=str(timezone),
            as_of=as_of,
        ),
        media_type=CSV if kind == "csv" else XLSX,
        headers={"Content-Disposition": disposition},
    )
