"""`saga up`, `saga status`, `saga migrate`, `saga temporal setup`, `saga worker`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Annotated, Any

import typer
from rich.table import Table

from infra.db.migrate import MigrationError, migrate
from infra.settings import PlatformSettings, SettingsError
from saga.cli.output import make_console
from saga.stack.probes import probe_http, probe_postgres, probe_redis, probe_temporal
from saga.supervisor import STATE_FILE, Supervisor

console = make_console()


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def up() -> None:
    """Start the platform: Temporal with its UI, PostgreSQL, Valkey, workers and fronts."""
    settings = PlatformSettings()
    try:
        settings.refuse_default_secrets()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    code = asyncio.run(Supervisor(settings, console).run())
    raise typer.Exit(code=code)


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Report the health of each part of a running platform."""
    settings = PlatformSettings()
    results = asyncio.run(_probe_all(settings))
    healthy = all(ok for _, _, ok, _ in results)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {"part": part, "address": address, "healthy": ok, "detail": detail}
                    for part, address, ok, detail in results
                ]
            )
        )
    else:
        table = Table(title="saga status", title_justify="left")
        for column in ("part", "address", "health", "detail"):
            table.add_column(column)
        for part, address, ok, detail in results:
            table.add_row(part, address, "[green]healthy[/]" if ok else "[red]down[/]", detail)
        console.print(table)
    raise typer.Exit(code=0 if healthy else 1)


async def _probe_all(settings: PlatformSettings) -> list[tuple[str, str, bool, str]]:
    state_path = settings.saga_home.resolve() / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    endpoints = state.get("endpoints", {})
    temporal = endpoints.get("TEMPORAL_ADDRESS", settings.resolved_temporal_address)
    database = endpoints.get("DATABASE_URL", settings.resolved_database_url)
    redis_url = endpoints.get("REDIS_URL", settings.resolved_redis_url)
    checks = [
        ("Temporal frontend", temporal, probe_temporal(temporal, settings.temporal_namespace)),
        ("PostgreSQL", database, probe_postgres(database)),
        ("Valkey / Redis", redis_url, probe_redis(redis_url)),
    ]
    ui = endpoints.get("TEMPORAL_UI")
    if ui:
        checks.insert(0, ("Temporal Web UI", ui, probe_http(ui)))
    for service in state.get("services", []):
        checks.append((service["name"], service["url"], probe_http(service["health_url"])))

    async def run(probe: Coroutine[Any, Any, float]) -> tuple[bool, str]:
        try:
            latency = await asyncio.wait_for(probe, timeout=5)
        except Exception as exc:
            return False, (str(exc).splitlines() or [type(exc).__name__])[0][:80]
        return True, f"{latency * 1000:.0f} ms"

    outcomes = await asyncio.gather(*(run(probe) for _, _, probe in checks))
    rows = [
        (name, address, ok, detail)
        for (name, address, _), (ok, detail) in zip(checks, outcomes, strict=True)
    ]
    if not state:
        rows.append(("supervisor", str(state_path), False, "saga up is not running here"))
    return rows


def migrate_command() -> None:
    """Apply pending database migrations to DATABASE_URL (or the embedded server)."""
    settings = PlatformSettings()
    try:
        applied = asyncio.run(migrate(settings.resolved_database_url))
    except (MigrationError, OSError) as exc:
        raise _fail(str(exc)) from None
    console.print("\n".join(applied) if applied else "nothing to migrate")


def worker(
    queues: Annotated[
        list[str] | None, typer.Argument(help="Task queues to serve, or 'all'.")
    ] = None,
) -> None:
    """Run Temporal workers (all task queues by default) with /health and /metrics."""
    from infra.event_loop import run_service
    from saga.worker_host import UnknownTaskQueueError, run_workers

    try:
        run_service(run_workers(PlatformSettings(), queues or ["all"]))
    except UnknownTaskQueueError as exc:
        raise _fail(str(exc)) from None


def temporal_setup() -> None:
    """Register the platform's search attributes on TEMPORAL_ADDRESS (idempotent)."""
    from temporalio.client import Client

    from saga.stack.temporal_setup import register_search_attributes

    settings = PlatformSettings()

    async def setup() -> list[str]:
        client = await Client.connect(
            settings.resolved_temporal_address, namespace=settings.temporal_namespace
        )
        return await register_search_attributes(client, settings.temporal_namespace)

    try:
        added = asyncio.run(setup())
    except RuntimeError as exc:
        raise _fail(f"Temporal at {settings.resolved_temporal_address}: {exc}") from None
    console.print(f"registered {', '.join(added)}" if added else "search attributes up to date")


def register(app: typer.Typer) -> None:
    """Add these commands to the `saga` app."""
    app.command()(up)
    app.command()(status)
    app.command("migrate")(migrate_command)
    app.command()(worker)
    app.command("temporal-setup")(temporal_setup)
