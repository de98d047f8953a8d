"""Helpers for browser tests of pages that speak Google's dataLayer (gtag.js, GTM, Consent Mode)."""

import json
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page

# What every gtag.js or GTM page runs first (Google's install snippet): gtag pushes its `arguments`.
GTAG = "window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}"


def events_posted(posted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every event the page posted to the collector, in order (decision probes carry none)."""
    return [event for body in posted for event in body["events"]]


def wait_on_page(page: Page, predicate: Callable[[], Any], timeout_ms: int = 10_000) -> Any:
    """Polls `predicate` from inside Playwright: request listeners only run during Playwright calls, so a
    plain time.sleep would never see the page's requests arrive."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_ms} ms")
        page.wait_for_timeout(100)


# A page-local stand-in for a loaded TikTok pixel: records every call as [method, ...args], in order.
PIXEL_RECORDER = """
window.__ttqCalls = [];
window.ttq = {};
for (const method of ["track", "identify", "page", "holdConsent", "grantConsent", "revokeConsent"]) {
  window.ttq[method] = (...args) => { window.__ttqCalls.push([method, ...args]); };
}
"""


def pixel_calls(page: Page, method: str) -> list[list[Any]]:
    """The arguments of each call of `method` the page's pixel stand-in received."""
    return [call[1:] for call in page.evaluate("window.__ttqCalls") if call[0] == method]


def gtag_consent(command: str, state: dict[str, Any]) -> str:
    """The page script of one Consent Mode command, e.g. gtag('consent', 'default', {...})."""
    return f"gtag('consent', {json.dumps(command)}, {json.dumps(state)});"
