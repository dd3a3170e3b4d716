"""The web app in Debian's Chromium against a real `saga up` (free ports, throwaway SAGA_HOME).

Each test gets players in browser contexts of their own; at the end every page must have
logged no console error and raised no page error.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from saga.browser.chromium import chromium, chromium_path
from saga.browser.player import DESKTOP, Player
from tests.e2e.conftest import PlatformProcess, platform_env

Arrive = Callable[..., Awaitable[Player]]
# Saga steps and the dealer's 2 s pause take longer than Playwright's default 5 s allows.
expect.set_options(timeout=15_000)
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="package")
def web_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    """One `saga up` for the web tests, stopped when they are done."""
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed: `make browser` installs it")
    home = tmp_path_factory.mktemp("web-platform")
    running = PlatformProcess(home, platform_env(home))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="package")
async def browser(web_platform: PlatformProcess) -> AsyncIterator[Browser]:
    """One headless Chromium for the web tests."""
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def arrive(browser: Browser, web_platform: PlatformProcess) -> AsyncIterator[Arrive]:
    """`await arrive("alice")`: a new player (unique name) in a browser context of its own."""
    players: list[Player] = []
    base_url = web_platform.url("gateway_port")

    async def new_player(prefix: str, viewport: dict[str, int] = DESKTOP) -> Player:
        player = await Player.arrive(
            browser, base_url, f"{prefix}-{uuid.uuid4().hex[:6]}", viewport=viewport
        )
        players.append(player)
        return player

    yield new_player
    errors = {p.name: p.console_errors for p in players if p.console_errors}
    for player in players:
        await player.close()
    assert not errors, f"console or page errors: {errors}"


@pytest.fixture
async def platform_http(web_platform: PlatformProcess) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client acting as a service (deposits, catalog, mutes)."""
    async with httpx.AsyncClient(timeout=15, headers=web_platform.service_auth("web")) as http:
        yield http


async def fund(platform: PlatformProcess, http: httpx.AsyncClient, user: str, chips: int) -> None:
    """Deposit `chips` into `user`'s wallet (as a service would: a cashier, a promotion)."""
    answer = await http.post(
        platform.url("balance_http_port", f"/api/accounts/{user}/deposit"),
        json={"amount": chips},
        headers={"Idempotency-Key": f"web-fund-{uuid.uuid4().hex}"},
    )
    assert answer.status_code == 200, answer.text


async def add_product(
    platform: PlatformProcess, http: httpx.AsyncClient, name: str, price_cents: int, stock: int
) -> str:
    """A catalog entry in the inventory; returns its product id."""
    product_id = f"web-{uuid.uuid4().hex[:8]}"
    answer = await http.post(
        platform.url("inventory_port", "/inventory/products"),
        json={
            "product_id": product_id,
            "name": name,
            "price_cents": price_cents,
            "initial_stock": stock,
        },
    )
    assert answer.status_code == 201, answer.text
    return product_id


async def leave_table(
    platform: PlatformProcess, http: httpx.AsyncClient, table_id: str, *users: str
) -> None:
    """Stand every player up, so the table stops dealing after the test."""
    for user in users:
        await http.delete(platform.url("game_port", f"/tables/{table_id}/seats/{user}"))


async def assert_accessible(page: Page, view: str) -> None:
    """axe finds no serious or critical violation on the page as it is now."""
    results = await Axe().run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v.get("impact") in BLOCKING
    ]
    assert not blocking, f"{view}: {blocking}"
