"""The `saga` command: one entry point for the supervisor, each service and the tools."""

from __future__ import annotations

import typer

from saga.cli import balance_commands, gateway_commands, order_commands, stack_commands
from saga.cli.groups import api_group

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Orders and chips through durable Temporal workflows.",
)
# `saga api <front>`: contexts add their fronts to api_group (see saga/cli/groups.py).
app.add_typer(api_group, name="api")
stack_commands.register(app)
gateway_commands.register(app)
balance_commands.register(app)
order_commands.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
