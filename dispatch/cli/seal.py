"""``dispatch seal now`` · ``dispatch seal export [FILE]``: seals kept outside the database.

The scheduler seals the log every few minutes (``DISPATCH_SEAL_MINUTES``). An export is the
latest seal as JSON, to keep somewhere a database administrator cannot reach; later,
``dispatch verify --against FILE`` proves the log still extends it.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from dispatch.cli.common import fail, settings
from dispatch.cli.users import database_problem
from events.database import make_engine
from events.seals import SealBroken, latest_seal, seal_log

app = typer.Typer(no_args_is_help=True, help="Seals of the event log")


@app.command("now")
def now() -> None:
    """Seal the log up to its safe horizon (as the scheduler does)."""
    config = settings()
    engine = make_engine(config.database_url)
    try:
        made = seal_log(engine, key=config.seal_key)
    except SealBroken as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(database_problem(error))
    finally:
        engine.dispose()
    if made is None:
        fail("the log is empty; there is nothing to seal")
    signed = "signed" if made.hmac else "unsigned (DISPATCH_SEAL_KEY is not set)"
    typer.echo(f"sealed at position {made.position} ({made.event_count} events), {signed}")


@app.command("export")
def export(
    file: Path | None = typer.Argument(None, help="where to write it; stdout when omitted or -"),
) -> None:
    """Write the latest seal (position, cumulative hash, HMAC) as JSON."""
    config = settings()
    engine = make_engine(config.database_url)
    try:
        seal = latest_seal(engine)
    except SQLAlchemyError as error:
        fail(database_problem(error))
    finally:
        engine.dispose()
    if seal is None:
        fail("the log has no seal yet; `dispatch seal now` makes one")
    if (
        config.seal_key is not None
        and seal.hmac is not None
        and not seal.signed_with(config.seal_key)
    ):
        fail(
            f"the latest seal (#{seal.id}) does not carry DISPATCH_SEAL_KEY's signature; "
            "not exporting it: run `dispatch verify`"
        )
    if seal.hmac is None:
        typer.echo("note: this seal is unsigned (no DISPATCH_SEAL_KEY when it was made)", err=True)
    text = json.dumps(seal.as_json(), indent=2) + "\n"
    if file is None or str(file) == "-":
        typer.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {file}: {error.strerror or error}")
    typer.echo(f"exported the seal at position {seal.position} to {file}", err=True)
