"""The floors' worker in its own process, as the saga's worker is: `python -m bench.floor_worker`.

Hosts both floor workflows on `{prefix}-saga` and the no-op activity on `{prefix}-orders`,
`-inventory` and `-payments`, against the Temporal server at `address`, until SIGTERM.

    python -m bench.floor_worker 127.0.0.1:7233 bench-abc123
"""

from __future__ import annotations

import asyncio
import signal
import sys

from temporalio.client import Client
from temporalio.worker import Worker

from bench.noop_saga import NoopSagaWorkflow, PlainFloorWorkflow, noop


async def serve(address: str, prefix: str) -> None:
    """Run the four workers until SIGTERM or SIGINT."""
    client = await Client.connect(address)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    workers = [
        Worker(
            client, task_queue=f"{prefix}-saga", workflows=[NoopSagaWorkflow, PlainFloorWorkflow]
        ),
        *(
            Worker(client, task_queue=f"{prefix}-{q}", activities=[noop])
            for q in ("orders", "inventory", "payments")
        ),
    ]
    async with workers[0], workers[1], workers[2], workers[3]:
        print("floor worker ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
