"""The alert rules pass their promtool unit tests, say what to do, and watch exported metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.unit.test_dashboard import _exported_series

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy/prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: `make promtool` installs it (Debian's prometheus)"
    return subprocess.run(
        [promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_rules_pass_their_unit_tests() -> None:
    result = _promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_loads_the_rules() -> None:
    result = _promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout, result.stdout


def test_every_alert_has_a_test_a_summary_and_a_runbook() -> None:
    tested = set(re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts_test.yml").read_text()))
    for rule in _rules():
        annotations = rule.get("annotations", {})
        assert annotations.get("summary"), rule["alert"]
        assert len(annotations.get("runbook", "")) > 40, f"{rule['alert']} says not what to do"
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["alert"] in tested, f"{rule['alert']} has no promtool test"


def test_every_rule_watches_a_metric_the_code_exports() -> None:
    watched = {name for rule in _rules() for name in re.findall(r"\bsaga_[a-z0-9_]+", rule["expr"])}
    assert watched
    missing = watched - _exported_series()
    assert not missing, f"alert rules watch metrics the code does not export: {sorted(missing)}"
