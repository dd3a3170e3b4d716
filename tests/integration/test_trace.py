"""One order is one trace: edge HTTP, PostgreSQL, the outbox relay, the workflow, its activities."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from apis.balance.rpc.server import start_grpc_server
from apis.checkout import edge
from apis.checkout.relay import OutboxRelay
from clients.balance import BalanceCallError, BalanceClient
from domain.checkout.models import workflow_id_for
from domain.payments.psp import MockPsp
from infra.ports import free_port
from infra.serving import hosted_server
from infra.telemetry import configure_tracing, shutdown_tracing, tracer, untraced
from infra.temporal_client import connect_temporal
from infra.tokens import TokenKind, issue_token
from protos.balance.v1 import balance_pb2 as pb
from tests.balance_support import SECRET, make_book, service_token
from tests.checkout_support import saga_worker, seed_catalog
from tests.conftest import SessionStack
from tests.integration.checkout_fronts import payments_front, serving
from tests.integration.gateway_support import (
    GameStandIn,
    game_app,
    gateway_settings,
    running_app,
    running_gateway,
    user_token,
)
from workflows.checkout.models import SagaOptions, SagaResult
from workflows.checkout.starter import OrderSagaStarter

STEPS = ("create_order", "reserve_inventory", "capture_payment", "confirm_order")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test only, every span kept in memory."""
    exporter = InMemorySpanExporter()
    configure_tracing("trace-test", "none", span_exporter=exporter)
    try:
        yield exporter
    finally:
        shutdown_tracing()


@asynccontextmanager
async def payments_server(stack: SessionStack) -> AsyncIterator[str]:
    """The payments front on a real port, so the edge's call crosses HTTP as in production."""
    port = free_port()
    server = hosted_server(payments_front(stack), "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(300):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, "the payments front did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _by_id(finished: tuple[ReadableSpan, ...]) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in finished if span.context is not None}


def _ancestors(span: ReadableSpan, index: dict[int, ReadableSpan]) -> list[str]:
    names: list[str] = []
    parent = span.parent
    while parent is not None and parent.span_id in index:
        names.append(index[parent.span_id].name)
        parent = index[parent.span_id].parent
    return names


async def test_one_order_is_one_trace_from_the_edge_to_redis(
    stack: SessionStack,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    task_queue: str,
    spans: InMemorySpanExporter,  # last: the fixtures' own set-up stays out of the trace
) -> None:
    with untraced():
        await seed_catalog(db)
    async with payments_server(stack) as payments_url:
        settings = stack.settings(payments_url=payments_url)
        connection = await connect_temporal(settings)
        options = SagaOptions(
            orders_task_queue=task_queue,
            inventory_task_queue=task_queue,
            payments_task_queue=task_queue,
        )
        relay = OutboxRelay(db, OrderSagaStarter(connection.client, task_queue, options))
        token = issue_token(
            settings.jwt_secret.get_secret_value(), "trace-test", kind=TokenKind.SERVICE
        )
        async with (
            serving(edge.create_app(settings), "http://edge") as client,
            saga_worker(connection.client, task_queue, db, redis, MockPsp(db)),
        ):
            answer = await client.post(
                "/orders",
                json={
                    "customer_id": "cust-trace",
                    "items": [{"product_id": "widget", "quantity": 1}],
                    "payment_method": "pm_card_visa",
                },
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
            )
            assert answer.status_code == 202, answer.text
            ledger_id = answer.json()["order_ledger_id"]
            assert await relay.drain() == 1
            handle = connection.client.get_workflow_handle(
                workflow_id_for(uuid.UUID(ledger_id)), result_type=SagaResult
            )
            result = await asyncio.wait_for(handle.result(), timeout=30)
            assert result.status == "CONFIRMED"

    finished = spans.get_finished_spans()
    trace_ids = {span.context.trace_id for span in finished if span.context is not None}
    assert len(trace_ids) == 1, sorted((s.name, f"{s.context.trace_id:032x}") for s in finished)
    # The edge's answer names the trace (to look it up) and the request's correlation id.
    assert answer.headers["x-trace-id"] == f"{trace_ids.pop():032x}"
    assert answer.headers["x-request-id"]
    names = [span.name for span in finished]
    index = _by_id(finished)

    def under(ancestor: str, *, system: str | None = None, name: str | None = None) -> bool:
        """A span (of that db.system, or that name) has `ancestor` above it in the tree."""
        return any(
            ancestor in _ancestors(span, index)
            for span in finished
            if (system is None or _attribute(span, "db.system") == system)
            and (name is None or span.name == name)
        )

    # The edge's request, its SQL (ledger + outbox), and the payments front it called over HTTP.
    assert "POST /orders" in names, names
    assert under("POST /orders", system="postgresql")
    assert under("POST /orders", name="POST /payments/authorize"), "no HTTP hop to payments"
    # The relay started the workflow inside the edge request's trace.
    assert under("POST /orders", name="outbox publish")
    assert under("outbox publish", name="StartWorkflow:OrderSagaWorkflow")
    assert under("StartWorkflow:OrderSagaWorkflow", name="RunWorkflow:OrderSagaWorkflow")
    for step in STEPS:
        # The SDK parents workflow-side spans on the workflow's caller, not on RunWorkflow.
        assert under("StartWorkflow:OrderSagaWorkflow", name=f"StartActivity:{step}"), step
        assert under(f"StartActivity:{step}", name=f"RunActivity:{step}"), step
    # Inside the activities: their SQL, and the status changes published to Redis.
    assert under("RunActivity:capture_payment", system="postgresql")
    assert under("RunActivity:confirm_order", system="redis", name="PUBLISH")


def _attribute(span: ReadableSpan, key: str) -> object:
    return (span.attributes or {}).get(key)


async def test_the_gateway_proxy_carries_the_callers_trace_upstream(
    stack: SessionStack, redis: aioredis.Redis, spans: InMemorySpanExporter
) -> None:
    async with running_app(game_app(GameStandIn())) as upstream:
        settings = gateway_settings(stack.redis_url, game_url=upstream.url)
        async with (
            running_gateway(settings) as gateway,
            # The test's own client is instrumented too: its span is the caller's.
            httpx.AsyncClient(base_url=gateway.url, timeout=10) as http,
        ):
            response = await http.get(
                "/api/game/echo/tables", headers={"authorization": f"Bearer {user_token('uma')}"}
            )
    assert response.status_code == 200, response.text
    finished = spans.get_finished_spans()
    index = _by_id(finished)
    caller = next(s for s in finished if s.parent is None and s.name == "GET")
    assert caller.context is not None
    assert response.headers["x-trace-id"] == f"{caller.context.trace_id:032x}"
    # What the upstream received: the gateway's httpx span, under the gateway's server span,
    # under the caller's span.
    _, trace_id, parent_id, _ = response.json()["headers"]["traceparent"].split("-")
    assert int(trace_id, 16) == caller.context.trace_id
    sent_by = index[int(parent_id, 16)]
    assert (sent_by.name, _attribute(sent_by, "http.method")) == ("GET", "GET")
    assert sent_by.parent is not None
    server = index[sent_by.parent.span_id]
    assert server.name == "GET /api/{service}/{path:path}"
    assert server.parent is not None
    assert server.parent.span_id == caller.context.span_id


async def test_a_grpc_call_continues_its_trace_on_the_balance_server(
    redis: aioredis.Redis, spans: InMemorySpanExporter
) -> None:
    server, _, port = await start_grpc_server(make_book(redis), SECRET, "127.0.0.1:0")
    try:
        async with BalanceClient(f"127.0.0.1:{port}", service_token()) as balance:
            with tracer("test").start_as_current_span("player sits down") as caller:
                await balance.call(
                    balance.stub.EnsureAccount, pb.EnsureAccountRequest(account_id="trace")
                )
            # A refused call is still traced, and keeps its status code and error-code.
            with pytest.raises(BalanceCallError) as refused:
                await balance.credit(pb.CreditRequest(account_id="trace", amount=0))
    finally:
        await server.stop(grace=None)
    assert refused.value.code == "VALIDATION_FAILED"
    credited = [s for s in spans.get_finished_spans() if s.name.endswith("BalanceService/Credit")]
    # Per the conventions, a caller's mistake is an error on the client span only.
    assert {(s.kind, s.status.status_code) for s in credited} == {
        (SpanKind.CLIENT, StatusCode.ERROR),
        (SpanKind.SERVER, StatusCode.UNSET),
    }
    index = _by_id(spans.get_finished_spans())
    ensured = [s for s in index.values() if s.name.endswith("BalanceService/EnsureAccount")]
    assert {s.kind for s in ensured} == {SpanKind.CLIENT, SpanKind.SERVER}
    client = next(s for s in ensured if s.kind is SpanKind.CLIENT)
    server_span = next(s for s in ensured if s.kind is SpanKind.SERVER)
    assert client.parent is not None
    assert client.parent.span_id == caller.get_span_context().span_id
    assert server_span.parent is not None
    assert client.context is not None
    assert server_span.parent.span_id == client.context.span_id  # across the wire
    assert server_span.context is not None
    redis_calls = [s for s in index.values() if _attribute(s, "db.system") == "redis"]
    assert any(server_span.name in _ancestors(s, index) for s in redis_calls)
