"""A real `saga worker` child process against the session's servers, for the kill tests.

The tests arm a fault point in its environment (infra/faults.py) so that it SIGKILLs itself
between a step's effect and Temporal hearing of it; a second one, unarmed, finishes the work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.ports import free_port
from tests.conftest import SessionStack


@contextmanager
def saga_worker_process(
    stack: SessionStack, home: Path, queues: list[str], **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`saga worker QUEUES...` with the session's addresses, plus `env`; stopped on exit."""
    full = {
        **os.environ,
        "TEMPORAL_ADDRESS": stack.temporal_address,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
        "SAGA_HOME": str(home),
        "WORKER_METRICS_PORT": str(free_port()),
        **env,
    }
    with (home / f"worker-{uuid.uuid4().hex[:6]}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "saga", "worker", *queues], env=full, stdout=log, stderr=log
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
