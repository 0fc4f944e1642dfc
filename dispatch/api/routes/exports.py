"""The ledger (台账) as CSV or XLSX, streamed; supervisors only; phones always masked."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.api.routes.stats import parse_moment, zone_and_weights
from dispatch.auth.users import User
from dispatch.bootstrap import Container
from dispatch.queries.ledger import LedgerFilter
from dispatch.queries.ledger_files import ledger_download

router = APIRouter(tags=["exports"])

Supervisor = Annotated[User, Depends(roles("supervisor"))]
Moment = Annotated[str | None, Query(max_length=40)]
Status = Annotated[str | None, Query(max_length=32)]


def _download(
    container: Container,
    kind: Literal["csv", "xlsx"],
    start: str | None,
    end: str | None,
    status: str | None,
    as_of: str | None,
) -> StreamingResponse:
    zone, _ = zone_and_weights(container)
    moment = parse_moment("as_of", as_of, zone) if as_of else None
    first = parse_moment("from", start, zone) if start else None
    last = parse_moment("to", end, zone, day_end=True) if end else None
    if first and last and last <= first:
        raise Problem(
            422, "to must be after from", errors=[{"field": "to", "message": "before from"}]
        )
    return ledger_download(
        container.engine,
        kind,
        now=container.clock(),
        active=container.catalogue_source(),
        timezone=zone,
        filters=LedgerFilter(start=first, end=last, status=status),
        as_of=moment,
    )


@router.get("/exports/cases.csv")
def ledger_csv(
    container: ContainerDep,
    _user: Supervisor,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Moment = None,
    status: Status = None,
    as_of: Moment = None,
) -> StreamingResponse:
    """The ledger as UTF-8 CSV with a BOM; ``from``/``to`` filter on the received date;
    ``as_of`` (a time, or a local date meaning its start) gives the cases as the log stood
    then: only those received by then, status, deadlines and lateness as they were."""
    return _download(container, "csv", from_, to, status, as_of)


@router.get("/exports/cases.xlsx")
def ledger_xlsx(
    container: ContainerDep,
    _user: Supervisor,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Moment = None,
    status: Status = None,
    as_of: Moment = None,
) -> StreamingResponse:
    """The ledger as an Excel workbook (one sheet, 台账); ``as_of`` as for the CSV."""
    return _download(container, "xlsx", from_, to, status, as_of)
