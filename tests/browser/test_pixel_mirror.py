"""ttrelay.js beside a shop's own TikTok pixel calls (issue 15, item 1): each `ttq.track` / `ttq.identify`
reaches the pixel unchanged and the collector once, under one event_id, whatever the load order.

The visitor is in the US (the stack acting as CloudFront says so), where no consent signal is needed: the
collector forwards, so its decision grants the pixel and both channels send everything.
"""

import hashlib
import time
from collections.abc import Callable
from typing import Any

import pytest
from pixel_page import Order, PixelPage, auto_init, collector_events, open_pixel_page, until
from playwright.sync_api import Page
from support.stack import wait_for
from ttrelay_dev.local.stack import LOCAL_PIXEL

US_VISITOR = {"x-origin-verify": "local-origin-verify-secret", "cloudfront-viewer-country": "US"}
pytestmark = [pytest.mark.browser, pytest.mark.browser_context_args(extra_http_headers=US_VISITOR)]

Delivered = Callable[[str], list[dict[str, Any]]]
EMAIL = "Shopper.Mirror@Example.com"
CART = {"content_id": "SKU-1", "content_type": "product", "value": 25, "currency": "EUR", "quantity": 1}
# Written as shops write them, right after the base code: these calls are queued until the library arrives.
INLINE = f"ttq.identify({{email: '{EMAIL}'}}); ttq.track('AddToCart', {CART});"


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns()}"  # the dedup table keeps ids for 48 h: one per test run


def later_calls(page: Page, purchase_id: str, registration_id: str) -> None:
    """The shop's calls after the snippet is on the page: a purchase with the order id as event id, a view
    through the pixel's instance (no id), and a direct ttrelay.track."""
    page.evaluate(
        """([purchase, registration, pixel]) => {
          ttq.track('Purchase', {value: 25, currency: 'EUR', order_id: purchase}, {event_id: purchase});
          ttq.instance(pixel).track('ViewContent', {content_id: 'SKU-2', content_type: 'product'});
          window.direct = ttrelay.track('CompleteRegistration', {}, {event_id: registration});
        }""",
        [purchase_id, registration_id, LOCAL_PIXEL],
    )


def by_event(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One record per event name; a name seen twice fails the test (each action once per channel)."""
    names = [record["event"] for record in records]
    assert len(names) == len(set(names)), names
    return {record["event"]: record for record in records}


@pytest.mark.parametrize(
    ("order", "library_before_calls"),
    [
        (Order.SNIPPET_FIRST, False),
        (Order.SNIPPET_FIRST, True),
        (Order.BASE_CODE_FIRST, False),
        (Order.LIBRARY_FIRST, True),
    ],
    ids=["snippet-first", "snippet-first-library-early", "base-code-first", "library-first"],
)
def test_each_pixel_call_reaches_both_channels_once_under_one_event_id(
    page: Page, posted: list[dict[str, Any]], delivered: Delivered, order: Order, library_before_calls: bool
) -> None:
    # Given a shop page with the pixel, its own calls, and ttrelay.js configured by its tag alone
    # (a snippet that comes after the library cannot see the calls the library already took from the queue:
    # on that page the shop's first calls come after the snippet)
    late = order is Order.LIBRARY_FIRST
    shop = open_pixel_page(
        page,
        order,
        snippet=auto_init(pixel_code=LOCAL_PIXEL),
        inline="" if late else INLINE,
        hold_library=True,
    )
    if late:
        page.evaluate(INLINE)
    purchase, registration = unique("order-1"), unique("signup")
    # When the shop tracks (before or after the pixel's library arrives)
    if library_before_calls:
        shop.library.arrive()
    later_calls(page, purchase, registration)
    if not library_before_calls:
        shop.library.arrive()

    # Then the pixel sends each event once, unchanged, with an event id on each
    names = {"AddToCart", "Purchase", "ViewContent", "CompleteRegistration"}
    until(page, lambda: len(shop.tracked()) >= 4 and len(collector_events(posted)) >= 4)
    page.wait_for_timeout(500)  # time for a double to show
    pixel = by_event(shop.tracked())
    assert set(pixel) == names
    assert pixel["AddToCart"]["properties"] == CART
    assert pixel["Purchase"]["event_id"] == purchase
    assert pixel["CompleteRegistration"]["event_id"] == registration
    assert all(record["event_id"] and record["pixel"] == LOCAL_PIXEL for record in pixel.values())
    assert all(record["user"] == {"email": EMAIL} for record in pixel.values())
    assert len(shop.calls("identify")) == 1
    assert [record["event"] for record in shop.sent()].count("Pageview") == 1
    # and the collector gets each once, under the pixel's event id, saying where it came from
    collector = by_event(collector_events(posted))
    assert {name: event["event_id"] for name, event in collector.items()} == {
        name: record["event_id"] for name, record in pixel.items()
    }
    assert collector["AddToCart"]["properties"] == CART
    assert {name: event.get("source") for name, event in collector.items()} == {
        "AddToCart": "ttq",
        "Purchase": "ttq",
        "ViewContent": "ttq",
        "CompleteRegistration": "ttrelay",
    }
    assert all(body.get("user") == {"email": EMAIL} for body in posted if body["events"])
    assert page.evaluate("window.direct")["status"] == 202
    # and the Events API receives each once under that id, the email hashed
    digest = hashlib.sha256(EMAIL.lower().encode()).hexdigest()
    for name, record in pixel.items():
        [item] = wait_for(lambda record=record: delivered(record["event_id"]), timeout=30)
        assert item["event"] == name
        assert item["user"]["email"] == [digest]
    # and the pixel was held until the collector's decision, which granted it
    assert shop.consent_calls() == ["holdConsent", "grantConsent"]


def mirrored_and_direct(shop: PixelPage, posted: list[dict[str, Any]], delivered: Delivered) -> list[str]:
    """Tracks AddToCart on the pixel and a Purchase with ttrelay.track; gives the names the collector got
    once the purchase was delivered."""
    purchase = unique("direct-purchase")
    shop.page.evaluate(
        "(id) => { ttq.track('AddToCart', {value: 5, currency: 'EUR'}); "
        "return ttrelay.track('Purchase', {value: 5, currency: 'EUR'}, {event_id: id}); }",
        purchase,
    )
    wait_for(lambda: delivered(purchase), timeout=30)
    # the pixel still sends both, under one id each
    assert [(record["event"], bool(record["event_id"])) for record in shop.tracked()] == [
        ("AddToCart", True),
        ("Purchase", True),
    ]
    return [event["event"] for event in collector_events(posted)]


def test_mirror_false_leaves_the_pixels_calls_to_the_pixel(
    page: Page, posted: list[dict[str, Any]], delivered: Delivered
) -> None:
    # Given a shop that turned mirroring off on the tag
    shop = open_pixel_page(page, Order.LIBRARY_FIRST, snippet=auto_init(mirror="false"))
    # When it tracks on the pixel and through ttrelay
    # Then the collector gets only what ttrelay.track sent
    assert mirrored_and_direct(shop, posted, delivered) == ["Purchase"]


@pytest.mark.parametrize(
    "mirror_events", ["['Purchase']", "(name) => name === 'Purchase'"], ids=["list", "function"]
)
def test_mirror_events_chooses_which_pixel_calls_are_mirrored(
    page: Page, posted: list[dict[str, Any]], delivered: Delivered, mirror_events: str
) -> None:
    # Given a shop that mirrors only purchases
    shop = open_pixel_page(
        page, Order.BASE_CODE_FIRST, snippet={}, init=f"ttrelay.init({{mirrorEvents: {mirror_events}}});"
    )
    # When it tracks an AddToCart on the pixel and a purchase
    purchase = unique("mirrored-purchase")
    page.evaluate(
        "(id) => { ttq.track('AddToCart', {value: 5, currency: 'EUR'});"
        " ttq.track('Purchase', {value: 5, currency: 'EUR'}, {event_id: id}); }",
        purchase,
    )
    # Then only the purchase reaches the collector, under the pixel's id
    [item] = wait_for(lambda: delivered(purchase), timeout=30)
    assert item["event"] == "Purchase"
    page.wait_for_timeout(300)
    assert [(event["event"], event["event_id"]) for event in collector_events(posted)] == [
        ("Purchase", purchase)
    ]
    # and the pixel sent both
    assert [record["event"] for record in shop.tracked()] == ["AddToCart", "Purchase"]
