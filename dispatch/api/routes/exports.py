"""The ledger (台账) as CSV or XLSX, streamed; supervisors only; phones always masked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.api.routes.stats import parse_moment, zone_and_weights
from dispatch.auth.users import User
from dispatch.bootstrap import Container
from dispatch.queries.ledger import LedgerFilter, csv_chunks, xlsx_chunks

router = APIRouter(tags=["exports"])

Supervisor = Annotated[User, Depends(roles("supervisor"))]
Moment = Annotated[str | None, Query(max_length=40)]
Status = Annotated[str | None, Query(max_length=32)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _options(
    container: Container, start: str | None, end: str | None, status: str | None
) -> dict[str, Any]:
    zone, _ = zone_and_weights(container)
    active = container.catalogue_source()
    names: dict[str, dict[str, str]] = {}
    if active is not None:
        catalogue = active[1]
        names["category"] = {c.code: c.name for c in catalogue.categories}
        names["department"] = {d.code: d.name for d in catalogue.departments}
    first = parse_moment("from", start, zone) if start else None
    last = parse_moment("to", end, zone, day_end=True) if end else None
    if first and last and last <= first:
        raise Problem(
            422, "to must be after from", errors=[{"field": "to", "message": "before from"}]
        )
    return {
        "now": container.clock(),
        "filters": LedgerFilter(start=first, end=last, status=status),
        "names": names,
        "timezone": str(zone),
    }


def _download(
    chunks: Callable[..., Iterator[bytes]],
    container: Container,
    options: dict[str, Any],
    media_type: str,
    extension: str,
) -> StreamingResponse:
    stamp = options["now"].astimezone(ZoneInfo(options["timezone"])).strftime("%Y%m%d")
    ascii_name, chinese_name = f"ledger-{stamp}.{extension}", f"台账-{stamp}.{extension}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}"
    return StreamingResponse(
        chunks(container.engine, **options),
        media_type=media_type,
        headers={"Content-Disposition": disposition},
    )


@router.get("/exports/cases.csv")
def ledger_csv(
    container: ContainerDep,
    _user: Supervisor,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Moment = None,
    status: Status = None,
) -> StreamingResponse:
    """The ledger as UTF-8 CSV with a BOM; ``from``/``to`` filter on the received date."""
    options = _options(container, from_, to, status)
    return _download(csv_chunks, container, options, "text/csv; charset=utf-8", "csv")


@router.get("/exports/cases.xlsx")
def ledger_xlsx(
    container: ContainerDep,
    _user: Supervisor,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Moment = None,
    status: Status = None,
) -> StreamingResponse:
    """The ledger as an Excel workbook (one sheet, 台账)."""
    options = _options(container, from_, to, status)
    return _download(xlsx_chunks, container, options, XLSX, "xlsx")
