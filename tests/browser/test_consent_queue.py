"""Queue-until-consent and one decision for both channels, with fake CMPs on a test page of the stack.

The stack runs without CloudFront, so the visitor's location is unknown: the strictest (opt-in) rules,
where an event needs a grant (a TC string with purposes 1, 3, 4 and 7 and consent for the local stack's
TikTok vendor id, or the page's marketing choice).
"""

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pixel_page import GTAG, Order, auto_init, consent_mode, open_pixel_page, until
from playwright.sync_api import BrowserContext, Page
from support.encoders import TcCore, gpp_string, tc_string, vendor_section
from support.stack import wait_for
from ttrelay_dev.local.stack import LOCAL_TIKTOK_VENDOR_ID

pytestmark = pytest.mark.browser

OpenPage = Callable[..., Page]
Delivered = Callable[[str], list[dict[str, Any]]]
TODAY_DS = int(time.time() // 86_400 * 86_400 * 10)  # CMPs write day-rounded deciseconds
TIKTOK = int(LOCAL_TIKTOK_VENDOR_ID)
TC_GRANT = tc_string(
    TcCore(
        created_ds=TODAY_DS,
        last_updated_ds=TODAY_DS,
        vendor_consents=vendor_section(max_vendor_id=TIKTOK, ids=[TIKTOK]),
    ).bits()
)
TC_REFUSE = tc_string(TcCore(created_ds=TODAY_DS, last_updated_ds=TODAY_DS, purpose_consents=(1,)).bits())
ALL_REQUIRED = [1, 3, 4, 7]

# A stand-in for the pixel with its cookie consent calls: records every call as [method, ...args].
PIXEL_STUB = """
window.__ttqCalls = [];
window.ttq = {};
for (const method of ["track", "holdConsent", "grantConsent", "revokeConsent"]) {
  window.ttq[method] = (...args) => window.__ttqCalls.push([method, ...args]);
}
"""
# A TCF CMP whose banner is up: it answers addEventListener at once and again when the visitor chooses.
TCF_CMP = """
window.__cmp = (() => {
  const listeners = [];
  let tcData = {eventStatus: "cmpuishown", gdprApplies: true, tcString: "", purpose: {consents: {}}};
  window.__tcfapi = (command, version, callback) => {
    if (command === "addEventListener") { listeners.push(callback); callback(tcData, true); }
  };
  return {
    choose(tcString, purposes) {
      const consents = Object.fromEntries(purposes.map((id) => [id, true]));
      tcData = {eventStatus: "useractioncomplete", gdprApplies: true, tcString, purpose: {consents}};
      listeners.forEach((callback) => callback(tcData, true));
    },
  };
})();
"""
WITH_PIXEL = "ttrelay.init({pixelConsent: true, debug: true});"
# Kept as a promise on the page: evaluating the promise itself would wait for its answer.
PURCHASE = (
    "window.answer = ttrelay.track('Purchase', {value: 10, currency: 'EUR'}, {event_id: %r}); undefined;"
)


def event_id(request: pytest.FixtureRequest) -> str:
    return f"{request.node.name}-{time.time_ns()}"  # unique across runs of one stack


def pixel_methods(page: Page) -> list[str]:
    return [call[0] for call in page.evaluate("window.__ttqCalls")]


def answer(page: Page) -> dict[str, Any]:
    return dict(page.evaluate("window.answer"))


def queue_drained(stack: str) -> bool:
    state = httpx.get(f"{stack}/_local/queue").json()
    return bool(state["visible"] == 0 and state["in_flight"] == 0)


def test_undecided_events_wait_and_are_delivered_once_after_a_grant(
    open_test_page: OpenPage, posted: list[dict[str, Any]], stack: str, delivered: Delivered, request: Any
) -> None:
    # Given a page whose TCF banner is up, and a pixel held by ttrelay
    page = open_test_page(PIXEL_STUB + TCF_CMP, WITH_PIXEL)
    purchase = event_id(request)
    # When the visitor buys before choosing
    page.evaluate(PURCHASE % purchase)
    page.wait_for_timeout(300)  # several batching delays
    # Then nothing is sent, and the pixel stays held
    assert posted == []
    assert pixel_methods(page) == ["holdConsent", "track"]

    # When the visitor grants every required purpose
    page.evaluate("(tc) => __cmp.choose(tc, [1, 3, 4, 7])", TC_GRANT)

    # Then the purchase leaves, with the new TC string, and the collector forwards it
    reply = answer(page)
    assert reply["status"] == 202
    assert reply["body"]["decision"]["action"] == "forward", reply
    [body] = posted
    assert body["consent"]["tcf"] == TC_GRANT
    # and the pixel is granted in step with the collector's decision
    assert pixel_methods(page) == ["holdConsent", "track", "grantConsent"]
    # and the Events API gets it exactly once
    wait_for(lambda: delivered(purchase), timeout=30)
    wait_for(lambda: queue_drained(stack), timeout=30)
    assert len(delivered(purchase)) == 1


def test_a_refusal_is_final_for_the_page_view(
    open_test_page: OpenPage, posted: list[dict[str, Any]], warnings: list[str], request: Any
) -> None:
    # Given an undecided visitor with a purchase waiting
    page = open_test_page(
        PIXEL_STUB + TCF_CMP + "localStorage.setItem('ttrelay_token', 'earlier');", WITH_PIXEL
    )
    purchase = event_id(request)
    page.evaluate(PURCHASE % purchase)
    # When they refuse (purpose 1 only), then change their mind and grant everything
    page.evaluate("(tc) => __cmp.choose(tc, [1])", TC_REFUSE)
    refused = answer(page)
    page.evaluate("(tc) => __cmp.choose(tc, [1, 3, 4, 7])", TC_GRANT)
    later = page.evaluate("ttrelay.track('AddToCart', {}, {event_id: 'after-grant'})")

    # Then neither event is ever sent, and both promises say why
    assert refused == {"status": 0, "error": "consent_refused"}
    assert later == {"status": 0, "error": "consent_refused"}
    page.wait_for_timeout(300)
    # (a token was kept, so one decision probe carrying the refusal goes, to expire the cookie: no event)
    assert [body["events"] for body in posted] == [[]]
    assert posted[0]["consent"]["tcf"] == TC_REFUSE
    # and the pixel is revoked at the refusal and stays so; the stored token is gone
    assert pixel_methods(page) == ["holdConsent", "track", "revokeConsent", "track"]
    assert page.evaluate("localStorage.getItem('ttrelay_token')") is None
    assert any(f"Purchase (event_id {purchase}) not sent: the visitor refused" in line for line in warnings)


@pytest.mark.parametrize(
    "hide",
    [
        "window.dispatchEvent(new Event('pagehide'))",
        "Object.defineProperty(document, 'visibilityState', {get: () => 'hidden'});"
        "document.dispatchEvent(new Event('visibilitychange'))",
    ],
    ids=["pagehide", "visibilitychange"],
)
def test_undecided_events_are_discarded_when_the_page_hides(
    open_test_page: OpenPage, posted: list[dict[str, Any]], warnings: list[str], hide: str
) -> None:
    # Given an undecided visitor with a purchase waiting
    page = open_test_page(TCF_CMP)
    page.evaluate(PURCHASE % "hidden-undecided")
    page.wait_for_timeout(150)
    # When the page is hidden before they choose, and a grant comes afterwards
    page.evaluate(hide)
    page.evaluate("(tc) => __cmp.choose(tc, [1, 3, 4, 7])", TC_GRANT)

    # Then the purchase was thrown away: no beacon, no request
    assert answer(page) == {"status": 0, "error": "page_hidden"}
    page.wait_for_timeout(200)
    assert posted == []
    assert any("hidden-undecided) not sent: the page was hidden" in line for line in warnings)


def test_events_are_discarded_after_the_maximum_wait(
    open_test_page: OpenPage, posted: list[dict[str, Any]], warnings: list[str]
) -> None:
    # Given a page that lets events wait 300 ms for a choice
    page = open_test_page(TCF_CMP, "ttrelay.init({consentWaitMs: 300});")
    # When the visitor buys and chooses nothing in time
    started = time.monotonic()
    page.evaluate(PURCHASE % "too-late")
    assert answer(page) == {"status": 0, "error": "consent_timeout"}
    assert time.monotonic() - started < 5
    # Then a later grant sends nothing: the wait failed closed
    page.evaluate("(tc) => __cmp.choose(tc, [1, 3, 4, 7])", TC_GRANT)
    page.wait_for_timeout(200)
    assert posted == []
    assert any("too-late) not sent: no consent choice within 300 ms" in line for line in warnings)


def test_waiting_events_are_bounded_oldest_dropped_first(
    open_test_page: OpenPage, warnings: list[str]
) -> None:
    # Given an undecided visitor
    page = open_test_page(TCF_CMP)
    # When 101 events wait for the choice
    page.evaluate(
        "window.answers = Array.from({length: 101},"
        " (_, i) => ttrelay.track('ViewContent', {}, {event_id: 'v' + i}));"
        "undefined;"
    )
    # Then the oldest is dropped with a warning, and the others still wait
    assert page.evaluate("answers[0]") == {"status": 0, "error": "queue_full"}
    assert any("(event_id v0) not sent: more than 100 events waiting" in line for line in warnings)
    assert not any("(event_id v1)" in line for line in warnings)


def test_gpp_events_wait_until_the_signal_is_ready(
    open_test_page: OpenPage, posted: list[dict[str, Any]]
) -> None:
    # Given a GPP CMP that is not ready yet
    gpp = gpp_string([(2, TC_GRANT)])
    cmp = """
    window.__gppListeners = [];
    window.__gppPing = {signalStatus: "not ready", gppString: "", applicableSections: [-1]};
    window.__gpp = (command, callback) => {
      if (command === "addEventListener") {
        __gppListeners.push(callback);
        callback({eventName: "listenerRegistered", data: true, pingData: __gppPing}, true);
      }
    };
    """
    page = open_test_page(cmp)
    page.evaluate(PURCHASE % "gpp-wait")
    page.wait_for_timeout(300)
    assert posted == []
    # When it becomes ready with the visitor's choice
    page.evaluate(
        "(gpp) => { __gppPing = {signalStatus: 'ready', gppString: gpp, applicableSections: [2]};"
        "const event = {eventName: 'signalStatus', data: 'ready', pingData: __gppPing};"
        "__gppListeners.forEach((callback) => callback(event, true)); }",
        gpp,
    )
    # Then the purchase leaves with the GPP string, for the collector to judge
    assert answer(page)["status"] == 202
    [body] = posted
    assert (body["consent"]["gpp"], body["consent"]["gpp_sid"]) == (gpp, [2])


def test_the_page_callback_holds_events_until_consent_changed(
    open_test_page: OpenPage, posted: list[dict[str, Any]]
) -> None:
    # Given a page whose own banner says "pending"
    page = open_test_page(
        "window.choice = 'pending';", "ttrelay.init({consent: () => window.choice, consentWaitMs: 60000});"
    )
    page.evaluate(PURCHASE % "callback-wait")
    page.wait_for_timeout(300)
    assert posted == []
    # When the visitor accepts and the page says so
    page.evaluate("window.choice = {cmp: {marketing: true}}; ttrelay.consentChanged();")
    # Then the purchase leaves with the page's signal, and the collector forwards it
    assert answer(page)["body"]["decision"]["action"] == "forward"
    [body] = posted
    assert body["consent"] == {"cmp": {"marketing": True}}


# ---- one decision for both channels, and what the browser may keep ----


def test_a_collector_drop_revokes_the_pixel_forgets_the_token_and_warns(
    open_test_page: OpenPage, context: BrowserContext, warnings: list[str]
) -> None:
    # Given a page without a CMP whose tag manager passes the marketing choice on (never a hold or a
    # refusal in the browser: only the collector judges it), and a visitor who had accepted
    page = open_test_page(PIXEL_STUB + "window.ttrelayConsent = {cmp: {marketing: true}};", WITH_PIXEL)
    page.evaluate(PURCHASE % "before-drop")
    assert answer(page)["body"]["decision"]["action"] == "forward"
    assert page.evaluate("localStorage.getItem('ttrelay_token')")
    assert "ttrelay" in {cookie.get("name") for cookie in context.cookies()}
    # When they withdraw it and the next event goes
    page.evaluate("window.ttrelayConsent = {cmp: {marketing: false}};")
    page.evaluate(PURCHASE % "dropped")

    # Then the collector drops it, and the console says so with the decision's reason
    decision = answer(page)["body"]["decision"]
    assert decision["action"] == "drop"
    assert (
        f"[ttrelay] Purchase (event_id dropped) dropped by the collector: consent "
        f"{decision['regime']}/{decision['reason']}"
    ) in warnings
    # and the pixel goes from granted to revoked, and nothing stays in the browser
    assert pixel_methods(page) == ["holdConsent", "track", "grantConsent", "track", "revokeConsent"]
    assert page.evaluate("localStorage.getItem('ttrelay_token')") is None
    assert "ttrelay" not in {cookie.get("name") for cookie in context.cookies()}


def relay_cookie(context: BrowserContext) -> bool:
    return "ttrelay" in {cookie.get("name") for cookie in context.cookies()}


def withdrawal_probe(page: Page, context: BrowserContext, posted: list[dict[str, Any]]) -> dict[str, Any]:
    """After a withdrawal with no event to send: the probe that had the collector expire its HttpOnly
    cookie, once the cookie is gone, and the stored token gone too."""
    wait_for(lambda: not relay_cookie(context), timeout=20)
    probe = posted[-1]
    assert probe["events"] == []
    assert page.evaluate("localStorage.getItem('ttrelay_token')") is None
    return probe


def test_a_withdrawal_with_no_event_to_send_expires_the_cookie_through_a_probe(
    open_test_page: OpenPage, context: BrowserContext, posted: list[dict[str, Any]], request: Any
) -> None:
    # Given a visitor who accepted, so that the collector set its HttpOnly click-id cookie
    page = open_test_page(
        PIXEL_STUB + "window.choice = {cmp: {marketing: true}};",
        "ttrelay.init({pixelConsent: true, debug: true, consent: () => window.choice});",
        query="?ttclid=E.C.P.withdrawal",
    )
    page.evaluate(PURCHASE % event_id(request))
    assert answer(page)["body"]["decision"]["action"] == "forward"
    assert relay_cookie(context)

    # When they withdraw consent in the banner and no event follows
    page.evaluate("window.choice = {cmp: {marketing: false}}; ttrelay.consentChanged();")

    # Then a probe without events carries the refusal, and the collector expires the cookie
    probe = withdrawal_probe(page, context, posted)
    assert probe["consent"]["cmp"] == {"marketing": False}
    assert pixel_methods(page)[-1] == "revokeConsent"


def test_a_consent_mode_withdrawal_on_a_pixel_shop_expires_the_cookie_and_revokes_the_pixel(
    page: Page, context: BrowserContext, posted: list[dict[str, Any]], request: Any
) -> None:
    # Given a pixel shop with ttrelay as one tag, where the visitor accepted in Consent Mode and bought
    shop = open_pixel_page(
        page,
        Order.BASE_CODE_FIRST,
        snippet=auto_init(),
        setup=GTAG + consent_mode("update", "granted"),
        query="?ttclid=E.C.P.pixelwithdrawal",
    )
    page.evaluate(
        "(id) => ttq.track('Purchase', {value: 10, currency: 'EUR'}, {event_id: id})", event_id(request)
    )
    until(page, lambda: relay_cookie(context))
    assert shop.consent_calls() == ["holdConsent", "grantConsent"]

    # When they withdraw in the banner (a Consent Mode update) and no event follows
    page.evaluate(consent_mode("update", "denied"))

    # Then a probe carries the refusal, the cookie and the token are gone, and the pixel is revoked
    probe = withdrawal_probe(page, context, posted)
    assert probe["consent"]["gcm"]["ad_storage"] == "denied"
    assert shop.consent_calls()[-1] == "revokeConsent"
    # and the pixel sends nothing more
    page.evaluate("ttq.track('AddToCart', {value: 10, currency: 'EUR'}, {event_id: 'after-withdrawal'})")
    page.wait_for_timeout(300)
    assert "after-withdrawal" not in [record["event_id"] for record in shop.tracked()]


# Acting as CloudFront in front of the local stack: a US visitor, where opting out of sale means limited.
US_VISITOR = {"x-origin-verify": "local-origin-verify-secret", "cloudfront-viewer-country": "US"}


@pytest.mark.browser_context_args(extra_http_headers=US_VISITOR)
def test_limited_revokes_the_pixel_and_removes_the_token_and_cookie(
    open_test_page: OpenPage, context: BrowserContext
) -> None:
    # Given a US visitor whose US Privacy string says "not opted out"
    usp = "window.usp = '1YNN'; window.__uspapi = (c, v, cb) => cb({uspString: window.usp}, true);"
    page = open_test_page(PIXEL_STUB + usp, WITH_PIXEL)
    page.evaluate(PURCHASE % "us-forward")
    # Then the collector forwards: the pixel is granted, token and cookie are set
    first = answer(page)["body"]
    assert first["decision"]["action"] == "forward", first
    assert page.evaluate("localStorage.getItem('ttrelay_token')") == first["token"]
    assert "ttrelay" in {cookie.get("name") for cookie in context.cookies()}
    assert pixel_methods(page)[-1] == "grantConsent"

    # When they opt out of sale and the next event goes
    page.evaluate("window.usp = '1YYN';")
    page.evaluate(PURCHASE % "us-limited")

    # Then the collector answers limited: no token, the cookie expired, the pixel revoked
    second = answer(page)["body"]
    assert second["decision"]["action"] == "limited", second
    assert second["token"] is None
    assert page.evaluate("localStorage.getItem('ttrelay_token')") is None
    assert "ttrelay" not in {cookie.get("name") for cookie in context.cookies()}
    assert pixel_methods(page)[-1] == "revokeConsent"
