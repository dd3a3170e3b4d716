"""An exact model of the balance book: the answer of every call, decided before the call is made.

It follows the rules of `domain/balance` in their order (the Python checks, the idempotency
record, then the Lua script's checks): accounts with their version, reservations with their
expiry on the test's clock, the pots of one table, the house, and the chips outside the book
(deposits - withdrawals - chips committed out of circulation). The stateful test in
tests/integration compares every answer and, after every step, every figure with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from domain.balance import keys
from domain.balance.book import BalanceBook
from domain.balance.commands import (
    CancelPot,
    CommitReservation,
    Credit,
    Debit,
    RecordContribution,
    ReleaseReservation,
    Reserve,
    SettlePot,
)
from domain.balance.pots import SidePot
from domain.balance.types import (
    AccountBalance,
    ContributionResult,
    Mutation,
    Pot,
    PotResolution,
    PotStatus,
    Reservation,
    ReservationResult,
    ReservationStatus,
)
from domain.balance.validation import MAX_AMOUNT, MAX_TTL_SECONDS
from domain.errors import ErrorCode
from tests.balance_support import FakeClock

Command = (
    Credit
    | Debit
    | Reserve
    | CommitReservation
    | ReleaseReservation
    | RecordContribution
    | SettlePot
    | CancelPot
)
Result = Mutation | ReservationResult | ContributionResult | PotResolution
# account id, balance, reserved, version
AccountView = tuple[str, int, int, int]
# reservation id, holder, amount, status, committed amount, expiry (ms)
ReservationView = tuple[str, str, int, ReservationStatus, int, int]
# hand id, status, total, contributions by player
PotView = tuple[str, PotStatus, int, tuple[tuple[str, int], ...]]
HOUSE = "house"
PENDING, EXPIRED = ReservationStatus.PENDING, ReservationStatus.EXPIRED


@dataclass(frozen=True)
class Outcome:
    """One call's answer: a refusal has only `code`; a success the figures it answers with.

    `accounts` are the accounts the answer carries, in its order, as they are after the call.
    """

    code: ErrorCode | None = None
    accounts: tuple[AccountView, ...] = ()
    reservation: ReservationView | None = None
    pot: PotView | None = None
    payouts: tuple[tuple[str, int], ...] = ()
    rake: int = 0


def refused(code: ErrorCode) -> Outcome:
    """The answer of a call refused with `code`."""
    return Outcome(code=code)


def account_view(account: AccountBalance) -> AccountView:
    """The compared figures of a real account."""
    return (account.account_id, account.balance, account.reserved, account.version)


def reservation_view(reservation: Reservation) -> ReservationView:
    """The compared fields of a real reservation."""
    r = reservation
    return (r.reservation_id, r.account_id, r.amount, r.status, r.committed_amount, r.expires_at_ms)


def pot_view(pot: Pot) -> PotView:
    """The compared fields of a real pot."""
    return (pot.hand_id, pot.status, pot.total, tuple(sorted(pot.contributions.items())))


def outcome_of(result: Result) -> Outcome:
    """A real successful answer, in the model's terms."""
    if isinstance(result, Mutation):
        return Outcome(accounts=(account_view(result.account),))
    if isinstance(result, ReservationResult):
        accounts = (
            [result.account] if result.to_account is None else [result.account, result.to_account]
        )
        return Outcome(
            accounts=tuple(account_view(a) for a in accounts),
            reservation=reservation_view(result.reservation),
        )
    if isinstance(result, ContributionResult):
        return Outcome(accounts=(account_view(result.account),), pot=pot_view(result.pot))
    return Outcome(
        accounts=tuple(account_view(a) for a in result.accounts),
        pot=pot_view(result.pot),
        payouts=tuple(sorted(result.payouts.items())),
        rake=result.rake,
    )


async def perform(book: BalanceBook, command: Command) -> Result:
    """Send `command` to the book's service for it."""
    if isinstance(command, Credit):
        return await book.accounts.credit(command)
    if isinstance(command, Debit):
        return await book.accounts.debit(command)
    if isinstance(command, Reserve):
        return await book.reservations.reserve(command)
    if isinstance(command, CommitReservation):
        return await book.reservations.commit(command)
    if isinstance(command, ReleaseReservation):
        return await book.reservations.release(command)
    if isinstance(command, RecordContribution):
        return await book.pots.contribute(command)
    if isinstance(command, SettlePot):
        return await book.pots.settle(command)
    return await book.pots.cancel(command)


@dataclass
class ModelAccount:
    """An account's figures; every transaction on it adds one to its version."""

    account_id: str
    balance: int = 0
    reserved: int = 0
    version: int = 0

    @property
    def available(self) -> int:
        """Chips that may be debited, reserved or bet."""
        return self.balance - self.reserved

    def record(self, delta: int, reserved_delta: int = 0) -> None:
        """One transaction."""
        self.balance += delta
        self.reserved += reserved_delta
        self.version += 1

    def view(self) -> AccountView:
        """As `account_view` reads the real one."""
        return (self.account_id, self.balance, self.reserved, self.version)


@dataclass
class ModelReservation:
    """Chips held until committed, released or expired, exactly once."""

    reservation_id: str
    account_id: str
    amount: int
    expires_at_ms: int
    status: ReservationStatus = PENDING
    committed_amount: int = 0

    def view(self) -> ReservationView:
        """As `reservation_view` reads the real one."""
        r = self
        return (
            r.reservation_id,
            r.account_id,
            r.amount,
            r.status,
            r.committed_amount,
            r.expires_at_ms,
        )


@dataclass
class ModelPot:
    """One hand's pot."""

    hand_id: str
    status: PotStatus = PotStatus.OPEN
    contributions: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Chips in the pot."""
        return sum(self.contributions.values())

    def view(self) -> PotView:
        """As `pot_view` reads the real one."""
        return (self.hand_id, self.status, self.total, tuple(sorted(self.contributions.items())))


def refused_before_redis(command: Command) -> bool:
    """Whether the Python checks refuse `command` (VALIDATION_FAILED, its key left unused)."""
    positive = Credit | Debit | Reserve | RecordContribution
    if isinstance(command, positive) and not 1 <= command.amount <= MAX_AMOUNT:
        return True
    if isinstance(command, Reserve):
        return not 1 <= command.ttl_seconds <= MAX_TTL_SECONDS
    if isinstance(command, CommitReservation):
        return not 0 <= command.amount <= MAX_AMOUNT
    if isinstance(command, SettlePot):
        return command.rake < 0 or any(
            side.amount < 0
            or (side.amount > 0 and not side.winner_ids)
            or len(set(side.winner_ids)) != len(side.winner_ids)
            for side in command.side_pots
        )
    return False


def split(side_pots: Sequence[SidePot]) -> dict[str, int]:
    """Each winner's chips: a pot shared evenly, its odd chips to the first winners listed."""
    payouts: dict[str, int] = {}
    for side in (s for s in side_pots if s.winner_ids):
        share, odd = divmod(side.amount, len(side.winner_ids))
        for position, winner in enumerate(side.winner_ids):
            payouts[winner] = payouts.get(winner, 0) + share + (1 if position < odd else 0)
    return payouts


class BalanceModel:
    """What the book holds and must answer; `call` applies a command and returns its answer."""

    def __init__(self, clock: FakeClock, opened: Iterable[str]) -> None:
        self.clock = clock
        self.accounts = {a: ModelAccount(a) for a in opened}
        self.reservations: dict[str, ModelReservation] = {}
        self.pots: dict[str, ModelPot] = {}
        self.outside = 0
        # Answers by (home, key): a key is remembered in the home its call runs in.
        self.answers: dict[tuple[str, str], tuple[Command, Outcome]] = {}
        # Reservation id to the account that first asked for it (its locator, kept for good).
        self.claimed: dict[str, str] = {}

    def call(self, command: Command) -> tuple[Outcome, bool]:
        """The answer `command` deserves and whether it is a replay; its effect is applied.

        A key answers its first request in the same home again (a replay, nothing moves),
        refusals included; another request under a key used there is IDEMPOTENCY_KEY_REUSED.
        What the service refuses before its script (see `_before_script`) is not remembered.
        """
        if refused_before_redis(command):
            return refused(ErrorCode.VALIDATION_FAILED), False
        home = self._home(command)
        if isinstance(home, ErrorCode):
            return refused(home), False
        scoped = (home, command.idempotency_key)
        if scoped in self.answers:
            first, answer = self.answers[scoped]
            if first == command:
                return answer, True
            return refused(ErrorCode.IDEMPOTENCY_KEY_REUSED), False
        early = self._before_script(command)
        if early is not None:
            return refused(early), False
        answer = self._apply(command)
        self.answers[scoped] = (command, answer)
        return answer, False

    def _home(self, command: Command) -> str | ErrorCode:
        """Where the call runs (keys.home of its account, holder or table), or its refusal."""
        if isinstance(command, Credit | Debit):
            return keys.home(command.account_id)
        if isinstance(command, Reserve):
            holder = self.claimed.setdefault(command.reservation_id, command.account_id)
            if holder != command.account_id:
                return ErrorCode.ALREADY_EXISTS
            return keys.home(command.account_id)
        if isinstance(command, CommitReservation | ReleaseReservation):
            claimed = self.claimed.get(command.reservation_id)
            return ErrorCode.NOT_FOUND if claimed is None else keys.home(claimed)
        if isinstance(command, RecordContribution):
            if command.reservation_id:
                claimed = self.claimed.get(command.reservation_id)
                if claimed is None:
                    return ErrorCode.NOT_FOUND
                if claimed != command.account_id:
                    return ErrorCode.VALIDATION_FAILED
            if keys.slot_of(keys.home(command.account_id)) != keys.slot_of(command.table_id):
                return keys.home(command.account_id)
            return command.table_id
        return command.table_id

    def _before_script(self, command: Command) -> ErrorCode | None:
        """A first contribution to the pot of another slot: the pot is checked open first."""
        if isinstance(command, RecordContribution) and keys.slot_of(
            keys.home(command.account_id)
        ) != keys.slot_of(command.table_id):
            pot = self._open_pot(command.hand_id)
            return pot if isinstance(pot, ErrorCode) else None
        return None

    def create_pot(self, hand_id: str) -> tuple[PotView, bool]:
        """The hand's pot, opened unless it exists, and whether it is new."""
        created = hand_id not in self.pots
        pot = self.pots.setdefault(hand_id, ModelPot(hand_id))
        return pot.view(), created

    def expire_due(self) -> tuple[list[str], tuple[AccountView, ...]]:
        """The sweep: PENDING reservations due by now end EXPIRED; their holders after it."""
        due = sorted(
            r.reservation_id
            for r in self.reservations.values()
            if r.status is PENDING and r.expires_at_ms <= self.clock.now_ms
        )
        holders = {self._resolve(self.reservations[r], EXPIRED, 0).account_id for r in due}
        return due, tuple(self.accounts[a].view() for a in sorted(holders))

    def _apply(self, command: Command) -> Outcome:
        if isinstance(command, Credit):
            account = self.accounts.setdefault(command.account_id, ModelAccount(command.account_id))
            account.record(command.amount)
            self.outside += command.amount
            return Outcome(accounts=(account.view(),))
        if isinstance(command, Debit):
            return self._debit(command)
        if isinstance(command, Reserve):
            return self._reserve(command)
        if isinstance(command, CommitReservation):
            return self._commit(command)
        if isinstance(command, ReleaseReservation):
            return self._release(command)
        if isinstance(command, RecordContribution):
            return self._contribute(command)
        if isinstance(command, SettlePot):
            return self._settle(command)
        return self._cancel(command)

    def _debit(self, command: Debit) -> Outcome:
        account = self.accounts.get(command.account_id)
        if account is None:
            return refused(ErrorCode.NOT_FOUND)
        if account.available < command.amount:
            return refused(ErrorCode.INSUFFICIENT_FUNDS)
        account.record(-command.amount)
        self.outside -= command.amount
        return Outcome(accounts=(account.view(),))

    def _reserve(self, command: Reserve) -> Outcome:
        assert command.reservation_id, "the model needs the reservation id chosen by the test"
        account = self.accounts.get(command.account_id)
        if account is None:
            return refused(ErrorCode.NOT_FOUND)
        if command.reservation_id in self.reservations:
            return refused(ErrorCode.ALREADY_EXISTS)
        if account.available < command.amount:
            return refused(ErrorCode.INSUFFICIENT_FUNDS)
        expires = self.clock.now_ms + command.ttl_seconds * 1000
        held = ModelReservation(command.reservation_id, account.account_id, command.amount, expires)
        self.reservations[held.reservation_id] = held
        account.record(0, command.amount)
        return Outcome(accounts=(account.view(),), reservation=held.view())

    def _usable(self, reservation_id: str) -> ModelReservation | ErrorCode:
        """A PENDING reservation before its expiry, or the refusal; one found past it expires."""
        held = self.reservations.get(reservation_id)
        if held is None:
            return ErrorCode.NOT_FOUND
        if held.status is EXPIRED:
            return ErrorCode.RESERVATION_EXPIRED
        if held.status is not PENDING:
            return ErrorCode.RESERVATION_ALREADY_RESOLVED
        if self.clock.now_ms >= held.expires_at_ms:
            self._resolve(held, EXPIRED, 0)
            return ErrorCode.RESERVATION_EXPIRED
        return held

    def _resolve(
        self, held: ModelReservation, status: ReservationStatus, committed: int
    ) -> ModelAccount:
        """End a reservation: `committed` chips leave the holder, the whole hold is freed."""
        account = self.accounts[held.account_id]
        account.record(-committed, -held.amount)
        held.status, held.committed_amount = status, committed
        return account

    def _commit(self, command: CommitReservation) -> Outcome:
        held = self._usable(command.reservation_id)
        if isinstance(held, ErrorCode):
            return refused(held)
        amount = command.amount or held.amount
        if amount > held.amount or command.to_account_id == held.account_id:
            return refused(ErrorCode.VALIDATION_FAILED)
        accounts = [self._resolve(held, ReservationStatus.COMMITTED, amount)]
        if command.to_account_id:
            to = self.accounts.setdefault(
                command.to_account_id, ModelAccount(command.to_account_id)
            )
            to.record(amount)
            accounts.append(to)
        else:
            self.outside -= amount
        return Outcome(accounts=tuple(a.view() for a in accounts), reservation=held.view())

    def _release(self, command: ReleaseReservation) -> Outcome:
        held = self.reservations.get(command.reservation_id)
        if held is None:
            return refused(ErrorCode.NOT_FOUND)
        if held.status is not PENDING:
            return refused(ErrorCode.RESERVATION_ALREADY_RESOLVED)
        late = self.clock.now_ms >= held.expires_at_ms
        account = self._resolve(held, EXPIRED if late else ReservationStatus.RELEASED, 0)
        return Outcome(accounts=(account.view(),), reservation=held.view())

    def _open_pot(self, hand_id: str) -> ModelPot | ErrorCode:
        pot = self.pots.get(hand_id)
        if pot is None:
            return ErrorCode.NOT_FOUND
        return pot if pot.status is PotStatus.OPEN else ErrorCode.POT_ALREADY_SETTLED

    def _contribute(self, command: RecordContribution) -> Outcome:
        pot = self._open_pot(command.hand_id)
        if isinstance(pot, ErrorCode):
            return refused(pot)
        if command.reservation_id:
            held = self._usable(command.reservation_id)
            if isinstance(held, ErrorCode):
                return refused(held)
            if held.account_id != command.account_id:
                return refused(ErrorCode.VALIDATION_FAILED)
            if command.amount > held.amount:
                return refused(ErrorCode.INSUFFICIENT_FUNDS)
            account = self._resolve(held, ReservationStatus.COMMITTED, command.amount)
        else:
            found = self.accounts.get(command.account_id)
            if found is None:
                return refused(ErrorCode.NOT_FOUND)
            if found.available < command.amount:
                return refused(ErrorCode.INSUFFICIENT_FUNDS)
            account = found
            account.record(-command.amount)
        before = pot.contributions.get(command.account_id, 0)
        pot.contributions[command.account_id] = before + command.amount
        return Outcome(accounts=(account.view(),), pot=pot.view())

    def _settle(self, command: SettlePot) -> Outcome:
        pot = self._open_pot(command.hand_id)
        if isinstance(pot, ErrorCode):
            return refused(pot)
        payouts = split(command.side_pots)
        if any(w not in pot.contributions for w in payouts):
            return refused(ErrorCode.VALIDATION_FAILED)
        if sum(payouts.values()) + command.rake != pot.total:
            return refused(ErrorCode.VALIDATION_FAILED)
        paid = [(w, payouts[w]) for w in sorted(payouts) if payouts[w] > 0]
        if command.rake > 0:
            paid.append((command.house_account_id or HOUSE, command.rake))
        pot.status = PotStatus.SETTLED
        return Outcome(
            accounts=self._pay(paid),
            pot=pot.view(),
            payouts=tuple(sorted(payouts.items())),
            rake=command.rake,
        )

    def _cancel(self, command: CancelPot) -> Outcome:
        pot = self._open_pot(command.hand_id)
        if isinstance(pot, ErrorCode):
            return refused(pot)
        refunds = tuple(sorted(pot.contributions.items()))
        pot.status = PotStatus.CANCELLED
        return Outcome(accounts=self._pay(refunds), pot=pot.view(), payouts=refunds)

    def _pay(self, amounts: Iterable[tuple[str, int]]) -> tuple[AccountView, ...]:
        """Credit chips from a pot, in order; the accounts after."""
        views = []
        for account_id, amount in amounts:
            account = self.accounts.setdefault(account_id, ModelAccount(account_id))
            account.record(amount)
            views.append(account.view())
        return tuple(views)
