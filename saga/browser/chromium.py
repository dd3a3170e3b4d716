"""Debian's Chromium under Playwright (Playwright's own browser download cannot work here)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: the tests run as root in CI. The rest keeps Chromium off the network (there is
# none to reach here) and its start quick.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> Path | None:
    """Where Debian's `chromium` is installed, if it is."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium, closed on exit."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed: apt-get install -y chromium (make browser)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
