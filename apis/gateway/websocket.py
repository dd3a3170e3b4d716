"""WebSocket /ws: authenticate, register, pump frames, and clean up whatever happens."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from apis.auth import authenticate
from apis.gateway.context import Gateway
from apis.gateway.handlers import FrameSession
from apis.gateway.observability import TraceContext, current_trace
from domain.errors import ErrorCode, Unauthenticated
from domain.gateway import metrics
from domain.gateway.channels import user_channel
from domain.gateway.connection import Connection
from domain.gateway.frames import CloseCode, encode, error_frame
from infra.logs import correlation_id
from infra.tokens import Claims

log = logging.getLogger(__name__)

ABORT_EXTENSION = "saga.abort"
_CLIENT_TYPE = re.compile(r"^[a-z0-9_.-]{1,32}$")


def _client_type(websocket: WebSocket) -> str:
    raw = websocket.query_params.get("client") or websocket.headers.get("x-client-type") or ""
    raw = raw.lower()
    return raw if _CLIENT_TYPE.match(raw) else "unknown"


async def _close(websocket: WebSocket, code: int, reason: str, timeout: float) -> None:
    """Close with `code`; if the close frame cannot get out (a stuck client), drop the TCP."""
    try:
        await asyncio.wait_for(websocket.close(code, reason[:120]), timeout)
    except TimeoutError:
        abort: Callable[[], None] | None = websocket.scope.get(ABORT_EXTENSION)
        if abort is not None:
            abort()
    except (RuntimeError, OSError, WebSocketDisconnect):
        pass  # already closed


async def _first_token(websocket: WebSocket, timeout: float) -> str | None:
    """The token of the first frame, which must be `{"type": "auth", "token": ...}`."""
    message = await asyncio.wait_for(websocket.receive(), timeout)
    if message["type"] == "websocket.disconnect":
        return None
    try:
        frame = json.loads(message.get("text") or "")
    except ValueError:
        frame = None
    if isinstance(frame, dict) and frame.get("type") == "auth":
        token = frame.get("token")
        if isinstance(token, str) and token:
            return token
    raise Unauthenticated("the first frame must be {'type': 'auth', 'token': ...}")


async def _authenticate(gateway: Gateway, websocket: WebSocket) -> tuple[Claims, str] | None:
    settings = gateway.settings
    token = websocket.query_params.get("token")
    try:
        if not token:
            token = await _first_token(websocket, settings.ws_auth_timeout_seconds)
            if token is None:
                return None
        claims = authenticate(settings.jwt_secret.get_secret_value(), token)
    except TimeoutError:
        await _close(websocket, CloseCode.AUTH_TIMEOUT, "authentication timed out", 1.0)
        return None
    except Unauthenticated as exc:
        code = CloseCode.TOKEN_EXPIRED if "expired" in exc.detail else CloseCode.UNAUTHENTICATED
        metrics.ERRORS.labels(ErrorCode.UNAUTHENTICATED.value).inc()
        await _close(websocket, code, exc.detail, 1.0)
        return None
    return claims, token


async def websocket_endpoint(websocket: WebSocket) -> None:
    """One player's socket from handshake to close."""
    gateway: Gateway = websocket.app.state.gateway
    settings = gateway.settings
    trace = TraceContext.from_header(websocket.headers.get("traceparent"))
    current_trace.set(trace)
    correlation_id.set(trace.trace_id)
    await websocket.accept()
    authenticated = await _authenticate(gateway, websocket)
    if authenticated is None:
        return
    claims, token = authenticated
    close_timeout = settings.ws_close_timeout_seconds

    async def close_socket(code: int, reason: str) -> None:
        await _close(websocket, code, reason, close_timeout)

    conn = Connection(
        uuid.uuid4().hex,
        claims.subject,
        ip=websocket.client.host if websocket.client else "unknown",
        client_type=_client_type(websocket),
        send=websocket.send_text,
        close=close_socket,
        queue_size=settings.ws_send_queue_size,
    )
    conn.on_slow = lambda _: metrics.SLOW_CONSUMERS.inc()
    conn.expire_at(claims.expires_at)
    session = FrameSession(gateway, conn, claims, token, trace)
    hub = gateway.hub
    await hub.add(conn)
    log_fields = {"connection_id": conn.connection_id, "user_id": conn.user_id}
    try:
        await hub.subscribe(conn, user_channel(conn.user_id))
        try:
            await gateway.sessions.started(conn.connection_id, conn.user_id, conn.client_type)
            await gateway.presence.announce(conn.user_id)
        except Exception as exc:
            log.warning("session start bookkeeping failed: %s", exc, extra=log_fields)
        conn.offer(
            encode(
                {
                    "type": "welcome",
                    "connection_id": conn.connection_id,
                    "user_id": conn.user_id,
                    "instance_id": hub.instance_id,
                    "channels": sorted(conn.channels),
                    "expires_at": claims.expires_at,
                    "heartbeat_timeout": settings.ws_heartbeat_timeout_seconds,
                }
            )
        )
        log.info("websocket connected", extra=log_fields)
        await _pump(session, websocket, settings.ws_max_frame_bytes)
    finally:
        await conn.finish()
        code = conn.close_code or CloseCode.NORMAL
        metrics.DISCONNECTS.labels(str(code)).inc()
        # Thousands of sockets closing at once (a shutdown, a network blip) wait their turn
        # here rather than in the Redis pool, whose wait times out: each session is recorded.
        async with gateway.session_ends:
            await hub.remove(conn)
            try:
                await gateway.sessions.ended(
                    conn.connection_id, conn.user_id, conn.client_type, conn.connected_at, code
                )
                await gateway.presence.announce(conn.user_id)
            except Exception as exc:
                log.warning("session end bookkeeping failed: %s", exc, extra=log_fields)
        log.info("websocket closed", extra={**log_fields, "close_code": int(code)})


async def _pump(session: FrameSession, websocket: WebSocket, max_bytes: int) -> None:
    conn = session.conn
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        conn.touch()
        if not conn.open:
            continue
        text = message.get("text")
        if text is None:
            session.error(ErrorCode.VALIDATION_FAILED, "binary frames are not supported")
            continue
        if len(text) > max_bytes or len(text.encode()) > max_bytes:
            metrics.MESSAGES_IN.labels("oversized").inc()
            conn.offer(
                error_frame(ErrorCode.PAYLOAD_TOO_LARGE, f"frames are limited to {max_bytes} bytes")
            )
            continue
        await session.handle(text)
