"""``dispatch verify [--against FILE]``: the hash chains, the seals and their signatures."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from dispatch.cli.common import fail, settings
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
        message = f"ok: {report.events_checked} events, {report.seals_checked} seals verified"
        message += signature_note(report, config.seal_key is not None)
        if exported is not None:
            message += f"; the log extends the exported seal at position {exported.position}"
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
