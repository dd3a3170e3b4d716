"""The gateway's ASGI app: health, readiness, metrics, proxy, event publishing, WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apis.auth import request_claims
from apis.fronts import http_front
from apis.gateway.context import Gateway, open_gateway
from apis.gateway.limits import limited_caller
from apis.gateway.observability import TraceContext, current_trace
from apis.gateway.proxy import router as proxy_router
from apis.gateway.settings import GatewaySettings
from apis.gateway.webapp import router as webapp_router
from apis.gateway.websocket import ABORT_EXTENSION, websocket_endpoint
from apis.problems import PROBLEM_RESPONSES, problem
from clients.balance.client import BalanceCallError
from domain.errors import ErrorCode
from domain.gateway.channels import ChannelKind, parse_channel
from infra.tokens import Claims


class TraceMiddleware:
    """Opens a trace context per request; gives sockets a way to drop a stuck peer's TCP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one ASGI call."""
        if scope["type"] == "websocket":
            # ASGI has no abort; uvicorn waits for writability even to send a close frame,
            # so a client that stopped reading would hold its socket forever without this.
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None:
                scope[ABORT_EXTENSION] = transport.abort
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        raw = headers.get(b"traceparent")
        trace = TraceContext.from_header(raw.decode("latin-1") if raw else None)
        token = current_trace.set(trace)

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # The request telemetry inside may have named the trace already.
                if all(name.lower() != b"x-trace-id" for name, _ in headers):
                    headers.append((b"x-trace-id", trace.trace_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            current_trace.reset(token)


class PublishRequest(BaseModel):
    """An event a backend wants players to see."""

    channel: str = Field(max_length=160)
    data: dict[str, Any]


async def _probe(gateway: Gateway, url: str) -> bool:
    try:
        response = await gateway.http.get(url, timeout=2.0)
    except Exception:
        return False
    return response.status_code < 400


def create_app(settings: GatewaySettings) -> FastAPI:
    """The gateway app for `settings`; Redis and upstream clients open in its lifespan."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_gateway(settings) as gateway:
            app.state.gateway = gateway
            yield

    app = http_front(
        "gateway",
        jwt_secret=settings.jwt_secret,
        title="saga gateway",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        responses=PROBLEM_RESPONSES,
    )
    app.add_middleware(TraceMiddleware)

    @app.get("/health")
    async def health(request: Request) -> dict[str, object]:
        gateway: Gateway = request.app.state.gateway
        return {
            "status": "ok",
            "instance_id": gateway.hub.instance_id,
            "connections": len(gateway.hub.connections),
        }

    @app.get("/ready")
    async def ready(request: Request, response: Response) -> dict[str, object]:
        gateway: Gateway = request.app.state.gateway

        async def redis_ok() -> bool:
            try:
                return bool(await asyncio.wait_for(gateway.redis.ping(), 2.0))
            except Exception:
                return False

        names = list(gateway.settings.health_urls())
        results = await asyncio.gather(
            redis_ok(),
            gateway.balance.healthy(),
            *(_probe(gateway, url) for url in gateway.settings.health_urls().values()),
        )
        checks = {"redis": results[0], "pubsub": gateway.hub.router.connected}
        checks["balance_grpc"] = results[1]
        checks.update({name: ok for name, ok in zip(names, results[2:], strict=True)})
        ok = all(checks.values())
        response.status_code = 200 if ok else 503
        if not ok:
            response.headers["Retry-After"] = "1"
        return {"status": "ready" if ok else "not ready", "checks": checks}

    @app.get("/me/balance")
    async def my_balance(request: Request) -> Response:
        """The caller's chips, read over gRPC from the balance service."""
        gateway: Gateway = request.app.state.gateway
        claims = await limited_caller(gateway, request)
        if not isinstance(claims, Claims):
            return claims
        trace = current_trace.get()
        try:
            reply = await gateway.balance.get_balance(
                claims.subject, traceparent=trace.traceparent if trace else None
            )
        except BalanceCallError as exc:
            raise exc.domain_error() from None
        return JSONResponse(
            {
                "account_id": reply.account_id,
                "balance": reply.balance,
                "reserved": reply.reserved,
                "available": reply.available,
                "stale": reply.stale,
            }
        )

    @app.post("/events", status_code=202)
    async def publish(body: PublishRequest, request: Request) -> Response:
        """Backends (service token) publish to a channel; table events get an event id."""
        gateway: Gateway = request.app.state.gateway
        claims = request_claims(request)
        if not claims.is_service:
            return problem(403, ErrorCode.FORBIDDEN, "only service tokens may publish")
        if body.channel == "broadcast":
            receivers = await gateway.broadcaster.to_all(body.data)
            return JSONResponse({"channel": "broadcast", "instances": receivers}, 202)
        try:
            channel = parse_channel(body.channel)
        except ValueError as exc:
            return problem(422, ErrorCode.VALIDATION_FAILED, str(exc))
        if channel.kind is ChannelKind.TABLE:
            event_id = await gateway.tables.publish(channel.key, body.data)
            return JSONResponse({"channel": channel.name, "event_id": event_id}, 202)
        receivers = await gateway.broadcaster.to_channel(channel.name, body.data)
        return JSONResponse({"channel": channel.name, "instances": receivers}, 202)

    app.include_router(proxy_router)
    app.include_router(webapp_router)
    app.add_api_websocket_route("/ws", websocket_endpoint)
    app.state.started_at = time.time()
    return app
