"""Google Consent Mode v2 as the snippet reads it from the dataLayer, with no wiring by the page
(docs/consent.md, "Consent Mode on the page"): a `default` is "not decided yet" and never reaches the
collector; an `update` is the visitor's choice; `wait_for_update` bounds the wait after a granting default.

The stack has no visitor location, so the collector applies its opt-in rules: Consent Mode grants only
with `ad_storage` and `ad_user_data` both granted.
"""

import time
from collections.abc import Callable
from typing import Any

import pytest
from datalayer_pages import GTAG, PIXEL_RECORDER, events_posted, gtag_consent, wait_on_page
from playwright.sync_api import Page
from support.stack import wait_for
from test_consent_queue import TC_GRANT, TCF_CMP

pytestmark = pytest.mark.browser

OpenPage = Callable[..., Page]
Delivered = Callable[[str], list[dict[str, Any]]]
TYPES = ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage")
ALL_DENIED = dict.fromkeys(TYPES, "denied")
ALL_GRANTED = dict.fromkeys(TYPES, "granted")
# What a CMP sets on every page load before the visitor chooses (Google's recommended EEA default).
DEFAULT_DENIED = gtag_consent("default", {**ALL_DENIED, "wait_for_update": 500})
# Kept as a promise on the page: evaluating the promise itself would wait for its answer.
PURCHASE = (
    "window.answer = ttrelay.track('Purchase', {value: 10, currency: 'EUR'}, {event_id: %r}); undefined;"
)
INIT = "ttrelay.init({debug: true});"
CONSENT_CALLS = ("holdConsent", "grantConsent", "revokeConsent")


def event_id(request: pytest.FixtureRequest) -> str:
    return f"{request.node.name}-{time.time_ns()}"  # unique across runs of one stack


def answer(page: Page) -> dict[str, Any]:
    return dict(page.evaluate("window.answer"))


def pixel_consent(page: Page) -> list[str]:
    """The consent calls the pixel received, in order."""
    return [call[0] for call in page.evaluate("window.__ttqCalls") if call[0] in CONSENT_CALLS]


def gcm_sent(posted: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [body["consent"]["gcm"] for body in posted if "gcm" in body.get("consent", {})]


@pytest.mark.parametrize(
    "update",
    [
        pytest.param("(state) => gtag('consent', 'update', state)", id="gtag"),
        pytest.param("(state) => dataLayer.push(['consent', 'update', state])", id="array"),
    ],
)
def test_events_held_under_a_denied_default_leave_after_the_granting_update(
    open_test_page: OpenPage, posted: list[dict[str, Any]], delivered: Delivered, request: Any, update: str
) -> None:
    # Given a page whose CMP set Consent Mode's default to denied while its banner is up, and the pixel
    page = open_test_page(PIXEL_RECORDER + GTAG + DEFAULT_DENIED, INIT)
    purchase = event_id(request)
    # When the visitor buys before choosing
    page.evaluate(PURCHASE % purchase)
    page.wait_for_timeout(800)  # past wait_for_update: a denied default still waits
    # Then nothing is sent, the default never reaches the collector, and the pixel is not granted
    assert events_posted(posted) == []
    assert gcm_sent(posted) == []
    assert "grantConsent" not in pixel_consent(page)

    # When the banner's accept sends the update
    page.evaluate(update, ALL_GRANTED)

    # Then the purchase leaves with the update's states, and the collector forwards it
    reply = answer(page)
    assert reply["status"] == 202, reply
    assert reply["body"]["decision"]["action"] == "forward", reply
    [body] = [body for body in posted if body["events"]]
    assert body["consent"]["gcm"] == ALL_GRANTED
    # and the pixel is granted with it
    assert pixel_consent(page)[-1] == "grantConsent"
    # and the Events API receives the purchase once
    wait_for(lambda: delivered(purchase), timeout=30)
    assert len(delivered(purchase)) == 1


def test_a_returning_visitors_update_before_the_snippet_loads_lets_events_go_at_once(
    open_test_page: OpenPage, posted: list[dict[str, Any]], request: Any
) -> None:
    # Given a returning visitor: the CMP set the default, then at once the stored choice as an update,
    # both before ttrelay.js loaded
    update = gtag_consent("update", ALL_GRANTED)
    page = open_test_page(GTAG + DEFAULT_DENIED + update, INIT)
    # When they buy
    page.evaluate(PURCHASE % event_id(request))

    # Then the purchase goes with the stored choice, and the collector forwards it
    reply = answer(page)
    assert reply["body"]["decision"]["action"] == "forward", reply
    [body] = [body for body in posted if body["events"]]
    assert body["consent"]["gcm"] == ALL_GRANTED


def test_with_only_a_denied_default_nothing_is_sent_and_events_are_discarded_after_the_wait(
    open_test_page: OpenPage, posted: list[dict[str, Any]], warnings: list[str]
) -> None:
    # Given a page whose visitor never answers the banner, waiting 300 ms at most
    page = open_test_page(PIXEL_RECORDER + GTAG + DEFAULT_DENIED, "ttrelay.init({consentWaitMs: 300});")
    # When they buy
    page.evaluate(PURCHASE % "default-only")

    # Then the purchase is discarded when the wait ends, never sent
    assert answer(page) == {"status": 0, "error": "consent_timeout"}
    page.wait_for_timeout(300)
    assert events_posted(posted) == []
    assert gcm_sent(posted) == []
    assert any("default-only) not sent: no consent choice within 300 ms" in line for line in warnings)
    # and the pixel's held copy goes too
    consent_calls = pixel_consent(page)
    assert consent_calls[-1] == "revokeConsent"
    assert "grantConsent" not in consent_calls


@pytest.mark.parametrize(
    "choice",
    [
        pytest.param(ALL_DENIED, id="all-denied"),
        pytest.param({**ALL_GRANTED, "ad_user_data": "denied"}, id="ad_user_data-denied"),
    ],
)
def test_a_denying_update_is_a_refusal(
    open_test_page: OpenPage, posted: list[dict[str, Any]], choice: dict[str, str]
) -> None:
    # Given a denied default and a purchase waiting for the visitor's choice
    page = open_test_page(PIXEL_RECORDER + GTAG + DEFAULT_DENIED, INIT)
    page.evaluate(PURCHASE % "update-denied")
    # When the banner's choice denies ad_storage or ad_user_data
    page.evaluate("(state) => gtag('consent', 'update', state)", choice)

    # Then the purchase is refused in the page, and the pixel revoked
    assert answer(page) == {"status": 0, "error": "consent_refused"}
    page.wait_for_timeout(300)
    assert events_posted(posted) == []
    assert pixel_consent(page)[-1] == "revokeConsent"
    assert "grantConsent" not in pixel_consent(page)


# Records when each request with events left, in the page's clock, so the wait is measured without the
# test's own latency (the snippet calls window.fetch at send time).
SEND_TIMES = """
window.__sentAt = [];
const pageFetch = window.fetch;
window.fetch = (url, options) => {
  if (options && String(options.body).includes('"event_id"')) window.__sentAt.push(performance.now());
  return pageFetch(url, options);
};
"""
GRANTED_DEFAULT = gtag_consent("default", {**ALL_GRANTED, "wait_for_update": 300})
GRANTED_DEFAULT += "window.__defaultAt = performance.now();"


def test_a_granting_default_holds_events_for_wait_for_update_then_sends_them_without_gcm(
    open_test_page: OpenPage, posted: list[dict[str, Any]]
) -> None:
    # Given a page whose default grants everything, with wait_for_update 300, and a purchase at once
    page = open_test_page(SEND_TIMES + GTAG + GRANTED_DEFAULT, INIT + PURCHASE % "granted-default")

    # Then the purchase leaves once the 300 ms have passed with no update
    reply = answer(page)
    waited = page.evaluate("window.__sentAt[0] - window.__defaultAt")
    assert 290 <= waited < 3000, waited
    # and without a Consent Mode signal: a default is not the visitor's choice (so opt-in rules drop it)
    [body] = [body for body in posted if body["events"]]
    assert "gcm" not in body["consent"]
    assert reply["body"]["decision"] == {"action": "drop", "regime": "opt_in", "reason": "no_consent_signal"}


def test_a_denying_update_within_wait_for_update_overrides_a_granting_default(
    open_test_page: OpenPage, posted: list[dict[str, Any]]
) -> None:
    # Given a granting default with wait_for_update 300, and a purchase at once
    page = open_test_page(GTAG + GRANTED_DEFAULT, INIT + PURCHASE % "denied-in-time")
    # When the CMP's update denies within the wait
    page.evaluate("(state) => gtag('consent', 'update', state)", ALL_DENIED)

    # Then the purchase is refused, never sent
    assert answer(page) == {"status": 0, "error": "consent_refused"}
    assert events_posted(posted) == []


@pytest.mark.parametrize(
    ("setup", "init", "decide", "signal"),
    [
        pytest.param(TCF_CMP, INIT, f"__cmp.choose({TC_GRANT!r}, [1, 3, 4, 7])", ("tcf", TC_GRANT), id="tcf"),
        pytest.param(
            "window.choice = 'pending';",
            "ttrelay.init({consent: () => window.choice, consentWaitMs: 60000});",
            "window.choice = {cmp: {marketing: true}}; ttrelay.consentChanged();",
            ("cmp", {"marketing": True}),
            id="page-cmp",
        ),
    ],
)
def test_another_explicit_signal_decides_while_the_default_stands(
    open_test_page: OpenPage,
    posted: list[dict[str, Any]],
    request: Any,
    setup: str,
    init: str,
    decide: str,
    signal: tuple[str, Any],
) -> None:
    # Given a denied Consent Mode default that no update follows, and a purchase waiting
    page = open_test_page(GTAG + DEFAULT_DENIED + setup, init)
    page.evaluate(PURCHASE % event_id(request))
    page.wait_for_timeout(300)
    assert events_posted(posted) == []
    # When the visitor grants through another signal: the TCF CMP's choice, or the page's own banner
    page.evaluate(decide)

    # Then the purchase leaves with that signal and no Consent Mode state, and the collector forwards it
    reply = answer(page)
    assert reply["body"]["decision"]["action"] == "forward", reply
    [body] = [body for body in posted if body["events"]]
    name, value = signal
    assert body["consent"][name] == value
    assert "gcm" not in body["consent"]


def test_with_the_collector_unreachable_the_pixel_follows_the_update_never_the_default(
    open_test_page: OpenPage, page: Page
) -> None:
    # Given a collector that cannot be reached, and a page whose granting default has passed its wait
    page.route("**/events", lambda route: route.abort())
    default = gtag_consent("default", {**ALL_GRANTED, "wait_for_update": 100})
    page = open_test_page(PIXEL_RECORDER + GTAG + default, INIT)
    page.wait_for_timeout(600)
    # Then the pixel stays held: a default is no one's choice
    assert "grantConsent" not in pixel_consent(page)
    # When the visitor's update grants
    page.evaluate("(state) => gtag('consent', 'update', state)", ALL_GRANTED)
    # Then the pixel follows it
    wait_on_page(page, lambda: "grantConsent" in pixel_consent(page), timeout_ms=5000)
