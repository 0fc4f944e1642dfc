"""``dispatch verify``: walk the hash chain and the seals; name the first bad event."""

from __future__ import annotations

import typer

from dispatch.cli.common import fail, settings
from events.database import make_engine
from events.integrity import seal_log, verify_log


def verify(
    seal: bool = typer.Option(False, help="also seal the log at its head if it verifies"),
) -> None:
    """Check every event's hash chain and every seal of the log."""
    engine = make_engine(settings().database_url)
    try:
        report = verify_log(engine)
        if not report.ok:
            fail(report.problems[0])
        message = f"ok: {report.events_checked} events, {report.seals_checked} seals verified"
        if seal:
            message += f"; sealed at position {seal_log(engine)}"
        typer.echo(message)
    finally:
        engine.dispose()
