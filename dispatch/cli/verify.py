"""``dispatch verify [--against FILE]``: the hash chains, the seals and their signatures,
and every attachment's stored file (DESIGN §8.6)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from sqlalchemy.engine import Engine

from dispatch.cli.common import fail, settings
from dispatch.media import FileState, MediaStore, file_state, media_store_from_settings
from events import EventStore
from events.database import make_engine
from events.integrity import Seal, SealBroken, VerifyReport, seal_log, verify_log


def verify(
    seal: bool = typer.Option(False, help="also seal the log at its head if it verifies"),
    against: Path | None = typer.Option(
        None, "--against", help="a seal written by `dispatch seal export`: prove the log extends it"
    ),
) -> None:
    """Check every event's hash chain, every seal of the log, and an exported seal."""
    config = settings()
    exported = read_exported_seal(against) if against is not None else None
    engine = make_engine(config.database_url)
    try:
        report = verify_log(engine, key=config.seal_key, against=exported)
        if not report.ok:
            fail(headline(report))
        files, damaged = check_attachments(engine, media_store_from_settings(config))
        if damaged:
            more = f" (and {len(damaged) - 20} more)" if len(damaged) > 20 else ""
            fail("; ".join(damaged[:20]) + more)
        message = f"ok: {report.events_checked} events, {report.seals_checked} seals verified"
        message += signature_note(report, config.seal_key is not None)
        if exported is not None:
            message += f"; the log extends the exported seal at position {exported.position}"
        if files:
            message += f"; {files} attachment files intact"
        if seal:
            try:
                made = seal_log(engine, key=config.seal_key)
            except SealBroken as error:
                fail(str(error))
            if made is not None:
                message += f"; sealed at position {made.position}"
        typer.echo(message)
    finally:
        engine.dispose()


def headline(report: VerifyReport) -> str:
    """The exported seal's verdict first: it is the evidence a database rewrite cannot reach."""
    found = [p for p in (report.exported_problem, *report.problems) if p]
    more = f" (and {len(found) - 1} more problems)" if len(found) > 1 else ""
    return found[0] + more


def signature_note(report: VerifyReport, keyed: bool) -> str:
    if keyed:
        note = f"; {report.signed_seals} signed with DISPATCH_SEAL_KEY"
        if report.unsigned_seals:
            note += f", {report.unsigned_seals} unsigned (made before the key)"
        return note
    if report.seals_checked:
        return (
            "; signatures not checked (DISPATCH_SEAL_KEY is not set): the seals catch damage, "
            "not a rewrite by someone with database access"
        )
    return ""


def read_exported_seal(path: Path) -> Seal:
    try:
        return Seal.from_json(json.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
    except (ValueError, UnicodeDecodeError) as error:
        fail(f"{path} is not an exported seal: {error}")


_DAMAGE = {
    FileState.CHANGED: "was changed: its bytes no longer hash to the recorded sha256",
    FileState.MISSING: "is missing from the media store",
}


def check_attachments(engine: Engine, store: MediaStore) -> tuple[int, list[str]]:
    """How many attachments were checked, and one line per changed or missing file."""
    checked = 0
    damaged: list[str] = []
    for batch in EventStore(engine).iter_all():
        for recorded in batch:
            if recorded.type != "AttachmentAdded":
                continue
            checked += 1
            sha256 = str(recorded.data.get("sha256", ""))
            state = file_state(store, sha256)
            if state != FileState.OK:
                damaged.append(
                    f"attachment {recorded.data.get('attachment_id')} of case "
                    f"{recorded.stream_id} (event position {recorded.position}, sha256 "
                    f"{sha256}) {_DAMAGE[state]}"
                )
    return checked, damaged
