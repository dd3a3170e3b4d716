"""The `saga` command: one entry point for the supervisor, each service and the tools."""

from __future__ import annotations

import typer

from saga.cli import stack_commands

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Orders and chips through durable Temporal workflows.",
)
stack_commands.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
