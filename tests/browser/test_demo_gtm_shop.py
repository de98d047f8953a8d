"""The "GTM + GA4 + Consent Mode" demo shop (web/demo/gtm-shop.html) in Chromium against the local stack: a
page whose own scripts only do what a GTM site does, with ttrelay configured by its script tag alone."""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from datalayer_pages import events_posted, wait_on_page
from playwright.sync_api import Locator, Page, expect
from support.paths import ROOT
from support.stack import wait_for

pytestmark = pytest.mark.browser

Delivered = Callable[[str], list[dict[str, Any]]]
DEMO = ROOT / "web" / "demo"
SHIRT = {"content_id": "SKU-LINEN-01", "content_name": "Linen shirt", "price": 25.0, "quantity": 1,
         "content_category": "Shirts", "brand": "Demo Apparel"}  # fmt: skip
GRANTED = dict.fromkeys(("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage"), "granted")


def open_shop(page: Page) -> Locator:
    page.goto("/demo/gtm-shop.html")
    banner = page.locator("#cc-main .cm")
    expect(banner).to_be_visible()
    return banner


def transaction_id(page: Page) -> str:
    """The transaction_id of the page's gtag('event', 'purchase', ...) in its dataLayer."""
    return str(
        page.evaluate(
            "Array.from(dataLayer).map((e) => Array.from(e))"
            ".find((e) => e[0] === 'event' && e[1] === 'purchase')[2].transaction_id"
        )
    )


def test_after_accept_all_the_shops_ga4_events_reach_the_events_api(
    page: Page, posted: list[dict[str, Any]], delivered: Delivered
) -> None:
    # Given the shop's product page, whose view_item was pushed on load while the banner waits
    banner = open_shop(page)
    page.wait_for_timeout(800)  # past the default's wait_for_update: a denied default keeps waiting
    assert events_posted(posted) == []
    # When the visitor accepts all, adds the shirt to the cart and buys it
    banner.get_by_role("button", name="Accept all").click()
    wait_on_page(page, lambda: events_posted(posted))
    page.click("#add-to-cart")
    page.click("#buy")

    # Then the three GA4 events leave as TikTok events, with the banner's Consent Mode update
    wait_on_page(page, lambda: len(events_posted(posted)) >= 3)
    page.wait_for_timeout(700)  # a double would have shown by now
    sent = events_posted(posted)
    assert [(event["event"], event["source"]) for event in sent] == [
        ("ViewContent", "dataLayer"),
        ("AddToCart", "dataLayer"),
        ("Purchase", "dataLayer"),
    ]
    with_events = [body for body in posted if body["events"]]
    assert [body["consent"].get("gcm") for body in with_events] == [GRANTED] * len(with_events)
    # and the purchase is keyed by the order's transaction id
    order = transaction_id(page)
    assert sent[2]["event_id"] == order
    # and the fake Events API receives each once, mapped from the GA4 items
    received = {
        event["event"]: wait_for(lambda event=event: delivered(event["event_id"]), timeout=30)
        for event in sent
    }
    summary = {
        name: [(item["event_id"], item["properties"]) for item in items] for name, items in received.items()
    }
    print("fake Events API received:", json.dumps(summary, indent=2))
    for name, items in received.items():
        [item] = items
        properties = item["properties"]
        assert properties["contents"] == [SHIRT], name
        assert (properties["value"], properties["currency"], properties["content_type"]) == (
            25.0,
            "EUR",
            "product",
        )
    assert received["Purchase"][0]["properties"]["order_id"] == order


def test_after_reject_all_no_event_leaves_the_page(page: Page, posted: list[dict[str, Any]]) -> None:
    # Given the shop's product page and its banner
    banner = open_shop(page)
    # When the visitor rejects all, then adds to cart and buys all the same
    banner.get_by_role("button", name="Reject all").click()
    page.click("#add-to-cart")
    page.click("#buy")

    # Then the page's dataLayer has its events, and ttrelay sends none of them
    page.wait_for_timeout(1000)
    assert transaction_id(page)
    assert events_posted(posted) == []
    # and whatever reached the collector carried the refusal, never the default
    assert all(body["consent"].get("gcm", {}).get("ad_storage") == "denied" for body in posted)


def test_the_shops_own_scripts_never_call_ttrelay() -> None:
    # Given the demo page and its script
    html = (DEMO / "gtm-shop.html").read_text()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.DOTALL)

    # Then ttrelay appears only as a script tag configured by its attributes, as a tag template loads it
    [tag] = [attributes for attributes, _ in scripts if "ttrelay" in attributes]
    assert 'src="/sdk/ttrelay.js"' in tag
    assert 'data-endpoint="/events"' in tag
    assert "data-data-layer" in tag
    # and neither the inline scripts nor the shop's own file mention it
    assert [body for _, body in scripts if "ttrelay" in body] == []
    assert "ttrelay" not in (DEMO / "gtm-shop.js").read_text()
