"""The snippet through the CloudFront front door (FrontDoor=cloudfront): origin access control to the
function URL refuses a POST without its body's SHA-256 in x-amz-content-sha256, so `payloadHash` sends
it, on every POST and on page hide. The local stack's /_t/ path answers as the front door does."""

import hashlib
import json
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, Request
from support.stack import delivered_items, wait_for

pytestmark = pytest.mark.browser

OpenPage = Callable[..., Page]
ACCEPTED = "consent: () => ({cmp: {marketing: true}}), debug: true"
# The front door's documented endpoint, with payloadHash left at its default.
INIT_AT_T = f"ttrelay.init({{endpoint: '/_t/events', {ACCEPTED}}});"
# A US Privacy API that never answers keeps the flush gathering for 300 ms, so a page hide takes the event.
SEND_SPY = """
window.__uspapi = () => {};
window.__beacons = []; window.__fetches = [];
const realBeacon = navigator.sendBeacon.bind(navigator), realFetch = window.fetch;
navigator.sendBeacon = (url, data) => { window.__beacons.push(url); return realBeacon(url, data); };
window.fetch = (url, options) => {
  window.__fetches.push({url, keepalive: options.keepalive, headers: options.headers});
  return realFetch(url, options);
};
"""


@pytest.fixture
def collector_posts(page: Page) -> list[Request]:
    """Every POST the page made to the collector, as Chromium sent it (headers and body bytes)."""
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request) if request.method == "POST" else None)
    return seen


def test_a_tracked_event_carries_its_bodys_sha256_and_passes_the_front_door(
    open_test_page: OpenPage, front_door: str, collector_posts: list[Request], warnings: list[str]
) -> None:
    # Given a page whose endpoint is the front door's /_t/events (payloadHash on by default there)
    page = open_test_page("", INIT_AT_T, origin=front_door)
    query = "Grüße aus Köln, 東京 💡"  # more UTF-8 bytes than characters: the hash must be of the bytes
    # When an event with non-ASCII text is tracked
    answer = page.evaluate("(query) => ttrelay.track('Search', {query}, {event_id: 'fd-track-1'})", query)

    # Then the collector accepted it: the emulated origin access control let it through
    assert answer["status"] == 202, answer
    assert answer["body"]["accepted"] == 1, answer
    # and the header is Python's SHA-256 of the exact bytes Chromium sent
    [request] = collector_posts
    body = request.post_data_buffer
    assert body is not None
    assert request.headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert json.loads(body.decode("utf-8"))["events"][0]["properties"] == {"query": query}
    # and the event is delivered with its text intact
    [item] = wait_for(lambda: delivered_items(front_door, "fd-track-1"), timeout=30)
    assert item["event"] == "Search"
    assert not warnings


def test_a_page_hide_flush_leaves_by_keepalive_fetch_with_the_hash(
    open_test_page: OpenPage, front_door: str, collector_posts: list[Request]
) -> None:
    # Given a page through the front door, with payloadHash asked for explicitly
    page = open_test_page(
        SEND_SPY,
        f"ttrelay.init({{endpoint: '/_t/events', payloadHash: true, {ACCEPTED}}});",
        origin=front_door,
    )
    # When an event is tracked and the page hides while the snippet still gathers consent
    answer = page.evaluate(
        "new Promise((done) => {"
        "  const sent = ttrelay.track('Purchase', {value: 9.5, currency: 'EUR'}, {event_id: 'fd-hide-1'});"
        "  setTimeout(() => window.dispatchEvent(new Event('pagehide')), 100);"
        "  sent.then(done);"
        "})"
    )

    # Then it left by a keepalive fetch carrying the hash (sendBeacon cannot), not by beacon
    assert answer == {"status": 0, "error": "sent_by_beacon"}
    assert page.evaluate("__beacons") == []
    wait_for(lambda: collector_posts, timeout=5)
    [fetched] = page.evaluate("__fetches")
    assert (fetched["url"], fetched["keepalive"]) == ("/_t/events", True)
    [request] = collector_posts
    body = request.post_data_buffer
    assert body is not None
    assert fetched["headers"]["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    # and the front door let it through to the Events API
    [item] = wait_for(lambda: delivered_items(front_door, "fd-hide-1"), timeout=30)
    assert item["properties"] == {"value": 9.5, "currency": "EUR"}


def test_an_event_tracked_as_the_visitor_navigates_away_still_arrives(
    open_test_page: OpenPage, front_door: str
) -> None:
    # Given a page through the front door whose consent gathering is still under way
    page = open_test_page(SEND_SPY, INIT_AT_T, origin=front_door)
    page.evaluate("ttrelay.track('AddToCart', {}, {event_id: 'fd-leave-1'}); undefined")
    # When the visitor leaves the page at once (a real unload, not a dispatched event)
    page.goto("about:blank")

    # Then the digest finished and the keepalive fetch made it out during the unload
    [item] = wait_for(lambda: delivered_items(front_door, "fd-leave-1"), timeout=30)
    assert item["event"] == "AddToCart"


def test_without_the_hash_the_front_door_refuses_and_the_snippet_warns(
    open_test_page: OpenPage, front_door: str, collector_posts: list[Request], warnings: list[str]
) -> None:
    # Given a page through the front door with payloadHash turned off
    page = open_test_page(
        "", f"ttrelay.init({{endpoint: '/_t/events', payloadHash: false, {ACCEPTED}}});", origin=front_door
    )
    # When an event is tracked
    answer = page.evaluate("ttrelay.track('Lead', {}, {event_id: 'fd-unsigned-1'})")

    # Then it was sent without the header and refused as Lambda refuses it, before the collector ran
    [request] = collector_posts
    assert "x-amz-content-sha256" not in request.headers
    assert answer["status"] == 403, answer
    assert "signature we calculated does not match" in answer["body"]["message"]
    # and the console names the event
    assert [line for line in warnings if "fd-unsigned-1" in line] == [
        "[ttrelay] Lead (event_id fd-unsigned-1) not accepted by the collector (HTTP 403)"
    ]


NO_SUBTLE_CRYPTO = "Object.defineProperty(Crypto.prototype, 'subtle', {get: () => undefined});"


def test_without_crypto_subtle_nothing_is_sent_and_each_event_is_warned_about(
    open_test_page: OpenPage, front_door: str, collector_posts: list[Request], warnings: list[str]
) -> None:
    # Given a page where crypto.subtle is missing, as on a plain-http page
    page = open_test_page(NO_SUBTLE_CRYPTO, INIT_AT_T, origin=front_door)
    # When an event is tracked, and another as the page hides
    answers = page.evaluate(
        "Promise.all([ttrelay.track('Lead', {}, {event_id: 'fd-nosubtle-1'}),"
        " new Promise((done) => setTimeout(() => {"
        "   const last = ttrelay.track('Purchase', {}, {event_id: 'fd-nosubtle-2'});"
        "   window.dispatchEvent(new Event('pagehide')); last.then(done); }, 200))])"
    )

    # Then no request is made that the front door would refuse, and each event says why
    assert answers == [{"status": 0, "error": "payload_hash_unavailable"}] * 2
    assert collector_posts == []
    for event_id in ("fd-nosubtle-1", "fd-nosubtle-2"):
        [warning] = [line for line in warnings if event_id in line]
        assert "not sent: payloadHash needs crypto.subtle" in warning


def test_without_front_door_the_local_t_path_needs_no_hash(stack: str) -> None:
    # Given the default stack (FrontDoor=none), where /_t/ stands for a site's own CloudFront behaviour
    body = '{"consent": {"cmp": {"marketing": true}}, "events": [{"event": "Lead", "event_id": "no-fd-1"}]}'
    # When a POST without x-amz-content-sha256 reaches /_t/events
    answer = httpx.post(
        f"{stack}/_t/events", content=body, headers={"content-type": "text/plain", "origin": stack}
    )
    # Then the collector takes it, as before the front door existed
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == 1
