"""Settings of the mock PSP, read once by the process that hosts it."""

from __future__ import annotations

from pydantic import Field

from infra.settings import PlatformSettings


class PaymentsSettings(PlatformSettings):
    """The platform settings plus the mock PSP's latency and random failure rate."""

    mock_latency_ms: int = Field(default=0, ge=0)
    mock_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)
