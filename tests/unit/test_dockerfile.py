"""The image holds every package the `saga` commands import."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _copied() -> set[str]:
    text = (ROOT / "Dockerfile").read_text()
    return {m.group(1) for m in re.finditer(r"^COPY (\S+) \./\1\s*$", text, re.MULTILINE)}


def _packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return {p.rstrip("*") for p in patterns}


def test_every_installed_package_is_copied_into_the_image() -> None:
    missing = _packages() - _copied()
    assert missing == set(), f"the Dockerfile does not COPY {sorted(missing)}"


def test_every_top_level_package_is_installed() -> None:
    # A new top-level package must be in pyproject's list, or neither pip nor the image has it.
    found = {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in ("tests", "bench")
    }
    assert found - _packages() == set()
