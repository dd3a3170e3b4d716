"""Sub-command groups that several contexts add to.

`saga api <name>` runs one front (HTTP and/or gRPC) in the foreground. Every context adds its
fronts to `api_group` from its own `saga/cli/<context>_commands.py`, for example
`api_group.command("edge")(run_edge)` and `api_group.command("balance")(run_balance)`,
so no two contexts define an `api` group of their own.
"""

from __future__ import annotations

import typer

api_group = typer.Typer(
    no_args_is_help=True, help="Run one front (HTTP/gRPC API) in the foreground."
)
