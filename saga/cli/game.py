"""`saga api game` and `saga poker ...`: serve the game front, open and watch tables, run bots."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from saga.cli.groups import api_group
from saga.cli.output import make_console

console = make_console()
poker_app = typer.Typer(no_args_is_help=True, help="Poker tables: open, list, show, bots.")


def run_game() -> None:
    """Serve the game service (tables, seats, actions, mutes) on GAME_PORT (3001)."""
    from apis.game.app import create_app
    from domain.game.settings import GameSettings
    from infra.serving import GracefulServer, run_server, uvicorn_config
    from infra.telemetry import configure_telemetry

    settings = GameSettings()
    settings.refuse_default_secrets()
    configure_telemetry("game", settings)
    app = create_app(settings)
    run_server(GracefulServer(uvicorn_config(app, settings.bind_host, settings.game_port)))


def _call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    import httpx

    from domain.game.settings import GameSettings
    from infra.tokens import TokenKind, issue_token

    settings = GameSettings()
    token = issue_token(
        settings.jwt_secret.get_secret_value(), "saga-cli", kind=TokenKind.SERVICE, ttl_seconds=300
    )
    try:
        response = httpx.request(
            method,
            settings.service_url("game") + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=15,
        )
    except httpx.HTTPError as exc:
        console.print(f"[red]the game service does not answer: {exc}[/red]")
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/red] {response.text}")
        raise typer.Exit(1)
    return response.json()


@poker_app.command("open")
def open_table(
    name: Annotated[str, typer.Argument(help="Table name")],
    blinds: Annotated[str, typer.Option(help="small/big blind")] = "5/10",
    seats: Annotated[int, typer.Option(min=2, max=10)] = 6,
    min_buy_in: Annotated[int, typer.Option()] = 200,
    max_buy_in: Annotated[int, typer.Option()] = 2_000,
    timeout: Annotated[int, typer.Option(help="Action clock, seconds")] = 30,
) -> None:
    """Open a table."""
    small, _, big = blinds.partition("/")
    table = _call(
        "POST",
        "/tables",
        {
            "name": name,
            "small_blind": int(small),
            "big_blind": int(big or small),
            "min_buy_in": min_buy_in,
            "max_buy_in": max_buy_in,
            "max_seats": seats,
            "action_timeout_seconds": timeout,
        },
    )
    console.print(f"opened [bold]{table['table_id']}[/bold] ({name}, {blinds}, {seats} seats)")


@poker_app.command("list")
def list_tables() -> None:
    """The lobby: every table, its blinds and who is seated."""
    tables = _call("GET", "/tables")["tables"]
    if not tables:
        console.print("no tables yet: `saga poker open NAME` or `saga poker bots`")
    for t in tables:
        live = "hand in progress" if t["hand_in_progress"] else "waiting"
        console.print(
            f"{t['table_id']}  {t['name']:<20} {t['small_blind']}/{t['big_blind']}  "
            f"{t['seated']}/{t['max_seats']} seated  {t['hands_played']} hands  {live}"
        )


@poker_app.command("show")
def show_table(table_id: Annotated[str, typer.Argument()]) -> None:
    """One table's seats and hand, as JSON."""
    console.print_json(json.dumps(_call("GET", f"/tables/{table_id}")))


@poker_app.command("bots")
def bots(
    tables: Annotated[int, typer.Option(min=1, max=50)] = 3,
    players: Annotated[int, typer.Option(min=2, max=10)] = 6,
    seconds: Annotated[float | None, typer.Option(help="Stop after; default: Ctrl-C")] = None,
) -> None:
    """Open tables and seat bots that play through the public API."""
    from domain.game.settings import GameSettings
    from saga.bots import run_bots

    settings = GameSettings()
    console.print(f"opening {tables} tables with {players} bots each (Ctrl-C stops the bots)")
    try:
        stats = asyncio.run(
            run_bots(
                settings.service_url("game"),
                settings.service_url("balance"),
                settings.jwt_secret.get_secret_value(),
                tables=tables,
                players=players,
                seconds=seconds,
            )
        )
    except KeyboardInterrupt:
        return
    console.print(
        f"{len(stats.tables)} tables, {stats.seated} bots seated, {len(stats.hands_seen)} hands "
        f"seen, {stats.actions} actions ({stats.refused} refused)"
    )


def register(app: typer.Typer) -> None:
    """Add `saga api game` and `saga poker` to the CLI."""
    api_group.command("game")(run_game)
    app.add_typer(poker_app, name="poker")
