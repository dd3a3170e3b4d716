"""Redis keys of the balance service: the one place that names them.

Every script touches keys of one hash slot, so the same scripts run on one Redis and on a
Redis/Valkey Cluster. The braces are literal hash tags:

- An account's keys carry its *home* as tag: the account id itself, except that a seat account
  `seat-<table>-<user>` lives with its table, beside the table's pots, so a bet is one script.
- What an operation writes beside the accounts (transactions, reservations, idempotency
  records, which are also the marks of delivered credits) carries the home of the account or
  table it runs in.
- What used to be one global index (account ids, reservation expiry, open pots, the economy
  counters, the outbox of credits owed to another slot) is one key per hash slot, tagged by
  `slot_tag(slot)`, a short string that hashes to that slot. `balance:slots` lists the slots
  that hold any; readers sum over it.

No Lua script builds a key name: every key a script touches comes in its KEYS, laid out from
these names by `script_keys.py`. docs/balance.md draws the layout.
"""

from __future__ import annotations

import functools

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

SLOTS = "balance:slots"
SEAT_PREFIX = "seat-"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def home(account_id: str) -> str:
    """The hash tag of an account's keys: its table for a seat account, else the id itself."""
    if account_id.startswith(SEAT_PREFIX):
        table, sep, user = account_id[len(SEAT_PREFIX) :].partition("-")
        if table and sep and user:
            return table
    return account_id


@functools.lru_cache(maxsize=65_536)
def slot_of(tag: str) -> int:
    """The cluster hash slot of keys tagged `tag` (CRC16 in Python: remembered per tag)."""
    return int(key_slot(tag.encode()))


@functools.cache
def _slot_tags() -> tuple[str, ...]:
    # The first base-36 numeral (0, 1, ..., z, 10, ...) that hashes to each slot. Stored keys
    # carry these tags: the rule must never change (tests/unit/test_balance_keys.py pins it).
    found: dict[int, str] = {}
    n = 0
    while len(found) < REDIS_CLUSTER_HASH_SLOTS:
        numeral, rest = "", n
        while True:
            rest, digit = divmod(rest, 36)
            numeral = _DIGITS[digit] + numeral
            if rest == 0:
                break
        found.setdefault(slot_of(numeral), numeral)
        n += 1
    return tuple(found[slot] for slot in range(REDIS_CLUSTER_HASH_SLOTS))


def slot_tag(slot: int) -> str:
    """A short tag whose keys live in `slot`."""
    return _slot_tags()[slot]


def _under(kind: str, account_id: str) -> str:
    # An account that is its own home keeps the seed's name; a seat account's keys are named
    # under its table.
    tag = home(account_id)
    if tag == account_id:
        return f"balance:{kind}:{{{tag}}}"
    return f"balance:{kind}:{{{tag}}}:{account_id}"


def account(account_id: str) -> str:
    """Hash: balance, reserved, version, created_at_ms, updated_at_ms."""
    return _under("accounts", account_id)


def account_transactions(account_id: str) -> str:
    """List: the account's transaction ids, oldest first."""
    return _under("transactions:by-account", account_id)


def account_reservations(account_id: str) -> str:
    """Set: the account's PENDING reservation ids."""
    return _under("reservations:by-account", account_id)


def ledger(account_id: str) -> str:
    """List: the account's ledger entries, seq 1 first."""
    return _under("ledger", account_id)


def ledger_head(account_id: str) -> str:
    """String: the checksum of the account's newest ledger entry."""
    return _under("ledger:latest-checksum", account_id)


def ledger_checkpoint(account_id: str) -> str:
    """String: how far verification has checked the account's chain (see ChainState)."""
    return _under("ledger:checkpoint", account_id)


def transaction(tag: str, transaction_id: str) -> str:
    """String: the transaction as JSON, in the slot of home `tag` (its account's).

    Named by the slot's tag, not the home's: one script may write transactions of several
    homes of its slot (an expiry sweep, a commit between two accounts that share a slot).
    """
    return f"balance:transactions:{{{slot_tag(slot_of(tag))}}}:{transaction_id}"


def reservation(holder: str, reservation_id: str) -> str:
    """String: the reservation as JSON, beside its holder's account."""
    return f"balance:reservations:{{{home(holder)}}}:{reservation_id}"


def reservation_holder(reservation_id: str) -> str:
    """String: the account holding the reservation (where to find it), written before it."""
    return f"balance:reservations:holder:{{{reservation_id}}}"


def expiry_member(holder: str, reservation_id: str) -> str:
    """A reservation's member in its slot's expiry index: holder and id."""
    return f"{holder}/{reservation_id}"


def idempotency(tag: str, key: str) -> str:
    """String: request fingerprint, newline, the answer as JSON; expires after 24 h.

    A key is remembered in the home the operation runs in (the account, the holder, the
    table): the same key sent for another account is another request.
    """
    return f"balance:idempotency:{{{tag}}}:{key}"


def pot(table_id: str, hand_id: str) -> str:
    """String: the pot of one hand as JSON, in its table's home."""
    return f"balance:pots:{{{table_id}}}:{{{hand_id}}}"


def _per_slot(kind: str, tag: str) -> str:
    return f"balance:{kind}:{{{slot_tag(slot_of(tag))}}}"


def account_ids(tag: str) -> str:
    """Set: the ids of the accounts of the slot of home `tag`."""
    return _per_slot("accounts:ids", tag)


def reservation_expiry(tag: str) -> str:
    """Sorted set: `expiry_member`s of the slot's PENDING reservations by expiry time."""
    return _per_slot("reservations:expiry", tag)


def active_pots(tag: str) -> str:
    """Set: `table:hand` of the slot's open pots."""
    return _per_slot("pots:active", tag)


def economy(tag: str) -> str:
    """Hash: the slot's share of the chip supply and of the volume moved."""
    return _per_slot("economy", tag)


def outbox(tag: str) -> str:
    """Hash: credits owed by the slot's scripts to accounts or pots of other slots, by id."""
    return _per_slot("outbox", tag)


def slot_keys(slot: int) -> tuple[str, str, str, str, str]:
    """The per-slot indexes of `slot`: account ids, expiry, open pots, economy, outbox."""
    tag = slot_tag(slot)
    return (
        account_ids(tag),
        reservation_expiry(tag),
        active_pots(tag),
        economy(tag),
        outbox(tag),
    )
