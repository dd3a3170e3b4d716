"""The WebSocket protocol: client frames parsed and validated, server frames built.

Client frames (DESIGN.md section 5): `auth`, `subscribe`, `unsubscribe`, `chat.send`,
`chat.history`, `table.action`, `table.resync`, `presence.set`, `ping`. Server frames:
`welcome`, `event`, `error`, `pong`, plus replies that echo the client's optional `id` as
`ref`: `auth.ok`, `subscribed`, `unsubscribed`, `chat.sent`, `chat.history`,
`table.action.result`, `table.resync`, `presence`.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.errors import ErrorCode

# Redis stream ids (`1712345678901-0`): anything else would reach XRANGE as a command argument.
STREAM_ID_PATTERN = r"^[0-9]{1,20}-[0-9]{1,20}$"


class CloseCode(IntEnum):
    """Why the gateway closed a socket; 4xxx codes are the gateway's own."""

    NORMAL = 1000
    GOING_AWAY = 1001
    MESSAGE_TOO_BIG = 1009
    UNAUTHENTICATED = 4000
    TOKEN_EXPIRED = 4001
    AUTH_TIMEOUT = 4002
    HEARTBEAT_TIMEOUT = 4003
    SLOW_CONSUMER = 4008


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str | None = Field(default=None, max_length=64)


class AuthFrame(_Frame):
    """Authenticate, or refresh the token of a live socket."""

    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=4096)


class SubscribeFrame(_Frame):
    """Start receiving a channel's events."""

    type: Literal["subscribe"]
    channel: str = Field(max_length=160)


class UnsubscribeFrame(_Frame):
    """Stop receiving a channel's events."""

    type: Literal["unsubscribe"]
    channel: str = Field(max_length=160)


class ChatSendFrame(_Frame):
    """Say something in the lobby or at a table."""

    type: Literal["chat.send"]
    channel: str = Field(max_length=160)
    text: str


class ChatHistoryFrame(_Frame):
    """The latest messages of a channel, newest first, optionally before a message id."""

    type: Literal["chat.history"]
    channel: str = Field(max_length=160)
    limit: int = Field(default=50, ge=1, le=200)
    before: str | None = Field(default=None, pattern=STREAM_ID_PATTERN)


class TableActionFrame(_Frame):
    """A move at a table, forwarded to the game service."""

    type: Literal["table.action"]
    table_id: str = Field(min_length=1, max_length=128)
    action: str = Field(min_length=1, max_length=32)
    amount: int | None = Field(default=None, ge=0)
    params: dict[str, Any] = Field(default_factory=dict)


class TableResyncFrame(_Frame):
    """Events of a table after `last_event_id`, or word that a full resync is needed."""

    type: Literal["table.resync"]
    table_id: str = Field(min_length=1, max_length=128)
    last_event_id: str | None = Field(default=None, pattern=STREAM_ID_PATTERN)


class PresenceSetFrame(_Frame):
    """Mark this connection online or away."""

    type: Literal["presence.set"]
    status: Literal["online", "away"]


class PingFrame(_Frame):
    """Application heartbeat; answered with `pong`."""

    type: Literal["ping"]


ClientFrame = (
    AuthFrame
    | SubscribeFrame
    | UnsubscribeFrame
    | ChatSendFrame
    | ChatHistoryFrame
    | TableActionFrame
    | TableResyncFrame
    | PresenceSetFrame
    | PingFrame
)

_MODELS: dict[str, type[_Frame]] = {
    "auth": AuthFrame,
    "subscribe": SubscribeFrame,
    "unsubscribe": UnsubscribeFrame,
    "chat.send": ChatSendFrame,
    "chat.history": ChatHistoryFrame,
    "table.action": TableActionFrame,
    "table.resync": TableResyncFrame,
    "presence.set": PresenceSetFrame,
    "ping": PingFrame,
}


class FrameError(Exception):
    """A client frame that cannot be processed; becomes an `error` frame."""

    def __init__(self, code: ErrorCode | str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.ref = ref


def parse_client_frame(text: str) -> ClientFrame:
    """Parse one text frame; raise FrameError for bad JSON, unknown types or bad fields."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise FrameError(ErrorCode.VALIDATION_FAILED, "frame is not valid JSON") from None
    except RecursionError:
        # `[[[[...]]]]` within the frame size limit still exhausts the parser's stack.
        raise FrameError(ErrorCode.VALIDATION_FAILED, "frame nests too deeply") from None
    if not isinstance(raw, dict):
        raise FrameError(ErrorCode.VALIDATION_FAILED, "frame must be a JSON object")
    if "\\u" in text and not _encodable(raw):
        # A `\ud800` escape decodes to a lone surrogate, which no UTF-8 store or peer accepts.
        raise FrameError(ErrorCode.VALIDATION_FAILED, "frame holds an invalid unicode escape")
    ref = raw.get("id") if isinstance(raw.get("id"), str) else None
    kind = raw.get("type")
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        shown = kind[:40] if isinstance(kind, str) else kind
        raise FrameError(ErrorCode.VALIDATION_FAILED, f"unknown frame type {shown!r}", ref)
    try:
        frame: ClientFrame = model.model_validate(raw)  # type: ignore[assignment]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{kind}: {where}: {first.get('msg', 'invalid')}"
        raise FrameError(ErrorCode.VALIDATION_FAILED, message, ref) from None
    return frame


def _encodable(raw: dict[str, Any]) -> bool:
    try:
        json.dumps(raw, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def encode(frame: dict[str, Any]) -> str:
    """A server frame as compact JSON text."""
    return json.dumps(frame, separators=(",", ":"))


def error_frame(code: ErrorCode | str, message: str, ref: str | None = None) -> str:
    """An `error` frame."""
    frame: dict[str, Any] = {"type": "error", "code": str(code), "message": message}
    if ref is not None:
        frame["ref"] = ref
    return encode(frame)


def reply_frame(kind: str, ref: str | None, **fields: Any) -> str:
    """A reply to a client frame, carrying its `id` as `ref`."""
    frame: dict[str, Any] = {"type": kind, **fields}
    if ref is not None:
        frame["ref"] = ref
    return encode(frame)


def event_frame(channel: str, payload_json: str) -> str:
    """An `event` frame around a payload that is already JSON text (built once per publish)."""
    return '{"type":"event","channel":' + json.dumps(channel) + ',"data":' + payload_json + "}"
