"""GA4 dataLayer mode (init option `dataLayer`): the ecommerce events a GTM or gtag.js page pushes reach the
collector as TikTok events, and the fake Events API receives them mapped (docs/events.md, "GA4 dataLayer").

Every page here has accepted marketing through the init consent callback, so the collector (opt-in rules
locally) forwards; Consent Mode read from the dataLayer is tests/browser/test_consent_mode.py's subject.
"""

import time
from collections.abc import Callable
from typing import Any

import pytest
from datalayer_pages import GTAG, PIXEL_RECORDER, events_posted, pixel_calls, wait_on_page
from playwright.sync_api import Page
from support.stack import wait_for

pytestmark = pytest.mark.browser

OpenPage = Callable[..., Page]
Delivered = Callable[[str], list[dict[str, Any]]]
ACCEPTED = "consent: () => ({cmp: {marketing: true}}), debug: true"
WITH_DATALAYER = f"ttrelay.init({{dataLayer: true, {ACCEPTED}}});"
# What the mapping reads from a GA4 item (plus fields it must leave behind: variant, index, discount).
SHIRT = {"item_id": "SKU-SHIRT", "item_name": "Linen shirt", "price": 25.0, "quantity": 1,
         "item_category": "Shirts", "item_brand": "Acme", "item_variant": "blue", "index": 0}  # fmt: skip
SOCKS = {"item_id": "SKU-SOCKS", "item_name": "Wool socks", "price": 7.5, "quantity": 2,
         "item_category": "Socks", "item_brand": "Acme", "discount": 1.0}  # fmt: skip
# The properties the mapping decides; the collector adds search_string beside query, which is its own rule.
MAPPED = ("contents", "value", "currency", "order_id", "query")


def content(item: dict[str, Any]) -> dict[str, Any]:
    return {"content_id": item["item_id"], "content_name": item["item_name"], "price": item["price"],
            "quantity": item["quantity"], "content_category": item["item_category"],
            "brand": item["item_brand"]}  # fmt: skip


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns()}"  # unique across the session's stack: the dedup table remembers


def mapped(properties: dict[str, Any]) -> dict[str, Any]:
    return {key: properties[key] for key in MAPPED if key in properties}


def ga4_table(transaction_id: str) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """(GA4 event, its parameters, the TikTok event, the mapped properties TikTok must receive)."""
    one = {"currency": "EUR", "value": 25.0, "items": [SHIRT]}
    two = {"currency": "EUR", "value": 40.0, "items": [SHIRT, SOCKS]}
    one_out = {"contents": [content(SHIRT)], "value": 25.0, "currency": "EUR"}
    two_out = {"contents": [content(SHIRT), content(SOCKS)], "value": 40.0, "currency": "EUR"}
    purchase = {**two, "transaction_id": transaction_id, "value": 44.9, "tax": 2.1, "shipping": 4.9}
    return [
        ("view_item", one, "ViewContent", one_out),
        ("add_to_wishlist", one, "AddToWishlist", one_out),
        ("add_to_cart", two, "AddToCart", two_out),
        ("begin_checkout", two, "InitiateCheckout", two_out),
        ("add_payment_info", {**two, "payment_type": "Credit Card"}, "AddPaymentInfo", two_out),
        ("purchase", purchase, "Purchase", {**two_out, "value": 44.9, "order_id": transaction_id}),
        ("search", {"search_term": "linen shirt"}, "Search", {"query": "linen shirt"}),
        ("generate_lead", {"currency": "EUR", "value": 50}, "Lead", {"value": 50, "currency": "EUR"}),
        ("sign_up", {"method": "email"}, "CompleteRegistration", {}),
    ]


# GTM's form resets the ecommerce object before each push; search, generate_lead and sign_up are not
# ecommerce events, so both kinds of page send them through gtag.
PUSH_GTM = """(rows) => rows.forEach(([name, params]) => {
  if (!params.items) { gtag('event', name, params); return; }
  dataLayer.push({ecommerce: null});
  dataLayer.push({event: name, ecommerce: params});
})"""
PUSH_GTAG = "(rows) => rows.forEach(([name, params]) => gtag('event', name, params))"


def posted_named(posted: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [event for event in events_posted(posted) if event["event"] == name]


@pytest.mark.parametrize("push", [pytest.param(PUSH_GTM, id="gtm"), pytest.param(PUSH_GTAG, id="gtag")])
def test_each_ga4_event_reaches_the_events_api_as_its_tiktok_event(
    open_test_page: OpenPage, posted: list[dict[str, Any]], delivered: Delivered, push: str
) -> None:
    # Given a shop page in dataLayer mode whose visitor accepted marketing
    page = open_test_page(GTAG, WITH_DATALAYER)
    transaction_id = unique("T")
    table = ga4_table(transaction_id)
    # When it pushes each GA4 event of the mapping table
    page.evaluate(push, [[name, params] for name, params, _, _ in table])

    # Then each leaves once, as its TikTok event, marked as coming from the dataLayer
    wait_on_page(page, lambda: len(events_posted(posted)) >= len(table))
    page.wait_for_timeout(700)  # past the 500 ms the snippet may wait for the page's own ttq call
    sent = events_posted(posted)
    assert [event["event"] for event in sent] == [tiktok for _, _, tiktok, _ in table]
    assert {event["source"] for event in sent} == {"dataLayer"}
    # and the purchase's event_id is the transaction id, so the order is counted once wherever it comes from
    assert posted_named(posted, "Purchase")[0]["event_id"] == transaction_id
    # and the Events API receives each with the mapped contents, value, currency, order id and query
    for event, (_, params, tiktok, expected) in zip(sent, table, strict=True):
        [item] = wait_for(lambda event=event: delivered(event["event_id"]), timeout=30)
        assert (item["event"], mapped(item["properties"])) == (tiktok, expected)
        if "items" in params:
            assert item["properties"]["content_type"] == "product", item


@pytest.mark.parametrize(
    ("option", "layer"),
    [pytest.param("true", "dataLayer", id="dataLayer"), pytest.param("'shopLayer'", "shopLayer", id="named")],
)
def test_events_pushed_before_and_after_init_are_each_sent_once(
    open_test_page: OpenPage, posted: list[dict[str, Any]], option: str, layer: str
) -> None:
    # Given a page that pushed a view_item before the snippet loaded (GTM pages push from the start)
    early = f"window.{layer} = window.{layer} || []; {layer}.push({{event: 'view_item', ecommerce: "
    early += "{currency: 'EUR', value: 25, items: [{item_id: 'SKU-EARLY', price: 25, quantity: 1}]}});"
    page = open_test_page(early, f"ttrelay.init({{dataLayer: {option}, {ACCEPTED}}});")
    # When it pushes an add_to_cart after init
    page.evaluate(
        f"{layer}.push({{ecommerce: null}}); {layer}.push({{event: 'add_to_cart', ecommerce: "
        "{currency: 'EUR', value: 7.5, items: [{item_id: 'SKU-LATE', price: 7.5, quantity: 1}]}})"
    )

    # Then both leave, each once, with its own item
    wait_on_page(page, lambda: len(events_posted(posted)) >= 2)
    page.wait_for_timeout(800)  # time enough for a double to show
    sent = events_posted(posted)
    assert [(event["event"], event["properties"]["contents"][0]["content_id"]) for event in sent] == [
        ("ViewContent", "SKU-EARLY"),
        ("AddToCart", "SKU-LATE"),
    ]


def test_an_ecommerce_reset_keeps_the_last_events_items_out_of_the_next(
    open_test_page: OpenPage, posted: list[dict[str, Any]]
) -> None:
    # Given a page in dataLayer mode that added two items to the cart, with a value and a coupon
    page = open_test_page(GTAG, WITH_DATALAYER)
    page.evaluate(
        "(items) => { dataLayer.push({ecommerce: null});"
        " dataLayer.push({event: 'add_to_cart', ecommerce: {currency: 'EUR', value: 40, coupon: 'SPRING',"
        " items}}); }",
        [SHIRT, SOCKS],
    )
    # When it resets the ecommerce object and pushes a view_item of one item, without a value
    page.evaluate(
        "(item) => { dataLayer.push({ecommerce: null});"
        " dataLayer.push({event: 'view_item', ecommerce: {currency: 'EUR', items: [item]}}); }",
        SOCKS,
    )

    # Then the ViewContent carries that one item and nothing of the cart: no stale item, no stale value
    wait_on_page(page, lambda: posted_named(posted, "ViewContent"))
    [view] = posted_named(posted, "ViewContent")
    assert view["properties"]["contents"] == [content(SOCKS)]
    assert "value" not in view["properties"]
    [cart] = posted_named(posted, "AddToCart")
    assert cart["properties"]["contents"] == [content(SHIRT), content(SOCKS)]


def test_universal_analytics_enhanced_ecommerce_objects_are_read(
    open_test_page: OpenPage, posted: list[dict[str, Any]], delivered: Delivered
) -> None:
    # Given an older shop page that pushes Universal Analytics Enhanced Ecommerce objects
    page = open_test_page(GTAG, WITH_DATALAYER)
    order = unique("UA")
    product = {"id": "SKU-UA", "name": "Canvas bag", "price": "19.90", "brand": "Acme", "category": "Bags",
               "quantity": 2}  # fmt: skip
    # When it pushes a product detail, an add to cart, a checkout step and a purchase (the detail and the
    # purchase with no event key, as Google's UA guide shows them: read on the page view)
    page.evaluate(
        """([product, order]) => {
          dataLayer.push({ecommerce: {currencyCode: 'EUR', detail: {products: [product]}}});
          dataLayer.push({ecommerce: null});
          dataLayer.push({event: 'addToCart', ecommerce: {currencyCode: 'EUR', add: {products: [product]}}});
          dataLayer.push({ecommerce: null});
          dataLayer.push({event: 'checkout', ecommerce: {currencyCode: 'EUR',
                          checkout: {actionField: {step: 1}, products: [product]}}});
          dataLayer.push({ecommerce: null});
          dataLayer.push({ecommerce: {currencyCode: 'EUR',
                          purchase: {actionField: {id: order, revenue: '39.80'}, products: [product]}}});
        }""",
        [product, order],
    )

    # Then each becomes its TikTok event, and the purchase is keyed by the order id
    wait_on_page(page, lambda: len(events_posted(posted)) >= 4)
    sent = events_posted(posted)
    assert [event["event"] for event in sent] == ["ViewContent", "AddToCart", "InitiateCheckout", "Purchase"]
    assert sent[3]["event_id"] == order
    # and the Events API receives the products as contents, with the currency and the order's value and id
    bag = {"content_id": "SKU-UA", "content_name": "Canvas bag", "price": 19.9, "quantity": 2,
           "content_category": "Bags", "brand": "Acme"}  # fmt: skip
    for event in sent:
        [item] = wait_for(lambda event=event: delivered(event["event_id"]), timeout=30)
        assert item["properties"]["contents"] == [bag], item
        assert item["properties"]["currency"] == "EUR", item
    [purchase] = delivered(order)
    assert (purchase["properties"]["value"], purchase["properties"]["order_id"]) == (39.8, order)


def test_a_universal_analytics_purchase_under_a_ga4_event_name_keeps_its_order_id(
    open_test_page: OpenPage, posted: list[dict[str, Any]]
) -> None:
    # Given a page half-way from UA to GA4: a UA purchase object pushed under the event name "purchase"
    page = open_test_page(GTAG, WITH_DATALAYER)
    order = unique("UA-GA4")
    page.evaluate(
        """(order) => dataLayer.push({event: 'purchase', ecommerce: {currencyCode: 'EUR', purchase: {
             actionField: {id: order, revenue: '19.90'}, products: [{id: 'SKU-UA', price: '19.90'}]}}})""",
        order,
    )

    # Then the Purchase is the UA order: its id, value and products
    wait_on_page(page, lambda: events_posted(posted))
    [purchase] = events_posted(posted)
    assert purchase["event_id"] == order, purchase
    assert purchase["properties"]["order_id"] == order
    assert purchase["properties"]["value"] == 19.9
    assert purchase["properties"]["contents"] == [{"content_id": "SKU-UA", "price": 19.9}]


def test_pushes_that_are_not_mapped_ecommerce_events_are_ignored(
    open_test_page: OpenPage, posted: list[dict[str, Any]]
) -> None:
    # Given a page in dataLayer mode
    page = open_test_page(GTAG, WITH_DATALAYER)
    # When it pushes what every GTM page pushes, GA4 events outside the table, then one add_to_cart
    page.evaluate(
        """() => {
          gtag('js', new Date());
          gtag('config', 'G-TESTTEST01');
          dataLayer.push({event: 'gtm.js', 'gtm.start': Date.now()});
          dataLayer.push({event: 'page_view', page_location: location.href});
          dataLayer.push({event: 'scroll', percent_scrolled: 90});
          gtag('event', 'login', {method: 'email'});
          dataLayer.push({ecommerce: null});
          dataLayer.push({event: 'view_item_list', ecommerce: {items: [{item_id: 'SKU-LIST'}]}});
          dataLayer.push({ecommerce: null});
          dataLayer.push({event: 'remove_from_cart', ecommerce: {items: [{item_id: 'SKU-GONE'}]}});
          dataLayer.push(['set', {user_id: 'not-an-event'}]);
          dataLayer.push({ecommerce: null});
          dataLayer.push({event: 'add_to_cart', ecommerce: {currency: 'EUR', value: 5,
                                                            items: [{item_id: 'SKU-MAPPED'}]}});
        }"""
    )

    # Then only the add_to_cart leaves
    wait_on_page(page, lambda: events_posted(posted))
    page.wait_for_timeout(700)
    assert [event["event"] for event in events_posted(posted)] == ["AddToCart"]


# ---- with the TikTok pixel on the page ----


def test_with_the_pixel_a_mapped_event_reaches_ttq_once_under_the_collectors_event_id(
    open_test_page: OpenPage, posted: list[dict[str, Any]]
) -> None:
    # Given a page with the pixel and dataLayer mode, and no ttq.track call of its own
    page = open_test_page(PIXEL_RECORDER + GTAG, WITH_DATALAYER)
    # When it pushes an add_to_cart
    page.evaluate(
        "(items) => { dataLayer.push({ecommerce: null});"
        " dataLayer.push({event: 'add_to_cart', ecommerce: {currency: 'EUR', value: 40, items}}); }",
        [SHIRT, SOCKS],
    )

    # Then the collector gets one AddToCart, and the pixel one, under the same event_id
    wait_on_page(page, lambda: posted_named(posted, "AddToCart"))
    page.wait_for_timeout(800)  # a double on either channel would have shown by now
    [server] = posted_named(posted, "AddToCart")
    [(name, properties, options)] = pixel_calls(page, "track")
    assert (name, options["event_id"]) == ("AddToCart", server["event_id"])
    # and the pixel gets the same mapped properties
    assert properties["contents"] == [content(SHIRT), content(SOCKS)]
    assert (properties["value"], properties["currency"]) == (40, "EUR")


def test_when_the_page_tracks_the_event_on_ttq_itself_only_its_call_counts(
    open_test_page: OpenPage, posted: list[dict[str, Any]], delivered: Delivered
) -> None:
    # Given a page with the pixel and dataLayer mode whose own tag also calls ttq.track for add_to_cart
    page = open_test_page(PIXEL_RECORDER + GTAG, WITH_DATALAYER)
    own_id = unique("page-atc")
    # When it pushes the add_to_cart and, 200 ms later, calls ttq.track('AddToCart') itself
    page.evaluate(
        """([items, ownId]) => {
          dataLayer.push({ecommerce: null});
          dataLayer.push({event: 'add_to_cart', ecommerce: {currency: 'EUR', value: 40, items}});
          setTimeout(() => ttq.track('AddToCart', {value: 40, currency: 'EUR'}, {event_id: ownId}), 200);
        }""",
        [[SHIRT, SOCKS], own_id],
    )

    # Then each channel gets the AddToCart once: the page's call, under the page's event_id
    wait_on_page(page, lambda: posted_named(posted, "AddToCart"))
    page.wait_for_timeout(800)
    [server] = posted_named(posted, "AddToCart")
    assert (server["event_id"], server["source"]) == (own_id, "ttq")
    assert [(name, options["event_id"]) for name, _, options in pixel_calls(page, "track")] == [
        ("AddToCart", own_id)
    ]
    # and TikTok's Events API receives it once
    wait_for(lambda: delivered(own_id), timeout=30)
    assert len(delivered(own_id)) == 1
