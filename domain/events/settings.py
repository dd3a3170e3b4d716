"""Settings of the event service: its consumer group on the Redis streams."""

from __future__ import annotations

import socket

from pydantic import Field

from infra.settings import PlatformSettings


class EventSettings(PlatformSettings):
    """How the event front's consumer reads `events:sessions` and `events:hands`."""

    event_consumer_group: str = "events"
    # Stable across restarts on one machine, so a restarted consumer takes back its own
    # pending entries at once; another name's entries are claimed once idle (below).
    event_consumer_name: str = Field(default_factory=socket.gethostname, min_length=1)
    event_batch_size: int = Field(default=100, ge=1, le=1_000)
    event_block_ms: int = Field(default=1_000, ge=10, le=60_000)
    # A pending entry idle this long belongs to a consumer presumed dead; another claims it.
    event_claim_idle_seconds: float = Field(default=30.0, ge=0)
