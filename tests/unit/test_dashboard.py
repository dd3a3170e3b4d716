"""Every query of the Grafana dashboard names a metric that the code exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

from tests.unit.test_compose import import_all_modules

ROOT = Path(__file__).resolve().parents[2]
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}


def _exported_series() -> set[str]:
    import_all_modules()
    names: set[str] = set()
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
    return names


def _queried_series() -> set[str]:
    queried: set[str] = set()
    for path in (ROOT / "deploy/grafana/dashboards").glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                queried |= set(re.findall(r"\bsaga_[a-z0-9_]+", target["expr"]))
    return queried


def test_every_dashboard_query_names_an_exported_metric() -> None:
    queried = _queried_series()
    assert queried, "the dashboard has no saga_ queries"
    missing = queried - _exported_series()
    assert not missing, f"dashboard queries metrics the code does not export: {sorted(missing)}"
