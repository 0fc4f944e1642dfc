"""The ``dispatch`` command: one Typer app, one sub-module per area."""

from __future__ import annotations

import typer

from dispatch.cli import db, serve, verify

app = typer.Typer(no_args_is_help=True, help="Street Whistle — 12345 hotline case dispatch")
app.add_typer(db.app, name="db")
app.command("verify")(verify.verify)
app.command("serve")(serve.serve)
