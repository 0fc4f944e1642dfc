"""受理: a complaint becomes a case — number, reporter vault entry and CaseReceived, atomically."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from dispatch.catalogue import Catalogue, locate
from dispatch.domain.case import decide, fold
from dispatch.domain.commands import ReceiveCase
from dispatch.domain.events import Location
from dispatch.handlers.actor import Actor
from dispatch.handlers.case_numbers import case_for_key, next_case_no, remember_key
from dispatch.handlers.errors import InvalidInput, NoCatalogue
from dispatch.handlers.executor import CommandResult, load_case, meta_for
from events import EventStore
from events.vault import new_ref, store_personal_data

CatalogueSource = Callable[[], tuple[int, Catalogue] | None]


@dataclass(frozen=True)
class Complaint:
    channel: str
    category: str
    description: str
    urgency: str
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    grid: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None


def new_case_id() -> str:
    return uuid.uuid4().hex


def place_complaint(catalogue: Catalogue, complaint: Complaint) -> Location:
    """Resolve grid and street: an explicit grid code wins, else the point's polygon."""
    if complaint.grid is not None and catalogue.grid(complaint.grid) is None:
        raise InvalidInput("location.grid", f"unknown grid {complaint.grid!r}")
    location = Location(
        address=complaint.address, lat=complaint.lat, lon=complaint.lon, grid=complaint.grid
    )
    grid, street = locate(catalogue, location)
    return location.model_copy(update={"grid": grid, "street": street})


def receive_complaint(
    *,
    store: EventStore,
    clock: Callable[[], datetime],
    catalogue_source: CatalogueSource,
    complaint: Complaint,
    actor: Actor,
    role: str,
    idempotency_key: str | None = None,
) -> CommandResult:
    active = catalogue_source()
    if active is None:
        raise NoCatalogue()
    _number, catalogue = active
    if catalogue.category(complaint.category) is None:
        raise InvalidInput("category", f"unknown category {complaint.category!r}")
    location = place_complaint(catalogue, complaint)
    scoped_key = f"{actor.username}:{idempotency_key}" if idempotency_key else None
    case_id = new_case_id()
    now = clock()
    if scoped_key is not None:
        with store.reading() as conn:
            existing = case_for_key(conn, scoped_key)
        if existing is not None:
            return _replayed(store, existing)
    # The number comes from its own short transaction: the case's append must be the first
    # write of the intake transaction (safe tailing, see events.store). A failed intake
    # leaves a gap in the day's numbers, as a paper ledger's torn-out page would.
    case_no = next_case_no(store.engine, now.astimezone(catalogue.zone).strftime("%Y%m%d"))
    reporter = {"name": complaint.reporter_name, "phone": complaint.reporter_phone}
    reporter_ref = new_ref() if any(reporter.values()) else None
    command = ReceiveCase(
        case_id=case_id,
        case_no=case_no,
        channel=complaint.channel,
        category=complaint.category,
        description=complaint.description,
        urgency=complaint.urgency,
        location=location,
        reporter_ref=reporter_ref,
        received_at=now,
    )
    new_events = decide(None, command, now)
    meta = meta_for(actor, role, f"intake:{case_id}", None)
    try:
        with store.transaction() as conn:
            result = store.append(
                case_id, new_events, expected_version=0, meta=meta, conn=conn, now=now
            )
            if reporter_ref is not None:
                store_personal_data(conn, reporter, ref=reporter_ref)
            if scoped_key is not None:
                # A concurrent request with the same key fails here, at the key's primary
                # key, and its whole transaction (the event too) rolls back.
                remember_key(conn, scoped_key, case_id, now)
    except sa.exc.IntegrityError:
        # Lost the race for the same Idempotency-Key: the winner's case is the answer.
        with store.reading() as conn:
            existing = case_for_key(conn, scoped_key) if scoped_key else None
        if existing is None:
            raise
        return _replayed(store, existing)
    state = fold([(event, now) for event in new_events], case_id=case_id)
    assert state is not None
    return CommandResult(case_id, result.last_version, list(new_events), state)


def _replayed(store: EventStore, case_id: str) -> CommandResult:
    state, version = load_case(store, case_id)
    return CommandResult(case_id, version, [], state, duplicate=True)
