"""`saga api events`: the event front, with its stream consumer."""

from __future__ import annotations

import typer

from saga.cli.groups import api_group


def run_events() -> None:
    """Serve the event service and run its consumer of the session and hand streams (3003)."""
    from apis.events import create_app
    from domain.events.settings import EventSettings
    from infra.serving import GracefulServer, run_server, uvicorn_config
    from infra.telemetry import configure_telemetry

    settings = EventSettings()
    settings.refuse_default_secrets()
    configure_telemetry("events", settings)
    app = create_app(settings)
    run_server(GracefulServer(uvicorn_config(app, settings.bind_host, settings.event_port)))


def register(_: typer.Typer) -> None:
    """Add `saga api events` to the CLI."""
    api_group.command("events")(run_events)
