"""How long-running services drive asyncio: on uvloop, the libuv loop uvicorn also picks."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run_service(main: Coroutine[Any, Any, T]) -> T:
    """Run a service's main coroutine to completion on a fresh uvloop event loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def freeze_startup_heap() -> None:
    """Exempt everything built at start-up from the cyclic garbage collector's full passes.

    A full (oldest generation) pass walks every live object: modules, protobuf descriptors,
    FastAPI and gRPC machinery. Under load it runs every few seconds and stops the event loop
    for tens of milliseconds, which every request in flight then waits for. Frozen objects are
    never collected, so call this once, after start-up and before serving.
    """
    gc.collect()
    gc.freeze()
