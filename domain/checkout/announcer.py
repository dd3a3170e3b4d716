"""Publishes ledger status changes to the customer's gateway channel."""

from __future__ import annotations

import json
import logging

from domain.checkout.models import StatusChange
from infra.redis import RedisClient, publish

log = logging.getLogger(__name__)


async def announce(redis: RedisClient, change: StatusChange) -> None:
    """Publish the change on `user:{customer_id}`; best effort, the ledger holds the truth."""
    try:
        await publish(redis, change.channel, json.dumps(change.payload()))
    except Exception:
        log.warning("could not publish %s", change, exc_info=True)
