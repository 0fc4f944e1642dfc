"""受理: a complaint becomes a case — number, reporter vault entry and CaseReceived, atomically."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields

from dispatch.catalogue import Catalogue, locate
from dispatch.domain.commands import AddAttachment, ReceiveCase
from dispatch.domain.events import Location
from dispatch.handlers.actor import Actor
from dispatch.handlers.errors import IdempotencyKeyReused, InvalidInput, KeyTaken, NotInScope
from dispatch.handlers.executor import CommandResult, execute_first, meta_for, replayed
from dispatch.handlers.handling import Handling, Issuer, RememberedKey
from events.vault import new_ref


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
    nature: str = "complaint"
    reporter_confidential: bool = False  # 保密
    answer: str | None = None  # 直接答复 at intake
    media_url: str | None = None
    attachments: tuple[AddAttachment, ...] = ()  # stored already (``store_upload``)

    def fingerprint(self) -> str:
        """What an Idempotency-Key promises: the same key names the same request. Photos count
        by their bytes (sha256), not by the ids their upload was given."""
        fields = {f.name: getattr(self, f.name) for f in dataclass_fields(self)}
        fields["attachments"] = sorted(a.sha256 for a in self.attachments)
        canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_case_id() -> str:
    return uuid.uuid4().hex


def place_complaint(catalogue: Catalogue, complaint: Complaint) -> Location:
    """Resolve grid and street: an explicit grid code wins, else the point's polygon."""
    if complaint.grid is not None and catalogue.grid(complaint.grid) is None:
        raise InvalidInput(
            "location.grid",
            f"unknown grid {complaint.grid!r}",
            code="unknown_grid",
            facts={"grid": complaint.grid},
        )
    location = Location(
        address=complaint.address, lat=complaint.lat, lon=complaint.lon, grid=complaint.grid
    )
    grid, street = locate(catalogue, location)
    return location.model_copy(update={"grid": grid, "street": street})


def check_in_own_street(actor: Actor, location: Location) -> None:
    """A street officer files problems found in the street's own grids only."""
    if location.street != actor.street:
        raise NotInScope(
            f"street officers of {actor.street} report problems in their own street only; "
            f"this location is in {location.street or 'no known street'}",
            code="outside_own_street",
        )


def check_grid_patrol(actor: Actor, channel: str, location: Location) -> None:
    """A grid worker (网格员) files what its patrol finds, in its own grid only."""
    if channel != "patrol":
        raise InvalidInput(
            "channel",
            "a grid worker files the problems its patrol finds: the channel is patrol",
            code="grid_files_patrol_only",
            facts={"channel": channel},
        )
    if location.grid != actor.grid:
        raise NotInScope(
            f"the grid worker of {actor.grid} reports problems in that grid only; "
            f"this location is in {location.grid or 'no known grid'}",
            code="outside_own_grid",
            facts={"grid": location.grid},
        )


def receive_complaint(
    deps: Handling, case_id: str, command: Complaint, issuer: Issuer
) -> CommandResult:
    """受理 as case ``case_id`` (``new_case_id()``); ``issuer.command_id`` is the client's
    Idempotency-Key: the same key from the same user returns the case it made first."""
    _number, catalogue = deps.catalogue()
    if issuer.role == "street":
        check_in_own_street(issuer.actor, place_complaint(catalogue, command))
    if issuer.role == "grid":
        check_grid_patrol(issuer.actor, command.channel, place_complaint(catalogue, command))
    if catalogue.category(command.category) is None:
        raise InvalidInput(
            "category",
            f"unknown category {command.category!r}",
            code="unknown_category",
            facts={"category": command.category},
        )
    location = place_complaint(catalogue, command)
    key = f"{issuer.actor.username}:{issuer.command_id}" if issuer.command_id else None
    fingerprint = command.fingerprint()
    now = deps.clock()
    if key is not None:
        existing = deps.intake.case_for_key(key)
        if existing is not None:
            return _replay(deps, existing, fingerprint)
    case_no = deps.intake.next_case_no(now.astimezone(catalogue.zone).strftime("%Y%m%d"))
    reporter: dict[str, str | bool | None] = {
        "name": command.reporter_name,
        "phone": command.reporter_phone,
    }
    reporter_ref = new_ref() if any(reporter.values()) else None
    if command.reporter_confidential:
        reporter["confidential"] = True
    # Channel and urgency arrive as text (form, Open311, demo): validated here.
    receive = ReceiveCase.model_validate(
        {
            "case_id": case_id,
            "case_no": case_no,
            "channel": command.channel,
            "nature": command.nature,
            "category": command.category,
            "description": command.description,
            "urgency": command.urgency,
            "location": location,
            "reporter_ref": reporter_ref,
            "received_at": now,
            "answer": command.answer,
            "media_url": command.media_url,
            "attachments": command.attachments,
        }
    )
    try:
        return execute_first(
            case_id,
            receive,
            meta_for(issuer, f"intake:{case_id}"),
            now,
            lambda new_events, meta, at: deps.intake.open_case(
                case_id,
                new_events,
                meta=meta,
                now=at,
                reporter_ref=reporter_ref,
                reporter=reporter,
                key=key,
                fingerprint=fingerprint,
            ),
        )
    except KeyTaken as taken:
        # Lost the race for the same Idempotency-Key: the winner's case is the answer.
        return _replay(deps, RememberedKey(taken.case_id, taken.fingerprint), fingerprint)


def _replay(deps: Handling, existing: RememberedKey, fingerprint: str) -> CommandResult:
    """The key's case again, if the body is the one that made it (keys stored before
    fingerprints were kept have none, and are trusted)."""
    if existing.fingerprint is not None and existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused(existing.case_id)
    return replayed(deps, existing.case_id)
