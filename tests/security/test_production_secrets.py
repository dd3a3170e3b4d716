"""A production start refuses every secret that has a working default, with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from apis.gateway.settings import GatewaySettings
from domain.balance.settings import BalanceSettings
from domain.payments.settings import PaymentsSettings
from infra.settings import DEV_JWT_SECRET, PlatformSettings, SettingsError
from saga.cli import app
from tests.security.tally import tried

REAL_SECRET = "k3y-" + "9f2c1e7a" * 6
REAL_DB = "postgresql://saga:Zq8-long-random-pass@db.internal:5432/saga"
SETTINGS = [PlatformSettings, GatewaySettings, PaymentsSettings, BalanceSettings]
# (environment, what the refusal names)
REFUSED = [
    ({}, "JWT_SECRET"),
    ({"JWT_SECRET": DEV_JWT_SECRET}, "JWT_SECRET"),
    ({"JWT_SECRET": "short-secret"}, "at least 32"),
    ({"JWT_SECRET": REAL_SECRET}, "DATABASE_URL must be set"),
    ({"JWT_SECRET": REAL_SECRET, "DATABASE_URL": "postgresql://saga:saga@db/saga"}, "default"),
    ({"JWT_SECRET": REAL_SECRET, "DATABASE_URL": "postgresql://postgres:postgres@db/x"}, "default"),
    ({"JWT_SECRET": REAL_SECRET, "DATABASE_URL": "postgresql://saga:@db/saga"}, "default"),
    ({"JWT_SECRET": REAL_SECRET, "DATABASE_URL": "postgresql://u:Password@db/x"}, "default"),
]
COMMANDS = [
    ["up"],
    ["api", "edge"],
    ["api", "orders"],
    ["api", "inventory"],
    ["api", "payments"],
    ["api", "balance"],
    ["gateway"],
    ["worker"],
    ["relay"],
    ["migrate"],
    ["seed"],
    ["token", "--service", "x"],
]
_CLEAN = {"JWT_SECRET": None, "DATABASE_URL": None, "SAGA_ENV": "production"}


@pytest.mark.parametrize("settings_class", SETTINGS)
@pytest.mark.parametrize(("env", "named"), REFUSED)
def test_every_settings_class_refuses_default_secrets_in_production(
    settings_class: type[PlatformSettings],
    env: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("JWT_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAGA_ENV", "production")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=named):
        settings_class().refuse_default_secrets()
    tried("production_secrets")


def test_real_secrets_start_and_development_keeps_its_defaults() -> None:
    PlatformSettings(
        saga_env="production", jwt_secret=REAL_SECRET, database_url=REAL_DB
    ).refuse_default_secrets()
    PlatformSettings(saga_env="development").refuse_default_secrets()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_refuses_to_start_with_one_line(command: list[str]) -> None:
    result = CliRunner().invoke(app, command, env=_CLEAN)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines == ["error: JWT_SECRET must be set to a real secret when SAGA_ENV=production"]
    tried("production_secrets")


def test_the_installed_entry_point_refuses_without_a_traceback() -> None:
    env = {"PATH": "/usr/bin:/bin", "SAGA_ENV": "production", "JWT_SECRET": REAL_SECRET}
    env["DATABASE_URL"] = "postgresql://saga:saga@db/saga"
    done = subprocess.run(
        [sys.executable, "-m", "saga", "api", "edge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: DATABASE_URL uses a well-known default password; set a real one "
        "when SAGA_ENV=production"
    ]
    tried("production_secrets")
