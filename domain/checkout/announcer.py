"""Publishes ledger status changes to the customer's gateway channel."""

from __future__ import annotations

import json
import logging

import redis.asyncio as aioredis

from domain.checkout.models import StatusChange

log = logging.getLogger(__name__)


async def announce(redis: aioredis.Redis, change: StatusChange) -> None:
    """PUBLISH the change on `user:{customer_id}`; best effort, the ledger holds the truth."""
    try:
        await redis.publish(change.channel, json.dumps(change.payload()))
    except Exception:
        log.warning("could not publish %s", change, exc_info=True)
