"""The `saga` command: one entry point for the supervisor, each service and the tools."""

from __future__ import annotations

import typer

from saga.cli import (
    balance,
    checkout,
    events,
    game,
    gateway,
    proof,
    stack,
    web,
)
from saga.cli.groups import api_group

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Orders and chips through durable Temporal workflows.",
)


@app.callback()
def refuse_default_secrets() -> None:
    """Every command first checks the settings: production never runs on development secrets."""
    from pydantic import ValidationError

    from infra.settings import PlatformSettings, SettingsError

    try:
        PlatformSettings().refuse_default_secrets()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]).upper()
        typer.echo(f"error: {where}: {problem['msg']}", err=True)
        raise typer.Exit(code=1) from None


# `saga api <front>`: contexts add their fronts to api_group (see saga/cli/groups.py).
app.add_typer(api_group, name="api")
stack.register(app)
gateway.register(app)
balance.register(app)
checkout.register(app)
game.register(app)
events.register(app)
proof.register(app)
web.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
