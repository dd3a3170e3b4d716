"""Settings of the `saga gateway` process."""

from __future__ import annotations

import os
import socket
import uuid

from pydantic import Field

from infra.settings import PlatformSettings


def _instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class GatewaySettings(PlatformSettings):
    """Where the gateway's upstreams answer and the limits it enforces."""

    # Upstreams that may be elsewhere; unset means "not configured" (`saga up` sets GAME_URL
    # to the game service it starts).
    player_url: str | None = None
    event_url: str | None = None

    gateway_instance_id: str = Field(default_factory=_instance_id)
    upstream_timeout_seconds: float = 10.0
    redis_max_connections: int = 64
    max_request_bytes: int = 1_048_576

    ws_auth_timeout_seconds: float = 5.0
    ws_heartbeat_timeout_seconds: float = 60.0
    ws_ping_interval_seconds: float = 20.0
    ws_send_queue_size: int = 256
    ws_max_frame_bytes: int = 16_384
    ws_close_timeout_seconds: float = 2.0
    ws_max_subscriptions: int = 100
    registry_ttl_seconds: int = 30

    rate_limit_window_seconds: float = 60.0
    rate_limit_per_user: int = 300
    rate_limit_per_ip: int = 600
    ws_rate_limit_window_seconds: float = 1.0
    ws_rate_limit_per_connection: int = 20

    chat_max_length: int = 500
    chat_retention_seconds: int = 86_400
    chat_history_limit: int = 50
    chat_mute_check: bool = True

    table_stream_max_length: int = 1_000

    def upstreams(self) -> dict[str, str]:
        """Proxy name -> base URL, for every upstream that is configured."""
        found = {
            "edge": self.service_url("edge"),
            # The balance HTTP front serves everything under /api (DESIGN.md section 5).
            "balance": self.service_url("balance") + "/api",
        }
        for name in ("game", "player", "event"):
            url: str | None = getattr(self, f"{name}_url")
            if url:
                found[name] = url.rstrip("/")
        return found

    def health_urls(self) -> dict[str, str]:
        """Upstream name -> health URL probed by GET /ready."""
        urls = {
            "edge": self.service_url("edge") + "/health",
            "balance": self.service_url("balance") + "/api/health",
        }
        for name in ("game", "player", "event"):
            url: str | None = getattr(self, f"{name}_url")
            if url:
                urls[name] = url.rstrip("/") + "/health"
        return urls
