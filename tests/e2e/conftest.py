"""A real `saga up` in a subprocess, on free ports and a throwaway SAGA_HOME."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.ports import free_port
from infra.settings import DEV_JWT_SECRET, PlatformSettings
from infra.tokens import TokenKind, issue_token

_HEALTHY = re.compile(r"all healthy in ([0-9.]+)s")


def platform_env(home: Path) -> dict[str, str]:
    """Environment for an isolated platform: every `*_PORT` setting on a free port."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in {"TEMPORAL_ADDRESS", "DATABASE_URL", "REDIS_URL"}
    }
    env["SAGA_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "200"
    for name in PlatformSettings.model_fields:
        if name.endswith("_port"):
            env[name.upper()] = str(free_port())
    return env


@dataclass
class PlatformProcess:
    """One `saga up` child; `start()` returns once it printed that all parts are healthy."""

    home: Path
    env: dict[str, str]
    output: list[str] = field(default_factory=list)
    startup_seconds: float | None = None
    _popen: subprocess.Popen[str] | None = None

    @property
    def settings(self) -> PlatformSettings:
        """Settings that address this platform (ports from the env)."""
        return PlatformSettings(
            **{  # type: ignore[arg-type]
                name: self.env[name.upper()]
                for name in PlatformSettings.model_fields
                if name.endswith("_port")
            }
        )

    def url(self, port_field: str, path: str = "") -> str:
        """http://127.0.0.1:<port of that setting><path>."""
        return f"http://127.0.0.1:{self.env[port_field.upper()]}{path}"

    def start(self, timeout: float = 120.0) -> None:
        """Run `saga up` and wait for its 'all healthy' line."""
        self.output.clear()
        self._popen = subprocess.Popen(
            [sys.executable, "-m", "saga", "up"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert self._popen.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self._popen.stdout:
            self.output.append(line.rstrip())
            match = _HEALTHY.search(line)
            if match:
                self.startup_seconds = float(match.group(1))
                return
            if time.monotonic() > deadline:
                break
        self.stop()
        raise AssertionError("saga up did not become healthy:\n" + "\n".join(self.output))

    def state(self) -> dict[str, object]:
        """The supervisor's state file."""
        loaded: dict[str, object] = json.loads((self.home / "supervisor.json").read_text())
        return loaded

    def service_auth(self, name: str = "e2e") -> dict[str, str]:
        """The Authorization header of a service token this platform accepts."""
        secret = self.env.get("JWT_SECRET", DEV_JWT_SECRET)
        token = issue_token(secret, name, kind=TokenKind.SERVICE)
        return {"Authorization": f"Bearer {token}"}

    def saga(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run another `saga` command against this platform."""
        return subprocess.run(
            [sys.executable, "-m", "saga", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 60) -> int:
        """Signal the supervisor and wait for it; returns its exit code."""
        popen = self._popen
        if popen is None:
            return 0
        if popen.poll() is None:
            popen.send_signal(sig)
        try:
            remaining, _ = popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            remaining, _ = popen.communicate()
        self.output.extend((remaining or "").splitlines())
        self._popen = None
        return popen.returncode


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    """One running platform shared by the end-to-end tests of the session."""
    home = tmp_path_factory.mktemp("platform")
    running = PlatformProcess(home, platform_env(home))
    running.start()
    yield running
    running.stop()
