"""One decision for both channels by default (issue 15, item 2): ttrelay.js holds the shop's pixel until
the collector decides, with a decision probe when no event asks, and releases or revokes it by that
decision; without an answer, only the page's own explicit grant or refusal moves it.

The stack runs without CloudFront: the visitor's location is unknown, so the strictest (opt-in) rules apply.
"""

from typing import Any

import pytest
from pixel_page import GTAG, Order, auto_init, collector_events, consent_mode, open_pixel_page, until
from playwright.sync_api import Page, Route

pytestmark = pytest.mark.browser

UPDATE_GRANTED = GTAG + consent_mode("update", "granted")
UPDATE_DENIED = GTAG + consent_mode("update", "denied")
DEFAULT_GRANTED = GTAG + consent_mode("default", "granted", wait_for_update=200)
DEFAULT_DENIED = GTAG + consent_mode("default", "denied")
UNREACHABLE = "http://127.0.0.1:9/events"  # nothing listens on the discard port


def probes(posted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [body for body in posted if body["events"] == []]


def test_the_pixel_waits_for_the_collectors_decision_asked_by_a_probe(
    page: Page, posted: list[dict[str, Any]]
) -> None:
    # Given a collector whose answer the test holds back, and a shop whose visitor granted in Consent Mode
    answers: list[Route] = []

    def hold(route: Route) -> None:
        answers.append(route)

    page.route("**/events", hold)
    shop = open_pixel_page(page, Order.BASE_CODE_FIRST, snippet=auto_init(), setup=UPDATE_GRANTED)

    # Then, with no event to send, a probe asks for the decision, carrying the visitor's choice
    until(page, lambda: probes(posted))
    [probe] = posted
    assert probe["consent"]["gcm"]["ad_storage"] == "granted"
    # and until it is answered the pixel sends nothing, not even the page view
    page.wait_for_timeout(300)
    assert shop.sent() == []
    assert shop.consent_calls() == ["holdConsent"]

    # When the collector answers (forward)
    page.unroute("**/events")
    for route in answers:
        route.continue_()
    # Then the pixel is granted and sends what it held, then each later event at once
    until(page, shop.sent)
    assert [record["event"] for record in shop.sent()] == ["Pageview"]
    assert shop.consent_calls() == ["holdConsent", "grantConsent"]
    page.evaluate("ttq.track('AddToCart', {value: 5, currency: 'EUR'}, {event_id: 'after-grant'})")
    assert [record["event_id"] for record in shop.tracked()] == ["after-grant"]


def test_a_drop_revokes_the_pixel(page: Page, posted: list[dict[str, Any]]) -> None:
    # Given a shop with no consent signal at all, in an opt-in region
    shop = open_pixel_page(page, Order.BASE_CODE_FIRST, snippet=auto_init())
    # Then the probe's answer is a drop, and the pixel is revoked
    until(page, lambda: "revokeConsent" in shop.consent_calls())
    assert shop.consent_calls() == ["holdConsent", "revokeConsent"]
    assert [body["events"] for body in posted] == [[]]
    # and it sends nothing: neither the page view it held nor a later purchase
    page.evaluate("ttq.track('Purchase', {value: 5, currency: 'EUR'}, {event_id: 'dropped-purchase'})")
    page.wait_for_timeout(300)
    assert shop.sent() == []


def refuse_with_403(route: Route) -> None:
    route.fulfill(status=403, content_type="application/json", body='{"error": "forbidden_origin"}')


@pytest.mark.parametrize("failure", ["unreachable", "http-403"])
@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (UPDATE_GRANTED, ["holdConsent", "grantConsent"]),
        (UPDATE_DENIED, ["holdConsent", "revokeConsent"]),
        (DEFAULT_GRANTED, ["holdConsent"]),
        (DEFAULT_DENIED, ["holdConsent"]),
    ],
    ids=["update-granted", "update-denied", "default-granted", "default-denied"],
)
def test_without_a_decision_the_pixel_follows_only_an_explicit_choice_of_the_page(
    page: Page, failure: str, setup: str, expected: list[str]
) -> None:
    # Given a collector that cannot be reached, or refuses the request without a decision
    if failure == "unreachable":
        snippet = auto_init(endpoint=UNREACHABLE)
    else:
        snippet = auto_init()
        page.route("**/events", refuse_with_403)
    # When a shop whose Consent Mode state is `setup` tracks a purchase
    shop = open_pixel_page(page, Order.BASE_CODE_FIRST, snippet=snippet, setup=setup, init="")
    page.evaluate("ttq.track('Purchase', {value: 5, currency: 'EUR'}, {event_id: 'no-decision'})")
    page.wait_for_timeout(1000)  # past wait_for_update, and past the collector's failure

    # Then the pixel is granted or revoked only by an update, never by a default
    assert shop.consent_calls() == expected
    sent = [record["event"] for record in shop.sent()]
    assert sent == (["Pageview", "Purchase"] if "grantConsent" in expected else [])


def test_an_event_that_times_out_waiting_for_consent_revokes_the_pixel(
    page: Page, posted: list[dict[str, Any]], warnings: list[str]
) -> None:
    # Given a shop whose Consent Mode defaults deny while the banner is open, waiting 600 ms at most
    shop = open_pixel_page(
        page, Order.BASE_CODE_FIRST, snippet=auto_init(consent_wait_ms="600"), setup=DEFAULT_DENIED
    )
    # When the visitor buys before choosing
    page.evaluate("ttq.track('Purchase', {value: 5, currency: 'EUR'}, {event_id: 'timed-out'})")
    # Then both copies wait: the pixel stays held
    page.wait_for_timeout(200)
    assert shop.consent_calls() == ["holdConsent"]
    assert shop.sent() == []
    # and when the wait is over, the server copy is discarded and the pixel revoked, its copy with it
    until(page, lambda: "revokeConsent" in shop.consent_calls())
    assert shop.consent_calls() == ["holdConsent", "revokeConsent"]
    assert any("timed-out) not sent: no consent choice within 600 ms" in line for line in warnings)
    # a later grant cannot bring the purchase back on either channel
    page.evaluate(consent_mode("update", "granted"))
    page.wait_for_timeout(500)
    assert "Purchase" not in [record["event"] for record in shop.sent()]
    assert "timed-out" not in [event["event_id"] for event in collector_events(posted)]
