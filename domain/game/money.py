"""Where a table's chips live in the balance service, and the keys that make each move once.

A seated player's stack is the balance of their seat account `seat-{table_id}-{user_id}`: a
buy-in reserves in the wallet and commits into it (the wallet's script, then a keyed delivery
into the seat's slot: the supply never changes), bets go from it into the hand's pot (one
script: a seat account lives in its table's slot, beside the pot), settlement pays back into
it (rake to the house), and leaving moves it back to the wallet. Every key is derived from the
table, the sitting (a counter per seat taken), the hand and the action's sequence number, so a
retried or replayed step moves nothing twice.
"""

from __future__ import annotations

import re
from enum import StrEnum

# Balance ids are [A-Za-z0-9_-]{1,64}; a seat account must fit a table id and a user id.
TABLE_ID = re.compile(r"^t[0-9a-f]{10}$")
USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
HOUSE_ACCOUNT = "house"


class BalanceMode(StrEnum):
    """The seed's rollout flag: how far the game trusts the balance service."""

    # Chips are the game's own numbers; the balance service is never called.
    OFF = "off"
    # Every move goes to the balance service; a failure is logged and queued for the
    # reconciliation workflow, and the game goes on (the permissive decision).
    DUAL = "dual"
    # Every move must succeed in the balance service, or the game refuses it.
    REQUIRED = "required"


def seat_account(table_id: str, user_id: str) -> str:
    """The balance account holding `user_id`'s stack at `table_id`."""
    return f"seat-{table_id}-{user_id}"


def hand_id_for(table_id: str, hand_number: int) -> str:
    """Hand ids are unique per table and usable as balance pot ids."""
    return f"{table_id}-h{hand_number}"


def buy_in_key(table_id: str, user_id: str, sitting: int) -> str:
    """The reservation (and its idempotency) of one sitting's buy-in."""
    return f"buyin-{table_id}-{user_id}-{sitting}"


def cash_out_key(table_id: str, user_id: str, sitting: int) -> str:
    """The move of one sitting's stack back to the wallet."""
    return f"cashout-{table_id}-{user_id}-{sitting}"


def bet_key(hand_id: str, user_id: str, seq: int) -> str:
    """One contribution to a hand's pot: the hand's `seq`-th chip movement."""
    return f"bet-{hand_id}-{user_id}-{seq}"


def settle_key(hand_id: str) -> str:
    """The settlement of a hand's pot."""
    return f"settle-{hand_id}"
