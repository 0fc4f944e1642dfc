"""``dispatch verify [--against FILE] [--strays | --remove-strays]``: the hash chains, the
seals and their signatures, and every attachment's stored file (DESIGN §8.6): changed or
missing files are named, erased ones counted, and stray files (stored, named by no live
attachment) listed or removed on request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import typer

from dispatch.cli.common import fail, settings
from dispatch.media import FileState, MediaStore, file_state, media_store_from_settings
from dispatch.queries.attachment_files import AttachmentFiles, attachment_files
from events import EventStore
from events.database import make_engine
from events.integrity import Seal, SealBroken, VerifyReport, seal_log, verify_log


def verify(
    seal: bool = typer.Option(False, help="also seal the log at its head if it verifies"),
    against: Path | None = typer.Option(
        None, "--against", help="a seal written by `dispatch seal export`: prove the log extends it"
    ),
    strays: bool = typer.Option(
        False, "--strays", help="also list stored files no attachment names (stray uploads)"
    ),
    remove_strays: bool = typer.Option(
        False, "--remove-strays", help="list the stray files and delete them"
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
        store = media_store_from_settings(config)
        recorded = attachment_files(EventStore(engine))
        files = check_attachments(recorded, store)
        if files.damaged:
            damaged = files.damaged
            more = f" (and {len(damaged) - 20} more)" if len(damaged) > 20 else ""
            fail("; ".join(damaged[:20]) + more)
        message = f"ok: {report.events_checked} events, {report.seals_checked} seals verified"
        message += signature_note(report, config.seal_key is not None)
        if exported is not None:
            message += f"; the log extends the exported seal at position {exported.position}"
        if files.intact:
            message += f"; {files.intact} attachment files intact"
        if files.erased:
            message += f"; {files.erased} attachments erased (privacy erase)"
        if strays or remove_strays:
            message += report_strays(recorded, store, remove=remove_strays)
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


@dataclass(frozen=True)
class FilesReport:
    """Attachments checked (their files intact), erased on purpose, and one line per damage."""

    intact: int
    erased: int
    damaged: list[str]


def check_attachments(recorded: AttachmentFiles, store: MediaStore) -> FilesReport:
    """Every live attachment's file must hash to its address; an erased one is not looked for
    (privacy erase deleted it, and its ``AttachmentErased`` event says so)."""
    intact = erased = 0
    damaged: list[str] = []
    for file in recorded.files:
        if file.erased:
            erased += 1
            continue
        state = file_state(store, file.sha256)
        if state == FileState.OK:
            intact += 1
            continue
        damaged.append(
            f"attachment {file.attachment_id} of case {file.case_id} (event position "
            f"{file.position}, sha256 {file.sha256}) {_DAMAGE[state]}"
        )
    return FilesReport(intact=intact, erased=erased, damaged=damaged)


def report_strays(recorded: AttachmentFiles, store: MediaStore, *, remove: bool) -> str:
    """One line per stored file no live attachment names; removed when asked."""
    strays = recorded.strays(store.iter_all())
    for sha256 in strays:
        note = " (removed)" if remove else ""
        typer.echo(f"stray file {sha256}: no attachment names it{note}")
        if remove:
            store.delete(sha256)
    if not strays:
        return "; no stray files"
    verb = "removed" if remove else "listed (--remove-strays deletes them)"
    return f"; {len(strays)} stray files {verb}"
