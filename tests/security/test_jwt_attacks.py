"""Forged tokens are refused on every front: HTTP, gRPC and the WebSocket, and change nothing."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import asyncpg
import grpc
import httpx
import pytest
import redis.asyncio as aioredis
from grpc import aio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from apis import inventory, orders
from apis.balance.rest import app as balance_http
from apis.balance.rpc.server import start_grpc_server
from apis.checkout import edge
from apis.gateway.app import create_app as gateway_app
from domain.balance.book import BalanceBook
from infra.settings import DEV_JWT_SECRET
from infra.tokens import TokenKind, issue_token
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc
from tests.conftest import SessionStack
from tests.integration.checkout_fronts import payments_front, serving
from tests.integration.gateway_support import gateway_settings, running_gateway
from tests.security.tally import tried
from tests.snapshots import assert_unchanged, snapshot

_FAR = 4_102_444_800  # 2100-01-01
# What an attacker who only knows the public half of an RSA key pair would sign with.
_PUBLIC_KEY_PEM = (
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1L\n"
    "-----END PUBLIC KEY-----\n"
)


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**changes: Any) -> dict[str, Any]:
    claims = {"sub": "svc", "kind": "service", "iss": "saga", "iat": int(time.time()), "exp": _FAR}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict[str, Any], key: str, alg: str = "HS256") -> str:
    """Sign by hand, as an attacker would: libraries refuse some of these keys and algorithms."""
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    message = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}"
    signature = hmac.new(key.encode(), message.encode(), digest).digest()
    return f"{message}.{_b64(signature)}"


def _tampered() -> str:
    """A real user token whose payload was edited to claim a service, signature kept."""
    header, _, signature = issue_token(DEV_JWT_SECRET, "mallory").split(".")
    return f"{header}.{_b64(_claims(sub='mallory'))}.{signature}"


ATTACKS: dict[str, str] = {
    "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
    "alg None, signed": f"{_b64({'alg': 'None'})}.{_b64(_claims())}.{_b64(b'x' * 32)}",
    "wrong key": issue_token(
        "another-secret-that-is-long-enough-0123", "svc", kind=TokenKind.SERVICE
    ),
    "expired": issue_token(DEV_JWT_SECRET, "svc", kind=TokenKind.SERVICE, ttl_seconds=-60),
    "missing sub": _signed(_claims(sub=None), DEV_JWT_SECRET),
    "blank sub": _signed(_claims(sub="  "), DEV_JWT_SECRET),
    "missing exp": _signed(_claims(exp=None), DEV_JWT_SECRET),
    "wrong issuer": _signed(_claims(iss="evil"), DEV_JWT_SECRET),
    "unknown kind": _signed(_claims(kind="admin"), DEV_JWT_SECRET),
    "HS512 with the key": _signed(_claims(), DEV_JWT_SECRET, "HS512"),
    "RS256 header": f"{_b64({'alg': 'RS256'})}.{_b64(_claims())}.{_b64(b's' * 256)}",
    "HS256 keyed with an RSA public key": _signed(_claims(), _PUBLIC_KEY_PEM),
    "tampered payload": _tampered(),
    "two parts": f"{_b64({'alg': 'HS256'})}.{_b64(_claims())}",
    "garbage": "%%%.###.$$$",
    # Long, yet under gRPC's metadata limit (8 KiB), so the token check itself refuses it.
    "huge": "a" * 6_000,
}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def fronts(stack: SessionStack, db: asyncpg.Pool) -> AsyncIterator[dict[str, Any]]:
    """Every HTTP front in-process, each with a mutating request to attack."""
    balance = balance_http.create_app(
        BalanceBook.build(aioredis.Redis.from_url(stack.redis_url)), DEV_JWT_SECRET
    )
    apps = {
        "edge": (edge.create_app(stack.settings()), "POST", "/orders"),
        "orders": (orders.create_app(stack.settings()), "PUT", f"/orders/{uuid.uuid4()}/cancel"),
        "inventory": (inventory.create_app(stack.settings()), "POST", "/inventory/products"),
        "payments": (payments_front(stack), "POST", "/payments/capture/auth_1"),
        "balance": (balance, "POST", "/api/accounts/alice/deposit"),
        "gateway": (gateway_app(gateway_settings(stack.redis_url)), "POST", "/events"),
    }
    clients: dict[str, Any] = {}
    async with contextlib.AsyncExitStack() as opened:
        for name, (app, method, path) in apps.items():
            client = await opened.enter_async_context(serving(app, f"http://{name}", headers={}))
            clients[name] = (client, method, path)
        yield clients


async def test_http_fronts_refuse_every_forged_token(
    fronts: dict[str, tuple[httpx.AsyncClient, str, str]],
    db: asyncpg.Pool,
    redis: aioredis.Redis,
) -> None:
    body = {"amount": 5, "channel": "lobby", "data": {}}
    before = await snapshot(db, redis)
    for name, (client, method, path) in fronts.items():
        for attack, token in ATTACKS.items():
            headers = {**_bearer(token), "Idempotency-Key": f"k-{uuid.uuid4()}"}
            answer = await client.request(method, path, headers=headers, json=body)
            assert answer.status_code == 401, (name, attack, answer.text)
            assert answer.json()["code"] == "UNAUTHENTICATED", (name, attack)
            assert answer.headers["www-authenticate"] == "Bearer", (name, attack)
            assert_unchanged(before, await snapshot(db, redis), (name, attack))
            tried("jwt")
    for table in ("products", "orders", "order_ledger", "payment_authorizations"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_grpc_refuses_every_forged_token(redis: aioredis.Redis) -> None:
    server, _, port = await start_grpc_server(
        BalanceBook.build(redis), DEV_JWT_SECRET, "127.0.0.1:0"
    )
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.BalanceServiceStub(channel)
            before = await snapshot(None, redis)
            for attack, token in ATTACKS.items():
                request = pb.CreditRequest(account_id="alice", amount=5, idempotency_key="k1")
                with pytest.raises(aio.AioRpcError) as refused:
                    await stub.Credit(request, metadata=(("authorization", f"Bearer {token}"),))
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, attack
                metadata: dict[str, Any] = dict(refused.value.trailing_metadata() or ())  # type: ignore[arg-type]
                assert metadata["error-code"] == "UNAUTHENTICATED", attack
                assert_unchanged(before, await snapshot(None, redis), attack)
                tried("jwt")
    finally:
        await server.stop(grace=None)
    assert await redis.dbsize() == 0


async def _frames_until_closed(ws: Any) -> None:
    while True:  # nothing but the close may come: no welcome for a forged token
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame.get("type") != "welcome", frame


async def _ws_close_code(url: str, first: str | None = None) -> int | None:
    async with connect(url, max_size=2**20) as ws:
        if first is not None:
            await ws.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            await _frames_until_closed(ws)
        return closed.value.rcvd.code if closed.value.rcvd else None


async def test_websocket_refuses_every_forged_token(
    stack: SessionStack, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    async with running_gateway(gateway_settings(stack.redis_url)) as gateway:
        before = await snapshot(db, redis)
        for attack, token in ATTACKS.items():
            code = await _ws_close_code(f"{gateway.ws_url}?token={quote(token)}")
            assert code in (4000, 4001), (attack, code)
            frame = json.dumps({"type": "auth", "token": token})
            assert await _ws_close_code(gateway.ws_url, frame) in (4000, 4001), attack
            assert_unchanged(before, await snapshot(db, redis), attack)
            tried("jwt", 2)
        # Still serving: a good token gets its welcome.
        async with connect(f"{gateway.ws_url}?token={issue_token(DEV_JWT_SECRET, 'ok')}") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "welcome"
