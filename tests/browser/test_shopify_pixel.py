"""The Shopify custom pixel (web/integrations/shopify/custom-pixel.js) as Shopify runs it: in an
`<iframe sandbox="allow-scripts">`, with stand-ins of `analytics`, `browser`, `init` and
`customerPrivacy`, sending to the local stack with its publishable site key. A shop visit is replayed
and what the fake Events API received is checked.

Run with `-s` to see the Purchase body TikTok received (issue 16's closing note quotes it).
"""

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pixel_page import until
from playwright.sync_api import Page
from shopify_page import SHOP, ShopifySandbox, checkout, open_sandbox, variant
from support.stack import wait_for
from ttrelay_dev.local.stack import LOCAL_PIXEL, LOCAL_SITE_KEY

pytestmark = pytest.mark.browser

Delivered = Callable[[str], list[dict[str, Any]]]
TTCLID = "E.C.P.shopifyVisit-1"
TTP = "2Kx9ttpFromTheStore"
EMAIL = "Shopper@Example.com"
PHONE = "+4915112345678"
CUSTOMER_ID = "7001"
SHIRT = variant("44001", "9001", "Linen Shirt", 40.0)
CAP = variant("44002", "9002", "Cap", 12.5)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def order_id() -> str:
    return f"{int(time.time_ns() // 1000)}"  # unique across runs of one stack


def queue_drained(stack: str) -> bool:
    state = httpx.get(f"{stack}/_local/queue").json()
    return bool(state["visible"] == 0 and state["in_flight"] == 0)


def shop_visit(shop: ShopifySandbox, order: str) -> list[dict[str, Any]]:
    """A visit from a TikTok ad: product page, cart, checkout, payment, thank-you page."""
    completed = checkout(
        [(SHIRT, 2), (CAP, 1)], 92.5, order, email=EMAIL, phone=PHONE, customer_id=CUSTOMER_ID
    )
    open_checkout = {**completed, "order": None, "email": None, "phone": None}
    return [
        shop.event("product_viewed", {"productVariant": SHIRT}),
        shop.event(
            "product_added_to_cart",
            {
                "cartLine": {
                    "merchandise": SHIRT,
                    "quantity": 2,
                    "cost": {"totalAmount": {"amount": 80.0, "currencyCode": "EUR"}},
                }
            },
            href=f"{SHOP}/products/linen-shirt",
        ),
        shop.event("checkout_started", {"checkout": open_checkout}, href=f"{SHOP}/checkouts/cn/1"),
        shop.event(
            "payment_info_submitted",
            {"checkout": {**open_checkout, "email": EMAIL}},
            href=f"{SHOP}/checkouts/cn/1",
        ),
        shop.event("checkout_completed", {"checkout": completed}, href=f"{SHOP}/checkouts/cn/1/thank-you"),
    ]


def test_a_consenting_visit_reaches_tiktok_with_the_order_as_its_purchase(
    page: Page, stack: str, delivered: Delivered
) -> None:
    # Given a visitor who lands from a TikTok ad and has allowed marketing, with TikTok's _ttp cookie
    shop = open_sandbox(
        page,
        stack,
        landing=f"{SHOP}/products/linen-shirt?ttclid={TTCLID}",
        marketing=True,
        customer={"id": CUSTOMER_ID, "email": None, "phone": None},
        cookies={"_ttp": TTP},
    )
    order = order_id()
    # When they shop and buy
    events = shop_visit(shop, order)

    # Then each event leaves from the sandbox (Origin null) with the site key, and is accepted
    until(page, lambda: len(shop.responses) == 5, timeout_ms=15_000)
    assert [response.status for response in shop.responses] == [202] * 5
    assert {request.header_value("origin") for request in shop.requests} == {"null"}
    assert all(f"site_key={LOCAL_SITE_KEY}" in request.url for request in shop.requests)
    assert {body["pixel_code"] for body in shop.bodies()} == {LOCAL_PIXEL}
    assert {event["source"] for body in shop.bodies() for event in body["events"]} == {"shopify"}
    # and TikTok receives each once, named as TikTok names them, under Shopify's event id
    expected = ["ViewContent", "AddToCart", "InitiateCheckout", "AddPaymentInfo"]
    for event, name in zip(events, expected, strict=False):
        [item] = wait_for(lambda event=event: delivered(event["id"]), timeout=30)
        assert item["event"] == name
        assert item["user"]["ttclid"] == TTCLID  # kept from the landing page
    # and the Purchase under the order id, with the buyer hashed and the checkout's contents and total
    [purchase] = wait_for(lambda: delivered(order), timeout=30)
    print(f"\n--- the Purchase TikTok received ---\n{json.dumps(purchase, indent=2)}")
    assert purchase["event"] == "Purchase"
    assert purchase["user"]["email"] == [sha256(EMAIL.lower())]
    assert purchase["user"]["phone"] == [sha256(PHONE)]
    assert purchase["user"]["external_id"] == [sha256(CUSTOMER_ID)]
    assert purchase["user"]["ttclid"] == TTCLID
    assert purchase["user"]["ttp"] == TTP
    assert purchase["properties"]["value"] == 92.5
    assert purchase["properties"]["currency"] == "EUR"
    assert purchase["properties"]["order_id"] == order
    assert purchase["properties"]["contents"] == [
        {
            "content_id": "44001",
            "content_name": "Linen Shirt",
            "price": 40.0,
            "quantity": 2,
            "brand": "Acme",
            "content_category": "Shirts",
        },
        {
            "content_id": "44002",
            "content_name": "Cap",
            "price": 12.5,
            "quantity": 1,
            "brand": "Acme",
            "content_category": "Shirts",
        },
    ]
    assert purchase["page"]["url"] == f"{SHOP}/checkouts/cn/1/thank-you"
    assert purchase["limited_data_use"] is False
    # and the click id is kept in the store's storage for the visit's later pages
    kept = json.loads(shop.local_storage()["ttrelay_ttclid"])
    assert kept["ttclid"] == TTCLID
    assert 29 * 86400 < kept["expires"] / 1000 - time.time() <= 30 * 86400


def test_a_reloaded_thank_you_page_counts_the_order_once(
    page: Page, stack: str, delivered: Delivered
) -> None:
    # Given a buyer on the thank-you page
    shop = open_sandbox(page, stack, landing=f"{SHOP}/", marketing=True)
    order = order_id()
    completed = {"checkout": checkout([(CAP, 1)], 12.5, order, email=EMAIL)}
    shop.event("checkout_completed", completed, href=f"{SHOP}/checkouts/cn/2/thank-you")
    wait_for(lambda: delivered(order), timeout=30)
    # When the page is reloaded and Shopify publishes checkout_completed again, under a new event id
    shop.event("checkout_completed", completed, href=f"{SHOP}/checkouts/cn/2/thank-you")

    # Then the second is sent under the same order id and accepted, and TikTok still has the order once
    until(page, lambda: len(shop.responses) == 2)
    assert [response.status for response in shop.responses] == [202, 202]
    assert [body["events"][0]["event_id"] for body in shop.bodies()] == [order, order]
    wait_for(lambda: queue_drained(stack), timeout=30)
    assert len(delivered(order)) == 1


def test_a_refusal_sends_nothing_and_keeps_no_click_id(page: Page, stack: str) -> None:
    # Given a visitor from an ad who has not chosen yet
    shop = open_sandbox(page, stack, landing=f"{SHOP}/?ttclid={TTCLID}", marketing=False)
    shop.event("product_viewed", {"productVariant": SHIRT})
    # When they refuse marketing in Shopify's banner, then go on and buy
    shop.consent(marketing=False)
    shop_visit(shop, order_id())

    # Then nothing is posted, neither what waited nor what came after
    page.wait_for_timeout(1500)
    assert shop.requests == []
    # and the click id was never written to the store's storage
    assert "ttrelay_ttclid" not in shop.local_storage()


def test_events_wait_for_the_visitors_choice_and_leave_when_it_grants(
    page: Page, stack: str, delivered: Delivered
) -> None:
    # Given a visitor whose choice is not known yet (Shopify starts with marketingAllowed false)
    shop = open_sandbox(page, stack, landing=f"{SHOP}/products/cap?ttclid={TTCLID}", marketing=False)
    viewed = shop.event("product_viewed", {"productVariant": CAP})
    added = shop.event(
        "product_added_to_cart",
        {
            "cartLine": {
                "merchandise": CAP,
                "quantity": 1,
                "cost": {"totalAmount": {"amount": 12.5, "currencyCode": "EUR"}},
            }
        },
    )
    page.wait_for_timeout(500)
    # Then nothing leaves yet
    assert shop.requests == []

    # When the visitor allows marketing and refuses the sale of their data (a US-style opt-out)
    shop.consent(marketing=True, sale_of_data=False)

    # Then the waiting events leave, with the marketing grant and the sale opt-out as a US Privacy string
    until(page, lambda: len(shop.responses) >= 1)
    [body] = shop.bodies()
    assert [event["event_id"] for event in body["events"]] == [viewed["id"], added["id"]]
    assert body["consent"] == {"cmp": {"marketing": True}, "usp": "1YYN"}
    assert body["context"]["ttclid"] == TTCLID
    # and TikTok gets them (the local stack's location is unknown, where a US opt-out changes nothing)
    for event in (viewed, added):
        [item] = wait_for(lambda event=event: delivered(event["id"]), timeout=30)
        assert item["limited_data_use"] is False


def test_a_wrong_site_key_is_refused_and_the_console_says_why(
    page: Page, stack: str, console: list[str], delivered: Delivered
) -> None:
    # Given the pixel with a site key the collector does not know (a typo, or a revoked key)
    shop = open_sandbox(page, stack, landing=f"{SHOP}/", marketing=True, site_key="ttrelay_pk_notAKey")
    viewed = shop.event("product_viewed", {"productVariant": CAP})

    # Then the collector refuses it with 401 invalid_site_key, readable by the sandbox, and queues nothing
    until(page, lambda: shop.responses)
    [response] = shop.responses
    print(f"\n--- a wrong site key ---\n{response.status} {response.text()}")
    assert response.status == 401
    assert response.json()["error"] == "invalid_site_key"
    assert response.headers["access-control-allow-origin"] == "*"
    until(page, lambda: "[ttrelay] the collector answered 401: invalid_site_key" in console)
    page.wait_for_timeout(1500)  # longer than the forwarder's batch window
    assert delivered(viewed["id"]) == []
