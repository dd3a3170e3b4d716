"""The deliveries of credits owed between slots, and the call for a holder not found.

A script that moves chips to an account or pot of another slot leaves an owed credit in its
slot's outbox (lua/lib.lua's `owe`); `delivery_request` is the call that applies it in the
destination's slot, keyed by the credit's id, so it applies once however often it is sent.
"""

from __future__ import annotations

import json
from typing import Any

from domain.balance import keys, script_keys
from domain.balance.requests import ScriptRequest
from domain.balance.slots import delivery_key


def holder_unknown(reservation_id: str) -> ScriptRequest:
    """For a reservation whose holder is not found: NOT_FOUND, or read again if it appeared."""
    return ScriptRequest(
        "find_holder",
        [reservation_id],
        reservation_id,
        keys=[keys.reservation_holder(reservation_id)],
    )


def delivery_request(credit: dict[str, Any]) -> ScriptRequest:
    """The delivery of one owed credit, in its destination's home, keyed by the credit's id."""
    credit_id = str(credit["id"])
    args = [json.dumps(credit, sort_keys=True)]
    if credit["kind"] == "contribution":
        table_id, hand_id = str(credit["table_id"]), str(credit["hand_id"])
        return ScriptRequest(
            "deliver_contribution",
            args,
            table_id,
            delivery_key(credit_id),
            keys=script_keys.for_pot_delivery(table_id, hand_id),
        )
    to = str(credit["to"])
    return ScriptRequest(
        "deliver_credit",
        args,
        keys.home(to),
        delivery_key(credit_id),
        keys=script_keys.for_delivery(to),
        accounts=[to],
        transactions=1,
    )
