"""``dispatch privacy erase CASE_ID``: forget the reporter of a case, keep the hash chain."""

from __future__ import annotations

import typer

from dispatch.cli.common import fail, settings
from dispatch.domain.events import CaseReceived, registry
from events import EventStore
from events.database import make_engine
from events.vault import erase_personal_data

app = typer.Typer(no_args_is_help=True, help="Personal data of reporters")


@app.command("erase")
def erase(case_id: str) -> None:
    """Erase the reporter's name and phone of CASE_ID (events and their hashes stay as they are)."""
    engine = make_engine(settings().database_url)
    try:
        store = EventStore(engine)
        history = store.read_stream(case_id)
        if not history:
            fail(f"no case with id {case_id!r}")
        received = registry.decode(history[0])
        if not isinstance(received, CaseReceived) or received.reporter_ref is None:
            typer.echo(f"case {case_id} has no reporter on record; nothing to erase")
            return
        with store.transaction() as conn:
            erased = erase_personal_data(conn, received.reporter_ref)
        if not erased:
            fail(f"the reporter record {received.reporter_ref} of case {case_id} is missing")
        typer.echo(f"erased the reporter of case {case_id} ({received.case_no})")
    finally:
        engine.dispose()
