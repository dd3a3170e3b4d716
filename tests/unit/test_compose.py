"""docker-compose.yaml agrees with the code: commands exist, contexts exist, env vars are read."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml
from pydantic_settings import BaseSettings

from infra.settings import PlatformSettings
from saga.cli import app
from saga.services import platform_services

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
OUR_IMAGE = "saga-platform:latest"


def _our_services() -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in COMPOSE["services"].items()
        if spec.get("image") == OUR_IMAGE or "build" in spec
    }


def import_all_modules() -> None:
    """Import every module of the platform, so every settings class and metric is defined."""
    for package in ("saga", "domain", "apis", "workflows", "activities"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)


def _settings_classes() -> list[type[BaseSettings]]:
    import_all_modules()
    found: list[type[BaseSettings]] = []
    pending: list[type[BaseSettings]] = [PlatformSettings]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _env_names() -> set[str]:
    names: set[str] = set()
    for cls in _settings_classes():
        prefix = str(cls.model_config.get("env_prefix", ""))
        names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names


def _resolve(argv: list[str]) -> Any:
    """Follow `saga <group> <command> args...` as the CLI would; raise if anything is unknown."""
    # Typer vendors its own click, so groups are recognised by behaviour, not by class.
    command: Any = typer.main.get_command(app)
    args = list(argv)
    ctx = command.make_context("saga", [], resilient_parsing=True)
    while hasattr(command, "list_commands"):
        assert args, f"{argv}: names a group, not a command"
        name = args.pop(0)
        sub = command.get_command(ctx, name)
        assert sub is not None, f"{argv}: `saga` has no command {name!r}"
        command = sub
        ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
    command.make_context(command.name or "saga", args, parent=ctx.parent)
    return command


@pytest.mark.parametrize("service", sorted(_our_services()))
def test_each_service_command_exists(service: str) -> None:
    _resolve(list(_our_services()[service]["command"]))


@pytest.mark.parametrize("service", sorted(_our_services()))
def test_each_build_context_exists(service: str) -> None:
    build = _our_services()[service].get("build", {"context": ".", "dockerfile": "Dockerfile"})
    context = ROOT / build["context"]
    assert context.is_dir()
    assert (context / build.get("dockerfile", "Dockerfile")).is_file()


def test_each_environment_variable_is_read_by_the_settings() -> None:
    known = _env_names()
    for name, spec in _our_services().items():
        unknown = set(spec.get("environment", {})) - known
        assert not unknown, f"{name} sets variables no settings class reads: {sorted(unknown)}"


def test_every_process_of_saga_up_runs_in_compose() -> None:
    commands = {tuple(spec["command"]) for spec in _our_services().values()}
    missing = [s.name for s in platform_services(PlatformSettings()) if s.command not in commands]
    assert not missing, f"saga up runs {missing} but docker-compose.yaml does not"


def test_prometheus_scrapes_only_compose_services() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            for target in static["targets"]:
                host = target.split(":")[0]
                assert host in COMPOSE["services"], f"{job['job_name']} scrapes unknown {host}"


def test_observability_configs_point_at_compose_services() -> None:
    urls = [
        source["url"]
        for path in (ROOT / "deploy/grafana/provisioning/datasources").glob("*.yml")
        for source in yaml.safe_load(path.read_text())["datasources"]
    ]
    promtail = yaml.safe_load((ROOT / "deploy/promtail/promtail.yaml").read_text())
    urls += [client["url"] for client in promtail["clients"]]
    urls += [s["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] for s in _our_services().values()]
    assert len(urls) > len(_our_services())
    for url in urls:
        assert urlsplit(url).hostname in COMPOSE["services"], f"{url} is no compose service"


def test_every_mounted_config_file_exists() -> None:
    for name, spec in COMPOSE["services"].items():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"


def test_unknown_command_is_caught() -> None:
    with pytest.raises(AssertionError, match="no command"):
        _resolve(["no-such-command"])


def test_production_image_refuses_the_development_secret() -> None:
    assert re.search(r"JWT_SECRET: \$\{JWT_SECRET:\?", (ROOT / "docker-compose.yaml").read_text())
