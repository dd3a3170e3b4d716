"""Child processes that die with their parent and stop in order."""

from __future__ import annotations

import asyncio
import ctypes
import os
import pwd
import signal
import socket
import subprocess
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1


class StackError(Exception):
    """A part of the stack could not start; `str()` is the one line shown to the user."""


def _die_with_parent() -> None:
    """Have the kernel SIGKILL this child if the supervisor dies, so nothing is left behind."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def drop_privileges(user: str | None) -> dict[str, Any]:
    """Popen arguments that run the child as `user` with only that user's own group."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    # Without group and extra_groups the child keeps root's groups, and a root-owned
    # directory's group bits (often none) would then deny it access.
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def ensure_port_free(host: str, port: int, what: str, env_var: str) -> None:
    """Fail with one clear line when a port we are about to listen on is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise StackError(
                f"port {port} ({what}) on {host} is taken: stop what uses it or set {env_var}"
            ) from None


async def wait_until(
    probe: Callable[[], Awaitable[bool]],
    *,
    timeout: float,
    what: str,
    process: ManagedProcess | None = None,
    interval: float = 0.05,
) -> None:
    """Poll `probe` until it answers True; fail early if the process behind it died."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            if await probe():
                return
        except Exception:
            pass
        if process is not None and process.returncode is not None:
            raise StackError(
                f"{what} exited with code {process.returncode} while starting; "
                f"see {process.log_path}"
            )
        if loop.time() > deadline:
            hint = f"; see {process.log_path}" if process is not None else ""
            raise StackError(f"{what} did not become ready within {timeout:.0f}s{hint}")
        await asyncio.sleep(interval)


@dataclass
class ManagedProcess:
    """One child process with its log file, started in its own session."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: dict[str, str] | None = None
    user: str | None = None
    cwd: Path | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    # The child dies with this process (PR_SET_PDEATHSIG, set between fork and exec). Off for
    # a restart from a process with gRPC threads, where Python code between fork and exec can
    # crash the child; the owner then stops it itself.
    die_with_parent: bool = True
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Spawn the process with stdout and stderr appended to its log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                self._popen = subprocess.Popen(
                    list(self.argv),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={**os.environ, **(self.env or {})},
                    cwd=self.cwd,
                    **drop_privileges(self.user),
                    start_new_session=True,
                    preexec_fn=_die_with_parent if self.die_with_parent else None,
                )
            except OSError as exc:
                raise StackError(f"cannot start {self.name}: {exc}") from None

    @property
    def pid(self) -> int | None:
        """The child's pid once started."""
        return self._popen.pid if self._popen else None

    @property
    def returncode(self) -> int | None:
        """None while running, else the exit code."""
        return self._popen.poll() if self._popen else None

    async def stop(self, timeout: float = 10.0) -> None:
        """Send the stop signal, wait, then SIGKILL what is still alive."""
        popen = self._popen
        if popen is None or popen.poll() is not None:
            return
        try:
            os.killpg(popen.pid, self.stop_signal)
        except ProcessLookupError:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while popen.poll() is None and loop.time() < deadline:  # noqa: ASYNC110 - polling a Popen
            await asyncio.sleep(0.05)
        if popen.poll() is None:
            try:
                os.killpg(popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            popen.wait()
