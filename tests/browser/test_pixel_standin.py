"""The pixel harness itself, without ttrelay: the base code queues, the stand-in library replays the queue
and then behaves as the pixel's cookie consent mode does. The mirroring and gate tests rely on this."""

import pytest
from pixel_page import Order, open_pixel_page
from playwright.sync_api import Page
from ttrelay_dev.local.stack import LOCAL_PIXEL

pytestmark = pytest.mark.browser

SHOPPER = {"email": "shopper@example.com"}


def test_the_library_replays_the_base_codes_queues_in_order(page: Page) -> None:
    # Given the pixel's base code, and calls made before its library arrives
    shop = open_pixel_page(
        page,
        hold_library=True,
        inline="ttq.identify({email: 'shopper@example.com'});"
        "ttq.track('AddToCart', {value: 5, currency: 'EUR'});"
        f"ttq.instance('{LOCAL_PIXEL}')"
        ".track('ViewContent', {content_id: 'SKU-1'}, {event_id: 'view-1'});",
    )
    # Then nothing is sent while they wait in the queue
    assert (
        page.evaluate("Array.isArray(ttq) && ttq.length") == 3
    )  # identify, track and the base code's page()
    assert shop.sent() == []

    # When the library arrives
    shop.library.arrive()

    # Then every queued call is sent once, in order, with the visitor identified before them
    assert shop.sent() == [
        {"pixel": LOCAL_PIXEL, "event": "Pageview", "event_id": None, "properties": {}, "user": None},
        {
            "pixel": LOCAL_PIXEL,
            "event": "AddToCart",
            "event_id": None,
            "properties": {"value": 5, "currency": "EUR"},
            "user": SHOPPER,
        },
        {
            "pixel": LOCAL_PIXEL,
            "event": "ViewContent",
            "event_id": "view-1",
            "properties": {"content_id": "SKU-1"},
            "user": SHOPPER,
        },
    ]
    assert [call["args"] for call in shop.calls("identify")] == [[SHOPPER]]
    # and the queues are empty, and later calls are sent at once
    assert page.evaluate(f"ttq.length + ttq._i['{LOCAL_PIXEL}'].length") == 0
    page.evaluate("ttq.track('Purchase', {value: 5}, {event_id: 'order-1'})")
    assert shop.tracked()[-1]["event_id"] == "order-1"
    assert shop.library.requests == 1


def test_a_wrapper_put_on_the_base_codes_stub_is_replaced_when_the_library_arrives(page: Page) -> None:
    # Given a script that wrapped the stub's ttq.track before the library arrived
    shop = open_pixel_page(
        page,
        hold_library=True,
        inline="window.seen = []; const stub = ttq.track;"
        "ttq.track = function () { seen.push(arguments[0]); return stub.apply(this, arguments); };",
    )
    page.evaluate("ttq.track('AddToCart')")
    # When the library arrives
    shop.library.arrive()
    page.evaluate("ttq.track('Purchase')")

    # Then it assigned its own method over the wrapper, which sees no later call
    assert page.evaluate("seen") == ["AddToCart"]
    assert [record["event"] for record in shop.tracked()] == ["AddToCart", "Purchase"]


def test_held_sends_wait_for_a_grant_and_a_revoke_drops_them(page: Page) -> None:
    # Given a pixel held right after the base code: its page() call came first and was sent, in order
    shop = open_pixel_page(page, order=Order.LIBRARY_FIRST, inline="ttq.holdConsent();")
    assert [record["event"] for record in shop.sent()] == ["Pageview"]
    # When the page tracks, the event is held
    page.evaluate("ttq.track('ViewContent', {}, {event_id: 'held-1'})")
    assert shop.tracked() == []
    # When consent is granted, the held sends go, and later ones go at once
    page.evaluate("ttq.grantConsent(); ttq.track('AddToCart', {}, {event_id: 'direct-1'})")
    assert [record["event"] for record in shop.sent()] == ["Pageview", "ViewContent", "AddToCart"]
    # When it is revoked, nothing is sent until the next grant
    page.evaluate("ttq.revokeConsent(); ttq.track('Purchase', {}, {event_id: 'revoked-1'})")
    page.evaluate("ttq.grantConsent(); ttq.track('Purchase', {}, {event_id: 'granted-again'})")
    assert [record["event_id"] for record in shop.tracked()] == ["held-1", "direct-1", "granted-again"]
    assert shop.consent_calls() == ["holdConsent", "grantConsent", "revokeConsent", "grantConsent"]


def test_a_revoke_drops_what_was_held(page: Page) -> None:
    # Given a held pixel with a purchase waiting
    shop = open_pixel_page(page, order=Order.LIBRARY_FIRST, inline="ttq.holdConsent();")
    page.evaluate("ttq.track('Purchase', {}, {event_id: 'held-purchase'})")
    # When it is revoked and later granted
    page.evaluate("ttq.revokeConsent(); ttq.grantConsent();")
    # Then the held purchase never went
    assert shop.tracked() == []


def test_a_pixel_that_was_never_loaded_sends_nothing(page: Page) -> None:
    shop = open_pixel_page(page, order=Order.LIBRARY_FIRST)
    page.evaluate("ttq.instance('COTHERPIXEL').track('Purchase', {}, {event_id: 'elsewhere'})")
    assert [record["pixel"] for record in shop.sent()] == [LOCAL_PIXEL]  # the page view only
