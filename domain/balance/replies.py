"""How a balance script's reply reads: its flag, its JSON body, and the failures it reports.

Every script answers `{flag, json, ...}`: flag 0 a fresh answer, 1 a replay of a recorded
one, 3 "the call did not carry the keys of an account the data names" (nothing written).
"""

from __future__ import annotations

import json
from typing import Any

from domain.balance.economy import count_closed
from domain.balance.requests import ScriptAnswer
from domain.balance.types import ReservationStatus
from domain.errors import DomainError, ErrorCode, Unavailable


class KeysMoved(Unavailable):
    """The script found the data naming an account whose keys the call did not carry.

    It wrote and recorded nothing: the caller read before a concurrent change (a reservation
    made or a contribution added meanwhile) and reads again. Raised only if that keeps failing.
    """


def decode_reply(reply: Any) -> tuple[int, dict[str, Any]]:
    """A script's `{flag, json, ...}` reply: the flag and the decoded body."""
    body: dict[str, Any] = json.loads(reply[1])
    return int(reply[0]), body


def answer_of(
    flag: int, body: dict[str, Any], delivered: tuple[dict[str, Any], ...] = ()
) -> ScriptAnswer:
    """The script's decoded `{flag, json, ...}` as an answer, or its business failure raised."""
    if int(flag) == 3:
        raise KeysMoved(str(body.get("detail", "")))
    if not body.get("ok"):
        if body.get("expired_now") and int(flag) != 1:
            count_closed(ReservationStatus.EXPIRED)
        raise DomainError(
            str(body.get("detail", "")),
            code=ErrorCode(body.get("code", ErrorCode.INTERNAL)),
            replayed=int(flag) == 1,
        )
    return ScriptAnswer(body, int(flag) == 1, delivered)


def as_list(value: Any) -> list[Any]:
    """A JSON array from cjson, which writes an empty array as {}."""
    return list(value) if isinstance(value, list) else []


def text(value: bytes | str) -> str:
    """A Redis reply as str (the client answers bytes unless told to decode)."""
    return value.decode() if isinstance(value, bytes) else value
