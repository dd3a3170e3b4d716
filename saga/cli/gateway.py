"""`saga gateway` (the players' edge) and `saga token` (JWTs the running platform accepts)."""

from __future__ import annotations

from typing import Annotated

import typer


def gateway() -> None:
    """Run the gateway: WebSocket /ws and the HTTP proxy /api/{service}/... (port 4000)."""
    from apis.gateway.server import run_gateway
    from apis.gateway.settings import GatewaySettings
    from infra.settings import SettingsError

    try:
        run_gateway(GatewaySettings())
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None


def token(
    user: Annotated[str | None, typer.Option("--user", help="User id: a player token.")] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="Service name: an internal caller token.")
    ] = None,
    ttl: Annotated[int, typer.Option("--ttl", help="Lifetime in seconds.", min=1)] = 3600,
) -> None:
    """Print a JWT signed with JWT_SECRET (the development secret unless set)."""
    from infra.settings import PlatformSettings
    from infra.tokens import TokenKind, issue_token

    if (user is None) == (service is None):
        typer.echo("error: give exactly one of --user ID or --service NAME", err=True)
        raise typer.Exit(code=2)
    subject = user if user is not None else service
    if subject is None or not subject.strip():
        typer.echo("error: the id must not be empty", err=True)
        raise typer.Exit(code=2)
    kind = TokenKind.USER if user is not None else TokenKind.SERVICE
    secret = PlatformSettings().jwt_secret.get_secret_value()
    typer.echo(issue_token(secret, subject.strip(), kind=kind, ttl_seconds=ttl))


def register(app: typer.Typer) -> None:
    """Add these commands to the `saga` app."""
    app.command()(gateway)
    app.command()(token)
