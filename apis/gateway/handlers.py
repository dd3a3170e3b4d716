"""What the gateway does with each client frame of one authenticated connection."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from typing import Any

from opentelemetry.trace import Span

from apis.auth import authenticate
from apis.gateway.context import Gateway
from apis.gateway.observability import TraceContext
from domain.errors import DomainError, ErrorCode, Unauthenticated
from domain.gateway import metrics
from domain.gateway.channels import ChannelKind, parse_channel
from domain.gateway.connection import Connection, PresenceStatus
from domain.gateway.frames import (
    AuthFrame,
    ChatHistoryFrame,
    ChatSendFrame,
    ClientFrame,
    FrameError,
    PingFrame,
    PresenceSetFrame,
    SubscribeFrame,
    TableActionFrame,
    TableResyncFrame,
    UnsubscribeFrame,
    error_frame,
    parse_client_frame,
    reply_frame,
)
from domain.gateway.ratelimit import LocalWindow
from infra.telemetry import tracer
from infra.tokens import Claims

log = logging.getLogger(__name__)


class FrameSession:
    """Validates, rate-limits and answers the frames of one connection; never raises."""

    def __init__(
        self, gateway: Gateway, conn: Connection, claims: Claims, token: str, trace: TraceContext
    ) -> None:
        self.gateway = gateway
        self.conn = conn
        self.claims = claims
        self.token = token
        self.trace = trace
        self.frames = LocalWindow(gateway.frame_limit)

    def error(self, code: ErrorCode | str, message: str, ref: str | None = None) -> None:
        """Send an `error` frame."""
        metrics.ERRORS.labels(str(code)).inc()
        self.conn.offer(error_frame(code, message, ref))

    async def handle(self, text: str) -> None:
        """Process one text frame in its own span; every failure becomes an error frame."""
        # A span per frame: its log lines and upstream calls get their own span id, under the
        # connection's trace.
        with tracer(__name__).start_as_current_span("websocket frame") as span:
            await self._handle(text, span)

    async def _handle(self, text: str, span: Span) -> None:
        ref: str | None = None
        try:
            frame = parse_client_frame(text)
            span.update_name(f"websocket {frame.type}")
            ref = frame.id
            metrics.MESSAGES_IN.labels(frame.type).inc()
            if not self._within_rate():
                self.error(ErrorCode.RATE_LIMITED, "too many frames; this one was dropped", ref)
                return
            await self._dispatch(frame)
        except FrameError as exc:
            metrics.MESSAGES_IN.labels("invalid").inc()
            self.error(exc.code, exc.message, exc.ref)
        except DomainError as exc:
            self.error(exc.code, exc.detail, ref)
        except Exception:
            log.exception("frame handler failed", extra={"connection_id": self.conn.connection_id})
            self.error(ErrorCode.INTERNAL, "the gateway failed to process this frame", ref)

    def _within_rate(self) -> bool:
        if self.frames.allow():
            return True
        metrics.RATE_LIMITED.labels("connection").inc()
        return False

    async def _dispatch(self, frame: ClientFrame) -> None:
        match frame:
            case PingFrame():
                self.conn.offer(reply_frame("pong", frame.id, ts=time.time()))
            case AuthFrame():
                await self._refresh_token(frame)
            case SubscribeFrame():
                await self._subscribe(frame)
            case UnsubscribeFrame():
                channel = parse_channel(frame.channel)
                await self.gateway.hub.unsubscribe(self.conn, channel.name)
                self.conn.offer(reply_frame("unsubscribed", frame.id, channel=channel.name))
            case ChatSendFrame():
                message = await self.gateway.chat.send(self.conn.user_id, frame.channel, frame.text)
                self.conn.offer(reply_frame("chat.sent", frame.id, **asdict(message)))
            case ChatHistoryFrame():
                messages = await self.gateway.chat.history(frame.channel, frame.limit, frame.before)
                self.conn.offer(
                    reply_frame(
                        "chat.history",
                        frame.id,
                        channel=frame.channel,
                        messages=[asdict(m) for m in messages],
                    )
                )
            case TableActionFrame():
                await self._table_action(frame)
            case TableResyncFrame():
                resync = await self.gateway.tables.since(frame.table_id, frame.last_event_id)
                self.conn.offer(
                    reply_frame(
                        "table.resync",
                        frame.id,
                        table_id=frame.table_id,
                        events=resync.events,
                        full_resync_required=resync.full_resync_required,
                        reason=resync.reason,
                    )
                )
            case PresenceSetFrame():
                self.conn.status = PresenceStatus(frame.status)
                await self.gateway.presence.set_status(
                    self.conn.connection_id, self.conn.user_id, self.conn.status
                )
                status = await self.gateway.presence.get_status(self.conn.user_id)
                self.conn.offer(
                    reply_frame(
                        "presence", frame.id, user_id=self.conn.user_id, status=status.value
                    )
                )

    async def _refresh_token(self, frame: AuthFrame) -> None:
        secret = self.gateway.settings.jwt_secret.get_secret_value()
        try:
            claims = authenticate(secret, frame.token)
        except Unauthenticated as exc:
            raise FrameError(ErrorCode.UNAUTHENTICATED, exc.detail, frame.id) from None
        if claims.subject != self.conn.user_id:
            raise FrameError(ErrorCode.FORBIDDEN, "the new token is for another user", frame.id)
        self.claims, self.token = claims, frame.token
        self.conn.expire_at(claims.expires_at)
        self.conn.offer(reply_frame("auth.ok", frame.id, expires_at=claims.expires_at))

    async def _subscribe(self, frame: SubscribeFrame) -> None:
        try:
            channel = parse_channel(frame.channel)
        except ValueError as exc:
            raise FrameError(ErrorCode.VALIDATION_FAILED, str(exc), frame.id) from None
        if not channel.readable_by(self.conn.user_id):
            raise FrameError(ErrorCode.FORBIDDEN, "user channels are private", frame.id)
        limit = self.gateway.settings.ws_max_subscriptions
        if channel.name not in self.conn.channels and len(self.conn.channels) >= limit:
            raise FrameError(ErrorCode.VALIDATION_FAILED, f"at most {limit} channels", frame.id)
        await self.gateway.hub.subscribe(self.conn, channel.name)
        extra: dict[str, Any] = {}
        if channel.kind is ChannelKind.TABLE:
            extra["last_event_id"] = await self.gateway.tables.latest(channel.key)
        self.conn.offer(reply_frame("subscribed", frame.id, channel=channel.name, **extra))

    async def _table_action(self, frame: TableActionFrame) -> None:
        if not self.gateway.game.configured:
            raise FrameError(
                ErrorCode.UNAVAILABLE, "the game service is not configured (GAME_URL)", frame.id
            )
        action: dict[str, Any] = {"action": frame.action, "params": frame.params}
        if frame.amount is not None:
            action["amount"] = frame.amount
        headers = {"authorization": f"Bearer {self.token}", "traceparent": self.trace.traceparent}
        result = await self.gateway.game.send_action(
            frame.table_id, self.conn.user_id, action, headers
        )
        self.conn.offer(
            reply_frame("table.action.result", frame.id, table_id=frame.table_id, result=result)
        )
