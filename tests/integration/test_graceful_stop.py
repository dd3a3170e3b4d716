"""A front told to stop lets requests in flight finish, cuts the late ones quietly, says so once."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from apis.fronts import http_front
from infra.logs import configure_logging
from infra.ports import free_port
from infra.serving import HostedServer, uvicorn_config
from tests.eventually import assert_eventually

Lines = Callable[[], list[dict[str, object]]]


@pytest.fixture
def json_lines() -> Iterator[tuple[Lines, io.StringIO]]:
    """The process's logging as a front has it, into a buffer; restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("stop-test", "INFO", stream)
    try:
        yield (lambda: [json.loads(line) for line in stream.getvalue().splitlines()]), stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _slow_front() -> FastAPI:
    app = http_front("stop-test", metrics=False)

    @app.get("/slow/{seconds}")
    async def slow(seconds: float) -> dict[str, str]:
        await asyncio.sleep(seconds)
        return {"status": "done"}

    return app


@asynccontextmanager
async def _serving(grace: float) -> AsyncIterator[tuple[HostedServer, str]]:
    port = free_port()
    config = uvicorn_config(_slow_front(), "127.0.0.1", port, timeout_graceful_shutdown=grace)
    server = HostedServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the front did not start"
        await asyncio.sleep(0.02)
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _in_flight(server: HostedServer) -> None:
    async def started() -> None:
        assert server.server_state.tasks

    await assert_eventually(started, interval=0.01)


def _stopped(lines: list[dict[str, object]]) -> dict[str, object]:
    [line] = [line for line in lines if str(line["message"]).startswith("stopped:")]
    return line


async def test_a_request_in_flight_finishes_before_the_front_stops(
    json_lines: tuple[Lines, io.StringIO],
) -> None:
    lines, _ = json_lines
    async with _serving(grace=4) as (server, url), httpx.AsyncClient(base_url=url) as http:
        request = asyncio.create_task(http.get("/slow/0.5"))
        await _in_flight(server)
        server.should_exit = True
        answer = await request
    assert (answer.status_code, answer.json()) == (200, {"status": "done"})
    stopped = _stopped(lines())
    assert (stopped["in_flight"], stopped["cut_short"]) == (1, 0)


async def test_a_request_past_the_grace_is_cut_and_logged_without_a_traceback(
    json_lines: tuple[Lines, io.StringIO],
) -> None:
    lines, stream = json_lines
    async with _serving(grace=0.3) as (server, url), httpx.AsyncClient(base_url=url) as http:
        request = asyncio.create_task(http.get("/slow/30"))
        await _in_flight(server)
        server.should_exit = True
        answer = await request
    assert answer.status_code == 500  # uvicorn's answer to a request it had to cancel
    assert "Traceback" not in stream.getvalue()
    assert "CancelledError" not in stream.getvalue()
    stopped = _stopped(lines())
    assert (stopped["in_flight"], stopped["cut_short"]) == (1, 1)
    [logged] = [line for line in lines() if line.get("route") == "/slow/{seconds}"]
    assert logged["status"] == 500
