"""Every file of the web app is served, shipped in the wheel and copied into the image."""

from __future__ import annotations

import tomllib
from pathlib import Path

from apis.gateway.webapp import ASSET_NAME, CONTENT_TYPES, WEB_ROOT

ROOT = Path(__file__).resolve().parents[2]


def _files() -> list[str]:
    return sorted(str(path.relative_to(WEB_ROOT)) for path in WEB_ROOT.rglob("*") if path.is_file())


def test_every_file_has_a_content_type_and_a_servable_name() -> None:
    assert WEB_ROOT == ROOT / "web"
    for name in _files():
        assert Path(name).suffix in CONTENT_TYPES, name
        assert name == "index.html" or ASSET_NAME.fullmatch(name), name


def test_the_wheel_and_the_image_carry_the_web_app() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    assert "web*" in setuptools["packages"]["find"]["include"]
    # setuptools expands each pattern as a glob under the package's folder.
    shipped = {
        str(path.relative_to(WEB_ROOT))
        for pattern in setuptools["package-data"]["web"]
        for path in WEB_ROOT.glob(pattern)
    }
    assert set(_files()) <= shipped, set(_files()) - shipped
    assert "COPY web ./web" in (ROOT / "Dockerfile").read_text()
