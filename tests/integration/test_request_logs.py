"""With no exporter configured, each request and gRPC call still logs one line with its trace."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from apis.auth import Caller
from apis.balance.rpc.server import start_grpc_server
from apis.fronts import http_front
from clients.balance import BalanceClient
from infra.logs import json_log_handler
from infra.settings import DEV_JWT_SECRET, PlatformSettings
from infra.telemetry import configure_tracing, shutdown_tracing
from infra.tokens import issue_token
from protos.balance.v1 import balance_pb2 as pb
from tests.balance_support import SECRET, make_book, service_token

Lines = Callable[[], list[dict[str, object]]]
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def ids_only() -> Iterator[None]:
    """Tracing as a process has it by default: TRACE_EXPORTER=none."""
    configure_tracing("logs-test", PlatformSettings().trace_exporter)
    try:
        yield
    finally:
        shutdown_tracing()


def _capture(logger_name: str) -> Iterator[Lines]:
    stream = io.StringIO()
    handler = json_log_handler("logs-test", stream)
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def request_lines() -> Iterator[Lines]:
    """The JSON lines the HTTP request middleware writes."""
    yield from _capture("infra.http_telemetry")


@pytest.fixture
def call_lines() -> Iterator[Lines]:
    """The JSON lines the balance gRPC servicer writes."""
    yield from _capture("apis.balance.rpc.servicer")


def _front() -> FastAPI:
    app = http_front("logs-test", jwt_secret=PlatformSettings().jwt_secret)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str, caller: Caller) -> dict[str, str]:
        return {"thing_id": thing_id, "caller": caller.subject}

    return app


async def _get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    # The ASGI transport is not one the httpx instrumentation wraps: no traceparent unless sent.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://front"
    ) as client:
        answer = await client.get(path, headers=headers)
    assert ("traceparent" in answer.request.headers) == ("traceparent" in headers)
    return answer


async def test_a_request_without_traceparent_logs_a_line_with_new_ids(
    ids_only: None, request_lines: Lines
) -> None:
    token = issue_token(DEV_JWT_SECRET, "ada")
    answer = await _get(_front(), "/things/7", authorization=f"Bearer {token}")
    assert answer.status_code == 200, answer.text
    [line] = request_lines()
    assert line["message"] == "GET /things/{thing_id} 200"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/things/{thing_id}", 200)
    assert isinstance(line["duration_ms"], float)
    assert line["subject"] == "ada"
    assert len(str(line["trace_id"])) == 32
    assert len(str(line["span_id"])) == 16
    assert answer.headers["x-trace-id"] == line["trace_id"]
    assert answer.headers["x-request-id"] == line["correlation_id"]


async def test_an_incoming_traceparent_names_the_trace(
    ids_only: None, request_lines: Lines
) -> None:
    traceparent = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
    answer = await _get(_front(), "/things/7", traceparent=traceparent)
    assert answer.status_code == 401
    [line] = request_lines()
    assert (line["status"], line["subject"]) == (401, None)
    assert line["trace_id"] == CALLER_TRACE
    assert line["span_id"] != "00f067aa0ba902b7"  # the front's own span, in the caller's trace


async def test_probes_are_not_logged_at_info(ids_only: None, request_lines: Lines) -> None:
    assert (await _get(_front(), "/metrics")).status_code == 200
    assert request_lines() == []


async def test_each_grpc_call_logs_one_line_with_its_trace(
    redis: aioredis.Redis, ids_only: None, call_lines: Lines
) -> None:
    server, _, port = await start_grpc_server(make_book(redis), SECRET, "127.0.0.1:0")
    try:
        async with BalanceClient(f"127.0.0.1:{port}", service_token()) as balance:
            await balance.call(balance.stub.EnsureAccount, pb.EnsureAccountRequest(account_id="l"))
    finally:
        await server.stop(grace=None)
    [line] = call_lines()
    assert line["message"] == "BalanceService/EnsureAccount OK"
    assert (line["method"], line["code"], line["subject"]) == ("EnsureAccount", "OK", "poker")
    assert len(str(line["trace_id"])) == 32
    assert len(str(line["span_id"])) == 16
