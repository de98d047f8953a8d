"""A shop page with the TikTok pixel, for the browser tests: the pixel's base code, ttrelay.js in a chosen
place, and the pixel's library served by the test (pixel/standin-events.js) when the test says it arrives.

What each channel got is read from the page (`window.__pixelSent`, what the pixel would have sent to
TikTok) and from the stack (the bodies the page posted, the fake Events API's deliveries).
"""

from collections.abc import Callable
from enum import Enum
from html import escape
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route
from ttrelay_dev.local.stack import LOCAL_PIXEL

PIXEL_FILES = Path(__file__).resolve().parent / "pixel"
LIBRARY_URL = "https://analytics.tiktok.com/i18n/pixel/events.js*"  # what the base code inserts
PIXEL_TEST_PAGE = "/_browser-test/pixel-shop.html"  # answered by page.route, never by the stack
CONSENT_CALLS = ("holdConsent", "grantConsent", "revokeConsent")
# Google Consent Mode as pages set it: gtag pushes its arguments onto the dataLayer.
GTAG = "window.dataLayer = window.dataLayer || []; function gtag() { dataLayer.push(arguments); }"
CONSENT_TYPES = ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage")


class Order(Enum):
    """Where ttrelay.js sits relative to the pixel's base code and the arrival of its library."""

    SNIPPET_FIRST = "snippet, then base code"
    BASE_CODE_FIRST = "base code, then snippet, then library"
    LIBRARY_FIRST = "base code, library, then snippet"


def base_code(pixel: str = LOCAL_PIXEL) -> str:
    """The pixel's standard base code for one pixel code, as a site pastes it."""
    return (PIXEL_FILES / "base-code.js").read_text().replace("__PIXEL__", pixel)


def auto_init(**attributes: str) -> dict[str, str]:
    """The data attributes of a ttrelay.js tag that configures itself: auto_init(pixel_code="C1") gives
    {"data-endpoint": "/events", "data-pixel-code": "C1"}; an empty value is a bare attribute."""
    return {"data-endpoint": "/events"} | {
        f"data-{key.replace('_', '-')}": v for key, v in attributes.items()
    }


def consent_mode(command: str, state: str, wait_for_update: int | None = None) -> str:
    """gtag('consent', command, {...}) with every consent type in `state` ("granted" or "denied")."""
    fields = [f"{name}: '{state}'" for name in CONSENT_TYPES]
    if wait_for_update is not None:
        fields.append(f"wait_for_update: {wait_for_update}")
    return f"gtag('consent', '{command}', {{{', '.join(fields)}}});"


class PixelLibrary:
    """Serves the stand-in for every request of the pixel's library URL: at once, or, while held, only
    when arrive() is called (the test then controls what the page does before the library arrives)."""

    def __init__(self, page: Page, held: bool) -> None:
        self.page = page
        self.held = held
        self.waiting: list[Route] = []
        self.requests = 0
        page.route(LIBRARY_URL, self._answer)

    def _answer(self, route: Route) -> None:
        self.requests += 1
        if self.held:
            self.waiting.append(route)
        else:
            self._serve(route)

    @staticmethod
    def _serve(route: Route) -> None:
        body = (PIXEL_FILES / "standin-events.js").read_text()
        route.fulfill(status=200, content_type="text/javascript", body=body)

    def arrive(self) -> None:
        """Lets the library the page asked for arrive, and waits until it has replaced the base code."""
        self.held = False
        if self.page.evaluate("window.__pixelArrived === true"):
            return
        for _ in range(100):  # Playwright delivers the request to _answer only while the page is waited on
            if self.waiting:
                break
            self.page.wait_for_timeout(20)
        for route in self.waiting:
            self._serve(route)
        self.waiting.clear()
        self.page.wait_for_function("window.__pixelArrived === true", timeout=5000)


class PixelPage:
    """One open pixel page, and what the pixel on it sent or was asked to do."""

    def __init__(self, page: Page, library: PixelLibrary) -> None:
        self.page = page
        self.library = library

    def sent(self) -> list[dict[str, Any]]:
        """What the pixel sent to TikTok (nothing before its library arrived), page views included."""
        return list(self.page.evaluate("window.__pixelSent || []"))

    def tracked(self) -> list[dict[str, Any]]:
        """The events the pixel sent, page views left out."""
        return [record for record in self.sent() if record["event"] != "Pageview"]

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The pixel's calls of one method ({pixel, method, args}), replayed queue entries included."""
        return [call for call in self.page.evaluate("window.__pixelCalls || []") if call["method"] == method]

    def consent_calls(self) -> list[str]:
        """holdConsent / grantConsent / revokeConsent, in the order the pixel received them."""
        calls = self.page.evaluate("window.__pixelCalls || []")
        return [call["method"] for call in calls if call["method"] in CONSENT_CALLS]

    def add_snippet(self, attributes: dict[str, str], init: str = "") -> None:
        """Loads ttrelay.js into the open page with these attributes, then runs `init`."""
        self.page.evaluate(
            """(attributes) => new Promise((loaded, failed) => {
              const tag = document.createElement("script");
              for (const [name, value] of Object.entries(attributes)) tag.setAttribute(name, value);
              tag.onload = loaded;
              tag.onerror = failed;
              tag.src = "/sdk/ttrelay.js";
              document.head.appendChild(tag);
            })""",
            attributes,
        )
        if init:
            self.page.add_script_tag(content=init)


def snippet_tags(attributes: dict[str, str], init: str) -> str:
    tag = "".join(f' {name}="{escape(value)}"' if value else f" {name}" for name, value in attributes.items())
    return f'<script src="/sdk/ttrelay.js"{tag}></script>' + (f"<script>{init}</script>" if init else "")


def open_pixel_page(
    page: Page,
    order: Order = Order.BASE_CODE_FIRST,
    snippet: dict[str, str] | None = None,
    init: str = "",
    setup: str = "",
    inline: str = "",
    pixel: str = LOCAL_PIXEL,
    hold_library: bool = False,
    query: str = "",
) -> PixelPage:
    """Opens a shop page on the stack's origin: `setup` (a CMP, Consent Mode defaults) first, then the
    base code for `pixel` and the page's own `inline` script right after it, with ttrelay.js placed as
    `order` says: a tag with the attributes `snippet` (auto_init(...) for one that configures itself, {}
    for a bare tag, None for no ttrelay at all), then the `init` script.

    The library arrives once the page is parsed, or with hold_library only at `.library.arrive()`
    (Order.LIBRARY_FIRST always waits for it before adding the snippet)."""
    pixel_code = f"<script>{base_code(pixel)}</script><script>{inline}</script>"
    ttrelay = "" if snippet is None else snippet_tags(snippet, init)
    parts = {
        Order.SNIPPET_FIRST: [ttrelay, pixel_code],
        Order.BASE_CODE_FIRST: [pixel_code, ttrelay],
        Order.LIBRARY_FIRST: [pixel_code],
    }[order]
    html = f"<!doctype html><title>pixel shop</title><script>{setup}</script>" + "".join(parts)

    def answer(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=html)

    # Held through the page's parsing in every case, so that the order is the one asked for: served at
    # once, the async library could run before a slower ttrelay.js tag placed after the base code.
    library = PixelLibrary(page, held=True)
    page.route(f"**{PIXEL_TEST_PAGE}*", answer)
    page.goto(PIXEL_TEST_PAGE + query, wait_until="domcontentloaded")  # "load" waits for the library
    shop = PixelPage(page, library)
    if order is Order.LIBRARY_FIRST:
        library.arrive()
        if snippet is not None:
            shop.add_snippet(snippet, init)
    elif not hold_library:
        library.arrive()
    return shop


def until(page: Page, predicate: Callable[[], Any], timeout_ms: int = 20_000) -> Any:
    """Waits for predicate() to hold while the page runs: Playwright hands the test the page's requests
    and console lines only while it is waiting on the page, so a plain sleep would never see them."""
    for _ in range(timeout_ms // 50):
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(50)
    raise AssertionError(f"condition not met within {timeout_ms} ms")


def collector_events(posted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every event the page posted to the collector, in order, across requests (probes carry none)."""
    return [event for body in posted for event in body["events"]]
