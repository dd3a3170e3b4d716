"""The one way a process connects to Temporal: tracing, activity metrics and SDK metrics."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from temporalio.client import Client, Interceptor
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from infra.activity_metrics import ActivityMetricsInterceptor
from infra.ports import SELF_PICKED_PORTS, free_port
from infra.settings import PlatformSettings
from infra.telemetry import temporal_interceptors

# The SDK core's own messages, which it would print to stderr in its own format, become
# records of this logger and so JSON lines like every other (infra/logs.py).
_CORE_LOGS = LoggingConfig(
    filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
    forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
)


@functools.cache
def _forwarding_runtime() -> Runtime:
    # One per process, like the SDK's default runtime: each one runs its own threads.
    return Runtime(telemetry=TelemetryConfig(logging=_CORE_LOGS))


@dataclass(frozen=True)
class TemporalConnection:
    """A client plus where its SDK metrics (Prometheus text) can be read, if exported."""

    client: Client
    sdk_metrics_url: str | None


async def connect_temporal(
    settings: PlatformSettings, *, export_sdk_metrics: bool = False, lazy: bool = False
) -> TemporalConnection:
    """Connect to the configured frontend, with OpenTelemetry spans and the SDK's logs as ours.

    Workers built from the client count activity retries. With `export_sdk_metrics`, the
    SDK's own metrics (workflow task latency, activity schedule-to-start, poller counts, ...)
    are served on a loopback port so the process's /metrics can append them to its own.
    `lazy` connects on first use, so a process can start while Temporal is down.
    """
    interceptors: list[Interceptor] = [*temporal_interceptors(), ActivityMetricsInterceptor()]
    runtime = _forwarding_runtime()
    metrics_url: str | None = None
    if export_sdk_metrics:
        address = f"127.0.0.1:{free_port(between=SELF_PICKED_PORTS)}"
        runtime = Runtime(
            telemetry=TelemetryConfig(
                logging=_CORE_LOGS, metrics=PrometheusConfig(bind_address=address)
            )
        )
        metrics_url = f"http://{address}/metrics"
    client = await Client.connect(
        settings.resolved_temporal_address,
        namespace=settings.temporal_namespace,
        interceptors=interceptors,
        runtime=runtime,
        lazy=lazy,
    )
    return TemporalConnection(client, metrics_url)
