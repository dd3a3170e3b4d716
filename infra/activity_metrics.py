"""A Temporal interceptor that counts activity retries and tags activity logs with the workflow."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from temporalio import activity, client, worker

from infra.logs import correlation_id

ACTIVITY_RETRIES = Counter(
    "saga_activity_retries_total",
    "Activity attempts after the first (Temporal retried a transient failure), by activity type",
    ["activity_type"],
)


class ActivityMetricsInterceptor(client.Interceptor, worker.Interceptor):
    """On a client, applies to every worker built from it (`connect_temporal` adds it)."""

    def intercept_activity(
        self, next: worker.ActivityInboundInterceptor
    ) -> worker.ActivityInboundInterceptor:
        """Wrap each activity execution."""
        return _CountingActivityInbound(next)


class _CountingActivityInbound(worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: worker.ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.attempt > 1:
            ACTIVITY_RETRIES.labels(info.activity_type).inc()
        # The workflow id (order-{id}) ties an activity's log lines to its order.
        token = correlation_id.set(info.workflow_id or info.activity_id)
        try:
            return await super().execute_activity(input)
        finally:
            correlation_id.reset(token)
