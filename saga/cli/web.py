"""`saga web`: the player web app the gateway serves at / (its address, its screenshots)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from infra.settings import PlatformSettings

web = typer.Typer(no_args_is_help=True, help="The player web app (served by the gateway at /).")


def gateway_address(settings: PlatformSettings) -> str:
    """Where a browser on this machine reaches the gateway."""
    host = "127.0.0.1" if settings.bind_host in ("0.0.0.0", "::") else settings.bind_host
    return f"http://{host}:{settings.gateway_port}"


@web.command()
def url(
    user: Annotated[
        str | None, typer.Option("--user", help="Open signed in as this player.")
    ] = None,
) -> None:
    """Print the web app's address; with --user, one that opens signed in (/?token=JWT)."""
    from infra.settings import PlatformSettings
    from infra.tokens import TokenKind, issue_token

    settings = PlatformSettings()
    address = gateway_address(settings) + "/"
    if user is not None:
        token = issue_token(settings.jwt_secret.get_secret_value(), user, kind=TokenKind.USER)
        address += f"?token={token}"
    typer.echo(address)


@web.command()
def screenshots(
    out: Annotated[Path, typer.Option("--out", help="Folder for the PNGs.")] = Path(
        "docs/screenshots"
    ),
) -> None:
    """Play through every view of a running platform's web app in Chromium; one PNG each."""
    from infra.settings import PlatformSettings

    try:
        from saga.browser.screenshots import take_screenshots
    except ImportError as exc:
        typer.echo(f"error: {exc.name} is missing: pip install -e '.[dev]'", err=True)
        raise typer.Exit(code=1) from None
    settings = PlatformSettings()
    for path in asyncio.run(take_screenshots(settings, gateway_address(settings), out)):
        typer.echo(path)


def register(app: typer.Typer) -> None:
    """Add `saga web` to the `saga` app."""
    app.add_typer(web, name="web")
