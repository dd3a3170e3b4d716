"""Chat in the lobby and at tables: validated, mute-checked, kept 24 h in a Redis Stream."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import asdict, dataclass
from typing import Protocol

from domain.errors import DomainError, ErrorCode, ValidationFailed
from domain.gateway.broadcast import Broadcaster
from domain.gateway.channels import parse_channel
from domain.gateway.redis_values import as_text, stream_entries
from infra.redis import RedisClient

# Zero-width and bidirectional-override characters let a message hide or reorder text.
_INVISIBLE = (
    {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
    | {chr(c) for c in range(0x202A, 0x202F)}
    | {chr(c) for c in range(0x2066, 0x206A)}
)


class Muted(DomainError):
    """The game service has muted this user."""

    code = ErrorCode.MUTED


class MuteChecker(Protocol):
    """Who may not chat; answered by the game service."""

    async def is_muted(self, user_id: str, channel: str) -> bool:
        """True when `user_id` may not speak in `channel`."""
        ...


@dataclass(frozen=True)
class ChatMessage:
    """One stored chat line."""

    id: str
    channel: str
    user_id: str
    text: str
    at: float


def clean_text(text: str, max_length: int) -> str:
    """The text as it will be stored, or ValidationFailed saying what is wrong with it."""
    cleaned = unicodedata.normalize("NFC", text).strip()
    if not cleaned:
        raise ValidationFailed("message is empty")
    if len(cleaned) > max_length:
        raise ValidationFailed(f"message is longer than {max_length} characters")
    for char in cleaned:
        if char in _INVISIBLE or (unicodedata.category(char) == "Cc" and char not in "\n"):
            raise ValidationFailed("message contains control or invisible characters")
    if cleaned.count("\n") > 5:
        raise ValidationFailed("message has more than 5 line breaks")
    return cleaned


class ChatStore:
    """A Redis Stream per channel (`chat:{channel}`), trimmed to the retention window."""

    def __init__(self, redis: RedisClient, retention_seconds: int) -> None:
        self._redis = redis
        self.retention_seconds = retention_seconds

    @staticmethod
    def _key(channel: str) -> str:
        return f"chat:{channel}"

    def _min_id(self) -> str:
        return str(int((time.time() - self.retention_seconds) * 1000))

    async def save(self, channel: str, user_id: str, text: str) -> ChatMessage:
        """Append a message; entries older than the retention window go in the same step."""
        at = time.time()
        key = self._key(channel)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                key,
                {"user_id": user_id, "text": text, "at": repr(at)},
                minid=self._min_id(),
                approximate=True,
            )
            pipe.expire(key, self.retention_seconds)
            entry_id, _ = await pipe.execute()
        return ChatMessage(as_text(entry_id), channel, user_id, text, at)

    async def history(
        self, channel: str, limit: int, before: str | None = None
    ) -> list[ChatMessage]:
        """The newest `limit` messages (newest first), optionally older than `before`."""
        high = f"({before}" if before else "+"
        reply = await self._redis.xrevrange(self._key(channel), high, self._min_id(), limit)
        return [
            ChatMessage(entry_id, channel, f["user_id"], f["text"], float(f["at"]))
            for entry_id, f in stream_entries(reply)
        ]

    async def trim(self, channel: str) -> int:
        """Drop messages past retention exactly; returns how many went."""
        return int(await self._redis.xtrim(self._key(channel), minid=self._min_id()))


class ChatService:
    """Sends chat: validate, check mute, store, publish to the channel's subscribers."""

    def __init__(
        self,
        store: ChatStore,
        broadcaster: Broadcaster,
        mutes: MuteChecker | None,
        *,
        max_length: int,
    ) -> None:
        self._store = store
        self._broadcaster = broadcaster
        self._mutes = mutes
        self._max_length = max_length

    @staticmethod
    def chat_channel(channel: str) -> str:
        """The channel name if chat is allowed there."""
        try:
            parsed = parse_channel(channel)
        except ValueError as exc:
            raise ValidationFailed(str(exc)) from None
        if not parsed.accepts_chat:
            raise ValidationFailed("chat is only allowed in the lobby and at tables")
        return parsed.name

    async def check_muted(self, user_id: str, channel: str) -> None:
        """Raise Muted when the game service says so."""
        if self._mutes is not None and await self._mutes.is_muted(user_id, channel):
            raise Muted("you are muted", channel=channel)

    async def send(self, user_id: str, channel: str, text: str) -> ChatMessage:
        """Validate, mute-check, store and publish one message."""
        name = self.chat_channel(channel)
        cleaned = clean_text(text, self._max_length)
        await self.check_muted(user_id, name)
        message = await self._store.save(name, user_id, cleaned)
        await self._broadcaster.to_channel(name, {"kind": "chat.message", **asdict(message)})
        return message

    async def history(self, channel: str, limit: int, before: str | None) -> list[ChatMessage]:
        """Recent messages of a chat channel."""
        return await self._store.history(self.chat_channel(channel), limit, before)
