"""Gateway channel names and who may subscribe to them.

A gateway channel and the Redis channel that carries it have the same name, so any
publisher (the order saga, the balance service, the game service) reaches players with a
plain `PUBLISH user:{id} <json>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import DomainError, ErrorCode

LOBBY = "lobby"
# Carries broadcast-to-everyone; never a channel a client may name.
ALL_CONNECTIONS = "gateway:all"

_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")


class ChannelKind(StrEnum):
    """The families of channels."""

    LOBBY = "lobby"
    TABLE = "table"
    USER = "user"
    PRESENCE = "presence"


class InvalidChannel(DomainError, ValueError):
    """A channel name that is not one of the known families: the client's input is bad."""

    code = ErrorCode.VALIDATION_FAILED


@dataclass(frozen=True)
class Channel:
    """A parsed channel name."""

    kind: ChannelKind
    key: str

    @property
    def name(self) -> str:
        """The wire name, identical to the Redis channel name."""
        return LOBBY if self.kind is ChannelKind.LOBBY else f"{self.kind.value}:{self.key}"

    def readable_by(self, user_id: str) -> bool:
        """`user:{id}` is private to that user; every other channel is public."""
        return self.kind is not ChannelKind.USER or self.key == user_id

    @property
    def accepts_chat(self) -> bool:
        """Chat happens in the lobby and at tables, never on private or presence channels."""
        return self.kind in (ChannelKind.LOBBY, ChannelKind.TABLE)


def parse_channel(name: object) -> Channel:
    """Parse `lobby`, `table:{id}`, `user:{id}` or `presence:{id}`."""
    if not isinstance(name, str):
        raise InvalidChannel("channel must be a string")
    if name == LOBBY:
        return Channel(ChannelKind.LOBBY, "")
    family, sep, key = name.partition(":")
    if not sep or not _ID.match(key):
        raise InvalidChannel(f"unknown channel {name[:140]!r}")
    try:
        kind = ChannelKind(family)
    except ValueError:
        raise InvalidChannel(f"unknown channel {name[:140]!r}") from None
    if kind is ChannelKind.LOBBY:
        raise InvalidChannel("the lobby channel is just 'lobby'")
    return Channel(kind, key)


def user_channel(user_id: str) -> str:
    """The private channel of one user."""
    return f"user:{user_id}"


def table_channel(table_id: str) -> str:
    """The public channel of one table."""
    return f"table:{table_id}"


def presence_channel(user_id: str) -> str:
    """Where a user's presence changes are announced."""
    return f"presence:{user_id}"


def valid_id(value: object) -> bool:
    """True for an id usable inside a channel name."""
    return isinstance(value, str) and bool(_ID.match(value))
