"""Real gateway instances (uvicorn on free ports) and a stand-in game service for tests.

Also the fixtures of the tests that run one body on both stores (`store`, `game`, `pair`);
a test module imports them as `store_fixture`, `game_fixture` and `pair_fixture`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI, Request, Response
from websockets.asyncio.client import ClientConnection, connect

from apis.gateway.server import gateway_server
from apis.gateway.settings import GatewaySettings
from infra.ports import free_port
from infra.redis import RedisClient
from infra.serving import GracefulServer, HostedServer
from infra.settings import DEV_JWT_SECRET
from infra.tokens import TokenKind, issue_token

if TYPE_CHECKING:
    from saga.stack.valkey_cluster import EmbeddedValkeyCluster
    from tests.conftest import SessionStack


@dataclass
class RunningServer:
    """A uvicorn server running on this test's event loop."""

    server: GracefulServer
    task: asyncio.Task[None]
    port: int

    @property
    def url(self) -> str:
        """HTTP base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """WebSocket URL of /ws."""
        return f"ws://127.0.0.1:{self.port}/ws"

    async def stop(self) -> None:
        """Shut the server down (its lifespan closes every socket)."""
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 15)


async def _serve(server: GracefulServer, port: int) -> RunningServer:
    task = asyncio.create_task(server.serve())
    for _ in range(300):
        if server.started:
            return RunningServer(server, task, port)
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    raise RuntimeError("server did not start")


def gateway_settings(redis_url: str, **overrides: Any) -> GatewaySettings:
    """Settings for a test gateway: no real upstreams, short timers."""
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "gateway_instance_id": f"test-{uuid.uuid4().hex[:8]}",
        "edge_url": "http://127.0.0.1:9",
        "balance_url": "http://127.0.0.1:9",
        "ws_auth_timeout_seconds": 1.0,
        "ws_close_timeout_seconds": 1.0,
        "registry_ttl_seconds": 3,
        "rate_limit_per_user": 1000,
        "rate_limit_per_ip": 1000,
        "ws_rate_limit_per_connection": 1000,
    }
    values.update(overrides)
    return GatewaySettings(**values)


@contextlib.asynccontextmanager
async def running_gateway(settings: GatewaySettings) -> AsyncIterator[RunningServer]:
    """One gateway instance on a free port."""
    port = free_port()
    running = await _serve(gateway_server(settings, port, hosted=True), port)
    try:
        yield running
    finally:
        await running.stop()


@contextlib.asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[RunningServer]:
    """Any ASGI app (a stand-in upstream) on a free port."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    running = await _serve(HostedServer(config), port)
    try:
        yield running
    finally:
        await running.stop()


def user_token(user_id: str, ttl_seconds: int = 3600, secret: str = DEV_JWT_SECRET) -> str:
    """A player token the test gateways accept."""
    return issue_token(secret, user_id, ttl_seconds=ttl_seconds)


def service_token(name: str = "game") -> str:
    """A service token the test gateways accept."""
    return issue_token(DEV_JWT_SECRET, name, kind=TokenKind.SERVICE)


class Client:
    """A test WebSocket client that reads JSON frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one JSON frame."""
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame."""
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        frame: dict[str, Any] = json.loads(raw)
        return frame

    async def recv_until(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Skip frames until one matches."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            if match(frame):
                return frame

    async def request(self, frame: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Send a frame with an id and wait for the reply carrying it as `ref`."""
        ref = uuid.uuid4().hex[:12]
        await self.send({**frame, "id": ref})
        return await self.recv_until(lambda f: f.get("ref") == ref, timeout)

    async def close(self) -> None:
        """Close the socket."""
        await self.ws.close()


@contextlib.asynccontextmanager
async def ws_client(
    gateway: RunningServer, user_id: str, *, query: str = "", **kwargs: Any
) -> AsyncIterator[Client]:
    """An authenticated client that has read its welcome frame."""
    url = f"{gateway.ws_url}?token={user_token(user_id)}{query}"
    async with connect(url, **kwargs) as ws:
        client = Client(ws)
        client.welcome = await client.recv()
        assert client.welcome["type"] == "welcome", client.welcome
        yield client


@dataclass
class GameStandIn:
    """What the stand-in game service saw, and whom it mutes."""

    muted: set[str] = field(default_factory=set)
    actions: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def game_app(state: GameStandIn) -> FastAPI:
    """A small upstream in place of the external game service (and as a proxy target)."""
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/tables/{table_id}/actions")
    async def action(table_id: str, request: Request) -> Response:
        body = await request.json()
        state.actions.append({"table_id": table_id, **body})
        state.headers.append(dict(request.headers))
        if body.get("action") == "cheat":
            return Response(
                json.dumps({"code": "INVALID_STATE", "detail": "not your turn"}),
                status_code=409,
                media_type="application/problem+json",
            )
        return Response(json.dumps({"accepted": True, "table_id": table_id}))

    @app.get("/players/{user_id}/mute")
    async def mute(user_id: str) -> dict[str, bool]:
        return {"muted": user_id in state.muted}

    @app.api_route("/echo/{path:path}", methods=["GET", "POST"])
    async def echo(path: str, request: Request) -> dict[str, Any]:
        state.headers.append(dict(request.headers))
        return {
            "path": path,
            "method": request.method,
            "query": str(request.query_params),
            "body": (await request.body()).decode(),
            "headers": dict(request.headers),
        }

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(3)
        return {"status": "late"}

    @app.get("/boom")
    async def boom() -> Response:
        return Response("kaput", status_code=500)

    @app.get("/internal/secret")
    async def secret() -> dict[str, str]:
        return {"secret": "leaked"}

    return app


@contextlib.asynccontextmanager
async def running_game_stand_in() -> AsyncIterator[tuple[GameStandIn, RunningServer]]:
    """The stand-in game service (mutes, table actions; also a proxy target) on a free port."""
    state = GameStandIn()
    async with running_app(game_app(state)) as server:
        yield state, server


@dataclass(frozen=True)
class Store:
    """The Valkey a test's gateways share: the session's server or the 3-master cluster."""

    name: str
    url: str
    redis: RedisClient

    @property
    def cluster(self) -> bool:
        """Whether this is the Valkey Cluster."""
        return self.name == "cluster"

    def settings(self, **overrides: Any) -> GatewaySettings:
        """Settings for a test gateway on this store."""
        return gateway_settings(self.url, redis_cluster=self.cluster, **overrides)


def single_store(stack: SessionStack, redis: RedisClient) -> Store:
    """The session's Valkey (emptied by the `redis` fixture)."""
    return Store("single", stack.redis_url, redis)


def cluster_store(cluster: EmbeddedValkeyCluster, cluster_redis: RedisClient) -> Store:
    """The session's Valkey Cluster (emptied by the `cluster_redis` fixture)."""
    return Store("cluster", cluster.url, cluster_redis)


@pytest.fixture(name="store", params=["single", "cluster"])
def store_fixture(request: pytest.FixtureRequest) -> Store:
    """A test using it runs once on one Valkey and once on the cluster, which starts only then."""
    if request.param == "cluster":
        return cluster_store(
            request.getfixturevalue("valkey_cluster"), request.getfixturevalue("cluster_redis")
        )
    return single_store(request.getfixturevalue("stack"), request.getfixturevalue("redis"))


@pytest.fixture(name="game")
async def game_fixture() -> AsyncIterator[tuple[GameStandIn, RunningServer]]:
    """The stand-in game service (mutes, table actions)."""
    async with running_game_stand_in() as running:
        yield running


@pytest.fixture(name="pair")
async def pair_fixture(
    store: Store, game: tuple[GameStandIn, RunningServer]
) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    """Two gateway instances on the (emptied) store that know the game service."""
    _, server = game
    async with (
        running_gateway(store.settings(game_url=server.url)) as a,
        running_gateway(store.settings(game_url=server.url)) as b,
    ):
        yield a, b
