"""PNGs of each view of the web app, made by two players on a running platform."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from infra.settings import PlatformSettings
from infra.tokens import TokenKind, issue_token
from saga.browser.chromium import chromium
from saga.browser.player import DESKTOP, PHONE, Player, play_hand, take_turn

PLAYERS = ("ada", "ben")
CHIPS = 3000


class Shots:
    """Writes each screenshot into one folder and remembers what it wrote."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []
        folder.mkdir(parents=True, exist_ok=True)

    async def take(self, page: Page, name: str) -> None:
        """A full-page PNG of `page` as `name.png`."""
        # Let the clock and live regions settle into a stable frame.
        await page.wait_for_timeout(300)
        path = self.folder / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True, animations="disabled")
        self.written.append(path)


async def _prepare(settings: PlatformSettings, http: httpx.AsyncClient) -> None:
    """Chips for both players and something to buy (as a cashier and a catalog editor would)."""
    for user in PLAYERS:
        answer = await http.post(
            f"{settings.service_url('balance')}/api/accounts/{user}/deposit",
            json={"amount": CHIPS},
            headers={"Idempotency-Key": f"screenshots-{user}-{uuid.uuid4().hex}"},
        )
        answer.raise_for_status()
    answer = await http.post(
        f"{settings.service_url('inventory')}/inventory/products",
        json={
            "product_id": "lucky-mug",
            "name": "Lucky mug",
            "price_cents": 1250,
            "initial_stock": 1000,
        },
    )
    answer.raise_for_status()


async def _at_the_table(shots: Shots, ada: Player, ben: Player, table: str) -> None:
    """Both sit down; the table mid-hand (desktop and phone), then the hand's result."""
    await ada.join_table(table)
    await ada.sit(1000)
    await ben.sit(1000)
    await ben.chat("gl", "Table chat")
    await expect(ada.page.get_by_role("timer")).to_be_visible()
    # Ada's page with her action bar: if Ben is first to act, he calls.
    for _ in range(100):
        if await ada.actions.count() or await ben.actions.count():
            break
        await ada.page.wait_for_timeout(100)
    if await ben.actions.count():
        await take_turn(ben, size_up=False)
    await expect(ada.actions).to_be_visible()
    await shots.take(ada.page, "table")
    await shots.take(ben.page, "table-phone")
    await play_hand([ada, ben])
    await expect(ada.page.locator(".verify")).to_have_attribute("data-verified", "true")
    await ada.page.locator(".verify summary").click()
    await shots.take(ada.page, "hand-result")


async def _wallet_and_shop(shots: Shots, ada: Player) -> None:
    """The wallet after a ledger check; the shop after an order is confirmed."""
    await ada.view("Wallet")
    await ada.page.get_by_role("button", name="Verify my ledger").click()
    await expect(ada.page.locator("[data-valid]")).to_be_visible()
    await shots.take(ada.page, "wallet")
    await ada.view("Shop")
    mug = ada.page.get_by_role("form", name="Lucky mug")
    await mug.get_by_role("button", name="Buy Lucky mug").click()
    order = ada.page.locator(".order").first
    await expect(order).to_have_attribute("data-status", "CONFIRMED", timeout=30_000)
    await shots.take(ada.page, "shop")


async def take_screenshots(settings: PlatformSettings, base: str, folder: Path) -> list[Path]:
    """Sign in, lobby, table (desktop and phone), hand result, wallet and shop, as PNGs."""
    secret = settings.jwt_secret.get_secret_value()
    service = issue_token(secret, "screenshots", kind=TokenKind.SERVICE)
    shots = Shots(folder)
    headers = {"Authorization": f"Bearer {service}"}
    async with httpx.AsyncClient(timeout=15, headers=headers) as http, chromium() as browser:
        await _prepare(settings, http)
        ada = await Player.arrive(browser, base, PLAYERS[0], viewport=DESKTOP)
        ben = await Player.arrive(browser, base, PLAYERS[1], viewport=PHONE)
        await ada.page.goto("/")
        await expect(ada.page.get_by_label("Your player name")).to_be_visible()
        await shots.take(ada.page, "sign-in")
        await ada.sign_in()
        await ben.sign_in()
        table = f"Heads-up {time.strftime('%H:%M')}"
        await ada.chat("Anyone for heads-up? Opening a table.", "Lobby chat")
        table_id = await ada.open_table(table)
        await ben.join_table(table)
        await ada.view("Lobby")
        await shots.take(ada.page, "lobby")
        try:
            await _at_the_table(shots, ada, ben, table)
        finally:
            # Standing both up stops the table dealing on, whatever happened above.
            for user in PLAYERS:
                await http.delete(f"{settings.service_url('game')}/tables/{table_id}/seats/{user}")
        await _wallet_and_shop(shots, ada)
        errors = ada.console_errors + ben.console_errors
        if errors:
            raise RuntimeError(f"the web app logged errors: {errors}")
    return shots.written
