"""Fault points a test can arm: SIGKILL this process at a named place, once.

`SAGA_FAULT_POINT=after_effect:capture_payment` kills the process right after that step's
effect is done and before Temporal hears the activity completed: the dangerous moment for
exactly-once. `SAGA_FAULT_ONCE_FILE` names a file created when the point fires, so the
restarted process runs through. Unset (always, outside tests), a fault point does nothing.
"""

from __future__ import annotations

import os
import signal

FAULT_POINT = "SAGA_FAULT_POINT"
FAULT_ONCE_FILE = "SAGA_FAULT_ONCE_FILE"


def fault_point(name: str) -> None:
    """Die here, by SIGKILL, if the environment armed this point (and it has not fired)."""
    if os.environ.get(FAULT_POINT) != name:
        return
    marker = os.environ.get(FAULT_ONCE_FILE)
    if marker:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    os.kill(os.getpid(), signal.SIGKILL)
