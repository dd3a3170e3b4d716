"""`saga api edge|orders|inventory|payments`, `saga relay`, `saga seed`, `saga replay`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from infra.settings import PlatformSettings
from saga.cli.groups import api_group
from saga.cli.output import make_console

console = make_console()


_FRONT_MODULES = {
    "edge": "apis.checkout.edge",
    "orders": "apis.orders",
    "inventory": "apis.inventory",
    "payments": "apis.payments",
}


def _serve(front: str, settings: PlatformSettings) -> None:
    import importlib

    from infra.serving import GracefulServer, run_server, uvicorn_config
    from infra.telemetry import configure_telemetry

    settings.refuse_default_secrets()
    # Before the app is built: its factory instruments it when tracing is on.
    configure_telemetry(front, settings)
    app = importlib.import_module(_FRONT_MODULES[front]).create_app(settings)
    port = getattr(settings, f"{front}_port")
    run_server(GracefulServer(uvicorn_config(app, settings.bind_host, port)))


def run_edge() -> None:
    """Serve the edge API (POST /orders, GET /orders/{id}) on EDGE_PORT (8000)."""
    _serve("edge", PlatformSettings())


def run_orders() -> None:
    """Serve the orders service on ORDERS_PORT (8001)."""
    _serve("orders", PlatformSettings())


def run_inventory() -> None:
    """Serve the inventory service on INVENTORY_PORT (8002)."""
    _serve("inventory", PlatformSettings())


def run_payments() -> None:
    """Serve the mock PSP on PAYMENTS_PORT (8003); MOCK_LATENCY_MS, MOCK_FAILURE_RATE apply."""
    from domain.payments.settings import PaymentsSettings

    _serve("payments", PaymentsSettings())


def relay() -> None:
    """Start a saga for every committed outbox row (LISTEN order_events + a 5 s poll)."""
    from apis.checkout.relay import run_relay
    from infra.event_loop import run_service

    run_service(run_relay(PlatformSettings()))


def seed(
    orders: Annotated[int, typer.Option(min=1, max=10_000, help="How many orders.")] = 50,
) -> None:
    """Create a catalog and submit a mix of orders to a running platform; print UI links."""
    from saga.cli.checkout_seed import print_links, seed, temporal_ui_url

    settings = PlatformSettings()
    try:
        report = asyncio.run(seed(settings, orders, console))
    except Exception as exc:
        console.print(f"[bold red]error:[/] {exc} (is `saga up` running?)")
        raise typer.Exit(code=1) from None
    print_links(console, temporal_ui_url(settings), settings.temporal_namespace, report)


def replay(
    export: Annotated[
        bool, typer.Option("--export/--no-export", help="First export from the server.")
    ] = True,
    directory: Annotated[Path | None, typer.Option(help="Where histories live.")] = None,
    workflow_type: Annotated[str | None, typer.Option(help="Only this workflow type.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many per type.")] = 20,
) -> None:
    """Export completed workflows' histories, then replay every history against the code."""
    from saga.replay import REPLAY_DIR, export_histories, history_files, replay_file
    from saga.workers import all_workflows

    target = directory or REPLAY_DIR

    async def run() -> int:
        if export:
            from temporalio.client import Client

            settings = PlatformSettings()
            client = await Client.connect(
                settings.resolved_temporal_address, namespace=settings.temporal_namespace
            )
            written = await export_histories(
                client, target, workflow_type=workflow_type, limit=limit
            )
            console.print(f"exported {len(written)} histories to {target}")
        failures = 0
        workflows = all_workflows()
        for path in history_files(target):
            outcome = await replay_file(path, workflows)
            if outcome.error is None:
                console.print(f"[green]ok[/]     {path.relative_to(target)}")
            else:
                failures += 1
                console.print(f"[red]failed[/] {path.relative_to(target)}: {outcome.error}")
        return failures

    failures = asyncio.run(run())
    raise typer.Exit(code=1 if failures else 0)


def register(app: typer.Typer) -> None:
    """Add these commands to the `saga` app."""
    api_group.command("edge")(run_edge)
    api_group.command("orders")(run_orders)
    api_group.command("inventory")(run_inventory)
    api_group.command("payments")(run_payments)
    app.command()(relay)
    app.command()(seed)
    app.command()(replay)
