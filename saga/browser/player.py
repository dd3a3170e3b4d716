"""One player in their own browser context, using the web app as a person would."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Player:
    """A signed-in player's page; console errors and page errors are collected."""

    name: str
    context: BrowserContext
    page: Page
    console_errors: list[str] = field(default_factory=list)

    @classmethod
    async def arrive(
        cls, browser: Browser, base_url: str, name: str, *, viewport: dict[str, int] = DESKTOP
    ) -> Player:
        """A new browser context for `name` on the gateway at `base_url` (not signed in yet)."""
        context = await browser.new_context(
            base_url=base_url,
            viewport={"width": viewport["width"], "height": viewport["height"]},
            locale="en-US",
            timezone_id="UTC",
        )
        page = await context.new_page()
        player = cls(name, context, page)
        page.on("console", player._on_console)
        page.on("pageerror", lambda error: player.console_errors.append(f"page error: {error}"))
        return player

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"console: {message.text}")

    async def sign_in(self) -> None:
        """Sign in by name (development) and wait until the socket is live."""
        await self.page.goto("/")
        await self.page.get_by_label("Your player name").fill(self.name)
        await self.page.get_by_role("button", name="Play").click()
        await self.live()

    async def sign_in_with_token(self, token: str) -> None:
        """Open `/?token=JWT`, as `saga token --user` prints it."""
        await self.page.goto(f"/?token={token}")
        await self.live()

    async def live(self, timeout: float = 15_000) -> None:
        """Wait until the header says the connection is live."""
        await expect(self.page.locator("#connection")).to_have_text("Live", timeout=timeout)

    async def view(self, name: str) -> None:
        """Open a view from the main navigation."""
        nav = self.page.get_by_role("navigation", name="Main")
        await nav.get_by_role("link", name=name).click()
        await expect(self.page.get_by_role("heading", level=1, name=name)).to_be_visible()

    async def open_table(self, table_name: str, *, seconds_to_act: int = 30) -> str:
        """Open a table from the lobby's form; returns its id once its page shows."""
        await self.view("Lobby")
        form = self.page.get_by_role("form", name="Open a table")
        await form.get_by_label("Table name").fill(table_name)
        await form.get_by_label("Seconds to act").fill(str(seconds_to_act))
        await form.get_by_role("button", name="Open table").click()
        await expect(self.page).to_have_url(re.compile(r"#/table/t[0-9a-f]{10}$"))
        await expect(self.page.get_by_role("heading", level=1, name=table_name)).to_be_visible()
        return self.page.url.rsplit("/", 1)[1]

    async def join_table(self, table_name: str) -> None:
        """Open a table listed in the lobby."""
        await self.page.get_by_role("link", name=f"Open table {table_name}").click()
        await expect(self.page.get_by_role("heading", level=1, name=table_name)).to_be_visible()

    async def sit(self, buy_in: int) -> None:
        """Buy in and sit down at the open table."""
        form = self.page.get_by_role("form", name="Sit down")
        await form.get_by_label("Buy-in").fill(str(buy_in))
        await form.get_by_role("button", name="Sit down").click()
        await expect(self.page.get_by_role("region", name="Your seat")).to_contain_text("stack")

    @property
    def actions(self) -> Locator:
        """The action bar (shown only on this player's turn)."""
        return self.page.get_by_role("region", name="Your actions")

    async def chat(self, text: str, panel: str) -> None:
        """Send `text` in the chat panel named `panel` ("Lobby chat", "Table chat")."""
        chat = self.page.get_by_role("region", name=panel)
        await chat.get_by_role("textbox").fill(text)
        await chat.get_by_role("button", name="Send").click()

    async def close(self) -> None:
        """Close this player's browser context."""
        await self.context.close()


async def take_turn(player: Player, *, size_up: bool) -> str:
    """Act once: a pot-sized bet or raise when `size_up` and offered, else call, else check."""
    bar = player.actions
    sized = bar.locator("form button[type=submit]")
    if size_up and await sized.count():
        await bar.get_by_role("button", name="Pot").click()
        button = sized
    elif await bar.locator("[data-action=call]").count():
        button = bar.locator("[data-action=call]")
    else:
        button = bar.locator("[data-action=check]")
    said = (await button.text_content(timeout=5_000)) or ""
    handle = await button.element_handle()
    await button.click()
    # The bar is drawn anew after every action: wait for this one to go.
    if handle is not None:
        await handle.wait_for_element_state("hidden")
    return said


async def play_hand(players: list[Player], *, timeout: float = 60.0) -> list[str]:
    """Play one hand to its end (first a pot-sized raise, then calls and checks)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    done: list[str] = []
    while loop.time() < deadline:
        results = [await p.page.locator(".verify").count() for p in players]
        if all(results):
            return done
        for player in players:
            if await player.actions.count():
                said = await take_turn(player, size_up=not done)
                done.append(f"{player.name}: {said}")
        await asyncio.sleep(0.1)
    raise TimeoutError(f"the hand did not end in {timeout}s; done: {done}")
