"""`saga up` from nothing: everything healthy, Ctrl-C leaves no process, data survives restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import asyncpg
import httpx
import pytest

from saga.stack.temporal import temporal_cli
from tests.e2e.conftest import PlatformProcess, platform_env

pytestmark = pytest.mark.e2e


def _temporal(platform: PlatformProcess, *args: str) -> subprocess.CompletedProcess[str]:
    address = f"127.0.0.1:{platform.env['TEMPORAL_PORT']}"
    return subprocess.run(
        [temporal_cli(), *args, "--address", address], capture_output=True, text=True, timeout=30
    )


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text().lower()


def _processes_mentioning(home: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(home) in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


async def test_up_status_stop_and_restart_reuses_data(tmp_path: Path) -> None:
    home = tmp_path / "home"
    up = PlatformProcess(home, platform_env(home))
    up.start()
    try:
        assert up.startup_seconds is not None
        table = "\n".join(up.output)
        assert table.index("Temporal Web UI") < table.index("Temporal frontend")

        status = up.saga("status", "--json")
        parts = json.loads(status.stdout)
        assert status.returncode == 0, status.stdout
        assert all(p["healthy"] for p in parts)
        assert {"Temporal Web UI", "Temporal frontend", "PostgreSQL", "Valkey / Redis"} <= {
            p["part"] for p in parts
        }

        async with httpx.AsyncClient() as http:
            ui = await http.get(up.url("temporal_ui_port"))
            metrics = await http.get(up.url("worker_metrics_port", "/metrics"))
        assert ui.status_code == 200
        # The worker's one scrape carries the Temporal SDK's own metrics too.
        assert "temporal_request" in metrics.text

        started = _temporal(
            up,
            "workflow",
            "start",
            "--type",
            "DurableProbe",
            "--task-queue",
            "nobody-polls",
            "--workflow-id",
            "durable-probe",
        )
        assert started.returncode == 0, started.stderr
        listed = _temporal(up, "workflow", "list")
        assert listed.returncode == 0, listed.stderr
        assert "durable-probe" in listed.stdout

        conn = await asyncpg.connect(up.settings.resolved_database_url)
        await conn.execute("INSERT INTO platform_events (kind) VALUES ('e2e-restart-probe')")
        await conn.close()
        pids = [s["pid"] for s in up.state()["services"]]  # type: ignore[attr-defined]
    finally:
        code = up.stop(signal.SIGINT)
    assert code == 0, "\n".join(up.output)
    assert not (home / "supervisor.json").exists()
    assert _processes_mentioning(home) == []
    assert [pid for pid in pids if _alive(pid)] == []

    up.start()
    try:
        conn = await asyncpg.connect(up.settings.resolved_database_url)
        kept = await conn.fetchval(
            "SELECT count(*) FROM platform_events WHERE kind = 'e2e-restart-probe'"
        )
        await conn.close()
        assert kept == 1
        described = _temporal(up, "workflow", "describe", "--workflow-id", "durable-probe")
        assert described.returncode == 0, described.stderr
    finally:
        assert up.stop(signal.SIGTERM) == 0
    assert _processes_mentioning(home) == []


def test_second_up_on_same_home_is_refused(platform: PlatformProcess) -> None:
    second = platform.saga("up", timeout=60)
    assert second.returncode == 1
    assert "already running" in second.stdout
