"""The live inspector page in Debian's Chromium: requests appear by themselves, with decision and delivery.

A `ttrelay dev` of its own (the session's stack has other tests' requests in it, and the first test needs
an empty inspector). Set TTRELAY_INSPECTOR_SCREENSHOT=docs/inspector.png to refresh the README's picture.
"""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from support.paths import ROOT
from support.stack import dev_process
from ttrelay_dev.local.collect_exchange import CollectExchange
from ttrelay_dev.local.inspector import Inspector

pytestmark = pytest.mark.browser
SETTLE_MS = 30_000  # batching window, one forward invocation, one feed poll
GRANTED = {"cmp": {"marketing": True}}


@pytest.fixture(scope="module")
def inspector_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("inspector-stack") / "dev.log"
    with dev_process(
        log, "--visibility-timeout", "3", "--parameter-overrides", "ForwardBatchWindowSeconds=1"
    ) as base:
        yield base


def send(page: Page, body: dict[str, Any]) -> int:
    """POSTs from the page itself, as a site's script would: the browser sets Origin and User-Agent."""
    status = page.evaluate(
        """(body) => fetch('/events', {method: 'POST', headers: {'content-type': 'application/json'},
                                       body: JSON.stringify(body)}).then((response) => response.status)""",
        body,
    )
    return int(status)


def row(page: Page, event_id: str) -> Locator:
    return page.locator(f'tr[data-event-id="{event_id}"]')


def test_an_empty_inspector_says_what_to_do(page: Page, inspector_stack: str) -> None:
    page.goto(f"{inspector_stack}/_local/inspector/")

    empty = page.locator(".empty")
    expect(empty).to_contain_text("No collect requests yet")
    expect(empty.locator("a")).to_have_attribute("href", "/demo/")
    expect(empty.locator("pre")).to_contain_text(f"curl -X POST {inspector_stack}/events")
    expect(page.locator("#status")).to_contain_text("events queue: 0 waiting")


def test_a_realistic_session_reads_well(page: Page, inspector_stack: str) -> None:
    """A forwarded order, a visit whose consent was sent under a misspelt key, a request with one unusable
    event, an order TikTok refuses for good: each explained on the page; also the README's screenshot."""
    faults = {"permanent_event_ids": ["order-1002"], "permanent_code": 40002}
    httpx.post(f"{inspector_stack}/_local/tiktok/faults", json=faults).raise_for_status()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{inspector_stack}/_local/inspector/")
    shopper = {"email": "jane.doe@example.com", "phone": "+33 6 12 34 56 78", "external_id": "customer-881"}
    context = {"page_url": f"{inspector_stack}/demo/thanks?ttclid=E.C.P.demo-click-2b9f"}
    purchase = {"event": "Purchase", "event_id": "order-1001", "properties": {"value": 25, "currency": "EUR"}}
    try:
        send(page, {"consent": GRANTED, "user": shopper, "context": context, "events": [purchase]})
        # The consent under a misspelt key: ignored, so nothing is sent, and the warning says why.
        send(page, {"consents": GRANTED, "events": [{"event": "ViewContent", "event_id": "view-2207"}]})
        cart = {"event": "AddToCart", "properties": {"value": 25, "currency": "EUR"}}
        send(
            page,
            {
                "consent": GRANTED,
                "events": [
                    {**cart, "event_id": "cart-3310"},
                    {**cart, "event_id": "cart-3311", "properties": {"value": 25, "currency": "euro"}},
                    {"event_id": "cart-3312", "properties": {"value": 25}},
                ],
            },
        )
        expect(row(page, "cart-3310")).to_have_attribute("data-status", "delivered", timeout=SETTLE_MS)
        # Sent last, so the failing order does not share a batch with the others.
        send(page, {"consent": GRANTED, "user": shopper, "events": [{**purchase, "event_id": "order-1002"}]})
        expect(row(page, "order-1002")).to_have_attribute("data-status", "parked", timeout=SETTLE_MS)
    finally:
        httpx.post(f"{inspector_stack}/_local/tiktok/faults", json={})
    expect(row(page, "order-1001")).to_have_attribute("data-status", "delivered")
    expect(row(page, "order-1002")).to_contain_text("code:40002")
    expect(row(page, "view-2207")).to_have_attribute("data-status", "dropped")
    typo = page.locator("article.request", has=row(page, "view-2207")).locator(".request-warnings")
    expect(typo).to_have_text("warning <key>: unknown top-level field, ignored; did you mean consent?")
    expect(row(page, "cart-3311")).to_contain_text("warning events.1.properties.currency")
    expect(row(page, "cart-3312")).to_have_attribute("data-status", "rejected")
    expect(row(page, "cart-3312")).to_contain_text("events.2.event")
    text = page.locator("main").inner_text()
    assert "jane.doe" not in text and "612345678" not in text and "customer-881" not in text
    if target := os.environ.get("TTRELAY_INSPECTOR_SCREENSHOT"):
        page.screenshot(path=str(ROOT / Path(target)), full_page=True)


def test_the_demo_links_to_the_inspector(page: Page, inspector_stack: str) -> None:
    page.goto(f"{inspector_stack}/demo/")
    page.click("#inspector-link")
    expect(page).to_have_url(f"{inspector_stack}/_local/inspector/")


def test_requests_appear_live_with_their_decision_and_delivery(page: Page, inspector_stack: str) -> None:
    page.goto(f"{inspector_stack}/_local/inspector/")

    assert (
        send(page, {"consent": GRANTED, "events": [{"event": "Purchase", "event_id": "live-granted-1"}]})
        == 202
    )
    assert send(page, {"events": [{"event": "ViewContent", "event_id": "live-dropped-1"}]}) == 202

    granted_row = page.locator('tr[data-event-id="live-granted-1"]')
    expect(granted_row).to_have_attribute("data-status", "delivered", timeout=SETTLE_MS)
    expect(granted_row).to_contain_text("HTTP 200 · code 0")
    granted = page.locator("article.request", has=granted_row)
    expect(granted).to_contain_text("Consent: forward")
    expect(granted).to_contain_text("grant:cmp")
    expect(granted).to_contain_text("cmp (request body / header)")

    dropped_row = page.locator('tr[data-event-id="live-dropped-1"]')
    expect(dropped_row).to_have_attribute("data-status", "dropped")
    dropped = page.locator("article.request", has=dropped_row)
    expect(dropped).to_have_attribute("data-outcome", "dropped")
    expect(dropped).to_contain_text("No consent signal, and the visitor's region needs opt-in: nothing sent")


def test_each_event_shows_where_the_page_got_it(page: Page, inspector_stack: str) -> None:
    """A request as the snippet sends a GA4 purchase from the dataLayer, beside an event with no source."""
    page.goto(f"{inspector_stack}/_local/inspector/")
    events = [
        {"event": "Purchase", "event_id": "T-source-1", "source": "dataLayer"},
        {"event": "Lead", "event_id": "source-none-1"},
    ]

    assert send(page, {"consent": GRANTED, "events": events}) == 202

    from_data_layer = row(page, "T-source-1")
    expect(from_data_layer).to_have_attribute("data-source", "dataLayer")
    expect(from_data_layer.locator("td.source")).to_have_text("dataLayer (GA4)")
    expect(row(page, "source-none-1").locator("td.source")).to_have_text("unknown")
    header = page.locator("article.request", has=from_data_layer).locator("th")
    expect(header).to_have_text(
        ["Event", "event_id", "Source", "What happened", "Events API answer", "Match keys sent"]
    )


def test_clearing_the_fakes_log_leaves_delivered_events_delivered(page: Page, inspector_stack: str) -> None:
    # The README's `DELETE /_local/tiktok/requests`: the inspector keeps its own record of deliveries.
    page.goto(f"{inspector_stack}/_local/inspector/")
    assert send(page, {"consent": GRANTED, "events": [{"event": "Purchase", "event_id": "cleared-1"}]}) == 202
    expect(row(page, "cleared-1")).to_have_attribute("data-status", "delivered", timeout=SETTLE_MS)

    assert httpx.delete(f"{inspector_stack}/_local/tiktok/requests").status_code == 200
    page.reload()

    expect(page.locator("#status")).to_contain_text("events queue: 0 waiting")
    expect(row(page, "cleared-1")).to_have_attribute("data-status", "delivered")
    expect(row(page, "cleared-1")).to_contain_text("HTTP 200 · code 0")


def test_an_event_retried_more_often_than_shown_says_which_attempts_are_shown(
    page: Page, inspector_stack: str
) -> None:
    # Six faults and then a delivery take minutes of real back-off, so the page gets the feed the
    # inspector itself makes of them.
    inspector = Inspector(lambda: {"visible": 0, "in_flight": 0, "dlq": 0}, lambda _size: [])
    body = json.dumps({"consent": GRANTED, "events": [{"event": "Purchase", "event_id": "retried-1"}]})
    accepted = json.dumps(
        {"accepted": 1, "dropped": 0, "decision": {"action": "forward", "reason": "grant:cmp"}}
    )
    inspector.record(CollectExchange.of("r1", 100.0, "/events", [], body.encode(), 202, accepted.encode()))
    for attempt, status in enumerate([500] * 6 + [200]):
        answer = {"code": 0, "message": "OK", "request_id": f"rq-{attempt}"} if status == 200 else "500"
        inspector.events_api_request(
            {
                "received_at": 101.0 + attempt,
                "status": status,
                "accepted": status == 200,
                "response": answer,
                "body": {"data": [{"event_id": "retried-1"}]},
            }
        )
    feed = json.dumps(inspector.feed())
    page.route(
        "**/_local/inspector/feed", lambda route: route.fulfill(content_type="application/json", body=feed)
    )
    page.goto(f"{inspector_stack}/_local/inspector/")

    retried = row(page, "retried-1")
    expect(retried).to_have_attribute("data-status", "delivered")
    expect(retried.locator(".attempts-shown")).to_have_text("last 5 of 7 attempts")
    expect(retried.locator(".attempt")).to_have_count(5)
