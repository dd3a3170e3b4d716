"""`saga api balance` and `saga balance ...`: run the balance fronts, and talk to them."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from saga.cli.groups import api_group

balance_app = typer.Typer(no_args_is_help=True, help="Balances, ledgers and their workflows.")


def run_balance() -> None:
    """Serve the balance HTTP front (3002) and gRPC BalanceService (50051)."""
    from apis.balance.service import run_balance_service
    from domain.balance.settings import BalanceSettings
    from infra.event_loop import run_service

    settings = BalanceSettings()
    settings.refuse_default_secrets()
    run_service(run_balance_service(settings))


def _client() -> Any:
    from clients.balance import BalanceClient
    from domain.balance.settings import BalanceSettings
    from infra.tokens import TokenKind, issue_token

    settings = BalanceSettings()
    token = issue_token(
        settings.jwt_secret.get_secret_value(), "saga-cli", kind=TokenKind.SERVICE, ttl_seconds=300
    )
    return BalanceClient(settings.resolved_balance_grpc_address, token)


async def _call(method: str, request: Any) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    from clients.balance import BalanceCallError

    async with _client() as client:
        try:
            reply = await client.call(getattr(client.stub, method), request)
        except BalanceCallError as error:
            typer.echo(f"error: {error.code}: {error.detail}", err=True)
            raise typer.Exit(code=1) from None
    result: dict[str, Any] = MessageToDict(reply, always_print_fields_with_no_presence=True)
    return result


def show(account_id: str) -> None:
    """Print an account's balance, reserved and available chips."""
    from protos.balance.v1 import balance_pb2 as pb

    reply = asyncio.run(_call("GetBalance", pb.GetBalanceRequest(account_id=account_id)))
    typer.echo(json.dumps(reply, indent=2))


def deposit(
    account_id: str,
    amount: int,
    key: Annotated[str, typer.Option(help="Idempotency key; a fresh one by default.")] = "",
) -> None:
    """Credit chips to an account (source DEPOSIT)."""
    from protos.balance.v1 import balance_pb2 as pb

    request = pb.CreditRequest(
        account_id=account_id,
        amount=amount,
        idempotency_key=key or f"cli-deposit:{account_id}:{time.time_ns()}",
    )
    typer.echo(json.dumps(asyncio.run(_call("Credit", request)), indent=2))


def verify(account_id: str) -> None:
    """Verify an account's whole ledger chain now; exit 1 if it is broken."""
    from protos.balance.v1 import balance_pb2 as pb

    reply = asyncio.run(_call("VerifyLedger", pb.VerifyLedgerRequest(account_id=account_id)))
    typer.echo(json.dumps(reply, indent=2))
    raise typer.Exit(code=0 if reply.get("valid") else 1)


def export_history(
    workflow_id: str,
    out: Path,
    run_id: Annotated[str, typer.Option(help="A run other than the latest.")] = "",
) -> None:
    """Write a workflow run's history as JSON, for tests/replay/."""
    from temporalio.client import Client

    from infra.settings import PlatformSettings

    async def fetch() -> str:
        settings = PlatformSettings()
        client = await Client.connect(
            settings.resolved_temporal_address, namespace=settings.temporal_namespace
        )
        history = await client.get_workflow_handle(
            workflow_id, run_id=run_id or None
        ).fetch_history()
        return history.to_json()

    out.write_text(asyncio.run(fetch()))
    typer.echo(f"wrote {out}")


def migrate_keys() -> None:
    """Move balance data of the layout before hash slots into today's (one Redis, service
    stopped); running it again does nothing."""
    import redis.asyncio as aioredis

    from domain.balance.migration import migrate_keys as migrate
    from domain.balance.settings import BalanceSettings

    settings = BalanceSettings()
    if settings.redis_cluster:
        typer.echo(
            "error: run migrate-keys on the one Redis that holds the old data (unset "
            "REDIS_CLUSTER), then move it to the cluster",
            err=True,
        )
        raise typer.Exit(code=2)

    async def run() -> list[str]:
        redis = aioredis.Redis.from_url(settings.resolved_redis_url)
        try:
            return (await migrate(redis)).lines()
        finally:
            await redis.aclose()

    for line in asyncio.run(run()):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add `saga api balance` and the `saga balance` group."""
    api_group.command("balance")(run_balance)
    balance_app.command()(show)
    balance_app.command()(deposit)
    balance_app.command()(verify)
    balance_app.command("export-history")(export_history)
    balance_app.command("migrate-keys")(migrate_keys)
    app.add_typer(balance_app, name="balance")
