"""What a balance script call is made of, and what comes back: shared by every service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from domain.balance.chain_hints import ExpectedEntry

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class ScriptAnswer:
    """A script's decoded answer and whether it came from the idempotency record.

    `delivered` are the answers of the credits it owed to other slots, delivered in order
    (deliver_credit.lua or deliver_contribution.lua).
    """

    body: dict[str, Any]
    replayed: bool
    delivered: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ScriptRequest:
    """One operation to run in home `tag`: its arguments, idempotency key and keys it touches.

    `args` are the request itself (its fingerprint); `keys` the operation's own KEYS (keys.py's
    `for_*`), which carry the key groups of `accounts` in that order; `remote` are accounts of
    other slots it may owe chips to; `transactions` is how many transactions it may write. The
    idempotency record and the tail are framed around, in `tag`'s slot. `expected` is the one
    ledger entry a single-account change writes if it goes through (chain_hints.py computes it
    ahead).
    """

    operation: str
    args: list[str]
    tag: str
    idempotency_key: str = ""
    keys: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    transactions: int = 0
    expected: ExpectedEntry | None = None
    remote: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Prepared(Generic[T_co]):
    """A checked request, how its answer becomes the caller's result, and how to read again.

    `reread` builds the request again from fresh reads, for a request that named its accounts
    from data read before it ran (a reservation's holder, a pot's contributors).
    """

    request: ScriptRequest
    finish: Callable[[ScriptAnswer], T_co]
    reread: Callable[[], Awaitable[Prepared[T_co]]] | None = None
