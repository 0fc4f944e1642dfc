"""The ``dispatch`` command: one Typer app, one sub-module per area."""

from __future__ import annotations

import typer

from dispatch.cli import (
    apikeys,
    catalogue,
    db,
    demo,
    privacy,
    projections,
    serve,
    users,
    verify,
)

app = typer.Typer(no_args_is_help=True, help="Street Whistle — 12345 hotline case dispatch")
app.add_typer(db.app, name="db")
app.add_typer(projections.app, name="projections")
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(users.app, name="users")
app.add_typer(apikeys.app, name="apikeys")
app.command("verify")(verify.verify)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.add_typer(privacy.app, name="privacy")
