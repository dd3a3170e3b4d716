"""Who holds each reservation: a script resolving one must be sent its holder's keys up front."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from domain.balance import keys
from domain.balance.scripts import REDIS_DOWN
from domain.balance.validation import is_id
from domain.errors import DomainError, ErrorCode, Unavailable
from infra.redis import RedisClient, get_many

CACHED_HOLDERS = 100_000


class ReservationHolders:
    """Reservation id to account id, read from Redis once and then kept.

    A reservation lives beside its holder's account, so a call on it must know the holder
    first: `claim` writes it to the reservation's locator key before the reservation is made.
    A reservation never changes hands, so a holder read from Redis stays true; the scripts
    check it anyway and answer "keys moved" if the call carried another account's keys.
    """

    def __init__(self, redis: RedisClient, size: int = CACHED_HOLDERS) -> None:
        self.redis = redis
        self.size = size
        self._known: OrderedDict[str, str] = OrderedDict()

    def known(self, reservation_id: str) -> str | None:
        """The cached holder, without a read."""
        holder = self._known.get(reservation_id)
        if holder is not None:
            self._known.move_to_end(reservation_id)
        return holder

    def learn(self, reservation_id: str, account_id: str) -> None:
        """Remember a holder seen in Redis (a read, or a reservation's own answer)."""
        self._known[reservation_id] = account_id
        self._known.move_to_end(reservation_id)
        if len(self._known) > self.size:
            self._known.popitem(last=False)

    def forget(self, reservation_id: str) -> None:
        """Drop a holder, so the next look-up reads Redis."""
        self._known.pop(reservation_id, None)

    async def claim(self, reservation_id: str, account_id: str) -> None:
        """Name `account_id` the holder of `reservation_id`, unless another account is.

        Idempotent for the same account (a retry); ALREADY_EXISTS for another.
        """
        if self.known(reservation_id) == account_id:
            return
        locator = keys.reservation_holder(reservation_id)
        try:
            if not await self.redis.set(locator, account_id, nx=True):
                raw = await self.redis.get(locator)
                holder = raw.decode() if isinstance(raw, bytes) else str(raw)
                if holder != account_id:
                    raise DomainError(
                        f"reservation {reservation_id} already exists",
                        code=ErrorCode.ALREADY_EXISTS,
                    )
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        self.learn(reservation_id, account_id)

    async def of(self, reservation_id: str) -> str | None:
        """The holder, cached or read; None if the reservation does not exist (or is no id)."""
        holder = self.known(reservation_id)
        if holder is None:
            await self.look_up([reservation_id])
            holder = self._known.get(reservation_id)
        return holder

    async def look_up(self, reservation_ids: Iterable[str]) -> None:
        """Read the holders not cached yet, all in one round trip."""
        missing = [r for r in dict.fromkeys(reservation_ids) if is_id(r) and r not in self._known]
        if not missing:
            return
        try:
            raws = await get_many(self.redis, [keys.reservation_holder(r) for r in missing])
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        for reservation_id, raw in zip(missing, raws, strict=True):
            if raw is not None:
                self.learn(reservation_id, raw.decode() if isinstance(raw, bytes) else str(raw))
