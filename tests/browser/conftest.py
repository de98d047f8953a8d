"""Playwright fixtures for the browser tests: Debian's Chromium against one `ttrelay dev` per session.

Playwright's own browser downloads need the internet, so the tests launch the distribution's Chromium
(`make browser-deps` installs it). Every page runs on the stack's own origin, which the collector admits.
"""

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, Route
from support.stack import delivered_items, dev_process

CHROMIUM = Path(os.environ.get("TTRELAY_CHROMIUM", "/usr/bin/chromium"))
# As root on a machine without network: no sandbox, and none of Chromium's own calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEST_PAGE = "/_browser-test/page.html"  # answered by page.route, never by the stack


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: run `make browser-deps`, or point TTRELAY_CHROMIUM at a Chromium")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A 1 s forward batch window (5 s deployed) keeps the waits for delivery short, as in tests/e2e.
    log = tmp_path_factory.mktemp("stack") / "dev.log"
    with dev_process(log, "--parameter-overrides", "ForwardBatchWindowSeconds=1") as base:
        yield base


@pytest.fixture(scope="session")
def front_door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second stack started with FrontDoor=cloudfront: its /_t/ path answers as CloudFront's origin
    access control to the function URL does (403 without the body's x-amz-content-sha256)."""
    log = tmp_path_factory.mktemp("front-door") / "dev.log"
    overrides = ("ForwardBatchWindowSeconds=1", "FrontDoor=cloudfront")
    with dev_process(log, "--parameter-overrides", *overrides) as base:
        yield base


@pytest.fixture(scope="session")
def base_url(stack: str) -> str:
    """pytest-playwright's base URL: page.goto("/demo/") opens the stack's demo shop."""
    return stack


@pytest.fixture
def warnings(page: Page) -> list[str]:
    """Every console.warn of the page, as text, in order."""
    seen: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "warning":
            seen.append(message.text)

    page.on("console", keep)
    return seen


@pytest.fixture
def console(page: Page) -> list[str]:
    """Everything the page logged to the console, any level."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text))
    return seen


@pytest.fixture
def posted(page: Page) -> list[dict[str, Any]]:
    """The JSON bodies the page posted to the collector (fetch or beacon), in order."""
    bodies: list[dict[str, Any]] = []

    def keep(request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/events"):
            bodies.append(json.loads(request.post_data or "null"))

    page.on("request", keep)
    return bodies


@pytest.fixture
def open_test_page(page: Page) -> Callable[..., Page]:
    """Opens a page on the stack's origin (or `origin`, another stack's) that loads the snippet: `setup`
    runs before it (a fake CMP, say), `init` after it."""

    def open_page(
        setup: str = "", init: str = "ttrelay.init({debug: true});", query: str = "", origin: str = ""
    ) -> Page:
        html = f"<!doctype html><title>test</title><script>{setup}</script>"
        html += f'<script src="/sdk/ttrelay.js"></script><script>{init}</script>'

        def answer(route: Route) -> None:
            route.fulfill(status=200, content_type="text/html", body=html)

        page.route(f"**{TEST_PAGE}*", answer)
        page.goto(origin + TEST_PAGE + query)
        return page

    return open_page


@pytest.fixture
def delivered(stack: str) -> Callable[[str], list[dict[str, Any]]]:
    """The Events API `data[]` items the fake accepted under an event_id (a duplicate would show twice)."""

    return lambda event_id: delivered_items(stack, event_id)
