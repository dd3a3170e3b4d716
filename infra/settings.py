"""Settings shared by every process: where the stack lives and how to reach it.

Each process reads one settings class once at start-up and passes it down. A service's own
settings class extends `PlatformSettings`, so every process agrees on the same addresses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "saga-dev-secret-change-me-in-production"
# HS256 keys shorter than the hash are weak; production refuses them.
MIN_JWT_SECRET_LENGTH = 32
# Defaults of images, compose files and tutorials: as good as no password.
WELL_KNOWN_PASSWORDS = frozenset(
    {"", "postgres", "saga", "temporal", "password", "secret", "changeme", "admin", "root"}
)


class PlatformSettings(BaseSettings):
    """Addresses of Temporal, PostgreSQL and Redis; unset means the embedded stack."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    saga_env: Literal["development", "production"] = "development"
    saga_home: Path = Field(default=Path(".saga"))

    temporal_address: str | None = None
    temporal_namespace: str = "default"
    database_url: str | None = None
    redis_url: str | None = None
    # REDIS_URL names one node of a Redis/Valkey Cluster; the client finds the others.
    redis_cluster: bool = False

    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    postgres_port: int = 54320
    redis_port: int = 63790
    bind_host: str = "127.0.0.1"

    edge_port: int = 8000
    orders_port: int = 8001
    inventory_port: int = 8002
    payments_port: int = 8003
    balance_http_port: int = 3002
    balance_grpc_port: int = 50051
    gateway_port: int = 4000
    worker_metrics_port: int = 9464
    relay_port: int = 8004
    game_port: int = 3001
    event_port: int = 3003

    # Where other services answer; unset means this machine at the port above.
    edge_url: str | None = None
    orders_url: str | None = None
    inventory_url: str | None = None
    payments_url: str | None = None
    balance_url: str | None = None
    balance_grpc_address: str | None = None
    game_url: str | None = None
    # Player profiles are served by the game service (DESIGN 5); `saga up` sets both.
    player_url: str | None = None
    event_url: str | None = None

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    log_level: str = "INFO"
    # Where traces go: nowhere (default), the console, or OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT).
    trace_exporter: Literal["none", "console", "otlp"] = "none"
    # Base URL of the OTLP/HTTP receiver (a collector, Jaeger); unset: http://localhost:4318.
    otel_exporter_otlp_endpoint: str | None = None

    @property
    def resolved_temporal_address(self) -> str:
        """The Temporal frontend, external if configured, else the embedded dev server."""
        return self.temporal_address or f"{self.bind_host}:{self.temporal_port}"

    @property
    def resolved_database_url(self) -> str:
        """The PostgreSQL DSN, external if configured, else the embedded server."""
        return (
            self.database_url or f"postgresql://postgres@{self.bind_host}:{self.postgres_port}/saga"
        )

    @property
    def resolved_redis_url(self) -> str:
        """The Redis URL, external if configured, else the embedded Valkey."""
        return self.redis_url or f"redis://{self.bind_host}:{self.redis_port}/0"

    def service_url(self, service: str) -> str:
        """Base URL of one of our HTTP services: edge, orders, inventory, payments, game..."""
        configured: str | None = getattr(self, f"{service}_url")
        if configured:
            return configured.rstrip("/")
        port_field = "balance_http_port" if service == "balance" else f"{service}_port"
        return f"http://{self.bind_host}:{getattr(self, port_field)}"

    @property
    def resolved_balance_grpc_address(self) -> str:
        """host:port of the balance gRPC server."""
        return self.balance_grpc_address or f"{self.bind_host}:{self.balance_grpc_port}"

    def refuse_default_secrets(self) -> None:
        """In production mode, raise unless every secret was set to something of its own."""
        if self.saga_env != "production":
            return
        secret = self.jwt_secret.get_secret_value()
        if secret == DEV_JWT_SECRET:
            raise SettingsError("JWT_SECRET must be set to a real secret when SAGA_ENV=production")
        if len(secret) < MIN_JWT_SECRET_LENGTH:
            raise SettingsError(
                f"JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters "
                "when SAGA_ENV=production"
            )
        if self.database_url is None:
            # The embedded PostgreSQL trusts every local connection: no password at all.
            raise SettingsError("DATABASE_URL must be set when SAGA_ENV=production")
        try:
            password = urlsplit(self.database_url).password
        except ValueError:
            raise SettingsError("DATABASE_URL is not a valid URL") from None
        if password is not None and password.lower() in WELL_KNOWN_PASSWORDS:
            raise SettingsError(
                "DATABASE_URL uses a well-known default password; set a real one "
                "when SAGA_ENV=production"
            )


class SettingsError(Exception):
    """Configuration that cannot be used; the message is shown to the user as one line."""
