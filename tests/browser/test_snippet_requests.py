"""What the snippet sends and how it reports the answer: batching, consent signals, beacons, pixel-style
parameters, identify()'s key names, and failures made visible in the console."""

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page
from support.stack import fake_requests, wait_for
from ttrelay.privacy.hashing import hash_user_field

pytestmark = pytest.mark.browser

OpenPage = Callable[..., Page]
Delivered = Callable[[str], list[dict[str, Any]]]
# The visitor has accepted marketing; without a CMP the collector (opt-in rules locally) forwards.
ACCEPTED = "ttrelay.init({consent: () => ({cmp: {marketing: true}}), debug: true});"
PIXEL_STUB = """
window.__ttqCalls = [];
window.ttq = {track: (...args) => window.__ttqCalls.push(args)};
"""

# Every ttq.track call of the seed's tutorial (shared/seed, `ttq.track(`), unchanged: pixel-style
# top-level content_id, content_name, quantity, description, order_id and query.
SEED_CALLS = [
    (
        "ViewContent",
        {
            "content_id": ["PROD001"],
            "content_type": "product",
            "content_name": "Super Gadget Pro",
            "value": 199.99,
            "currency": "USD",
        },
    ),
    (
        "AddToCart",
        {
            "content_id": ["PROD001"],
            "content_type": "product",
            "content_name": "Super Gadget Pro",
            "value": 199.99,
            "currency": "USD",
            "quantity": 1,
        },
    ),
    (
        "InitiateCheckout",
        {"content_id": ["PROD001", "PROD002"], "content_type": "product", "value": 250.50, "currency": "USD"},
    ),
    (
        "AddPaymentInfo",
        {"content_id": ["PROD001", "PROD002"], "content_type": "product", "value": 250.50, "currency": "USD"},
    ),
    (
        "Purchase",
        {
            "content_id": ["PROD001", "PROD002"],
            "content_type": "product",
            "value": 275.00,
            "currency": "USD",
            "order_id": "ORD-XYZ-789",
            "description": "Completed order for Super Gadget Pro and Accessory",
        },
    ),
    ("CompleteRegistration", {"description": "Newsletter Signup"}),
    ("GenerateLead", {"description": "Demo Request Form"}),
    ("Search", {"query": "red shoes", "description": "Website product search"}),
]


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns()}"


def test_the_seeds_pixel_calls_are_accepted_and_delivered(
    open_test_page: OpenPage, posted: list[dict[str, Any]], warnings: list[str], delivered: Delivered
) -> None:
    # Given a page where the visitor accepted marketing
    page = open_test_page(PIXEL_STUB, ACCEPTED)
    calls = [(name, properties, unique(name)) for name, properties in SEED_CALLS]
    # When the page tracks each of the seed's calls as it would call ttq.track
    answers = page.evaluate(
        "(calls) => Promise.all(calls.map(([name, properties, id]) =>"
        " ttrelay.track(name, properties, {event_id: id})))",
        calls,
    )

    # Then the properties leave unchanged, and the pixel got the same event ids
    sent = [event for body in posted for event in body["events"]]
    assert [(e["event"], e["properties"], e["event_id"]) for e in sent] == [tuple(call) for call in calls]
    assert [(name, options["event_id"]) for name, _, options in page.evaluate("__ttqCalls")] == [
        (name, event_id) for name, _, event_id in calls
    ]
    # and the collector accepts every one, and the Events API receives each under its id
    assert len(posted) == 1  # tracked in one moment: one request, one answer for all
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["status"] == 202, answers[0]
    assert answers[0]["body"]["accepted"] == len(calls), answers[0]
    assert not answers[0]["body"].get("rejected"), answers[0]
    for name, _, event_id in calls:
        [item] = wait_for(lambda event_id=event_id: delivered(event_id), timeout=30)
        assert item["event"] == name
    assert not [line for line in warnings if "rejected" in line or "refused" in line]


def test_identify_passes_tiktoks_key_names_through(
    open_test_page: OpenPage, posted: list[dict[str, Any]], delivered: Delivered, stack: str
) -> None:
    # Given a page that identifies the visitor with ttq.identify's names
    page = open_test_page("", ACCEPTED)
    user = {
        "email": "Ada@Example.com",
        "phone_number": "+14155550123",
        "external_id": "customer-42",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "zip_code": "94107",
        "city": "San Francisco",
        "state": "CA",
        "country": "US",
    }
    event_id = unique("identified")
    # When an event is tracked
    answer = page.evaluate(
        "([user, id]) => { ttrelay.identify({...user, password: 'never sent'});"
        " return ttrelay.track('CompleteRegistration', {}, {event_id: id}); }",
        [user, event_id],
    )

    # Then the snippet sends those keys as they are (and only those), for the collector to map
    [body] = posted
    assert body["user"] == user
    # and the collector accepts them, and the Events API gets the phone hashed in E.164
    assert answer["status"] == 202, answer
    assert answer["body"]["accepted"] == 1, answer
    [item] = wait_for(lambda: delivered(event_id), timeout=30)
    assert item["user"]["phone"] == hash_user_field("phone", "+14155550123")
    assert "Lovelace" not in str(fake_requests(stack))


def test_a_field_that_cannot_be_read_is_named_in_the_console(
    open_test_page: OpenPage, posted: list[dict[str, Any]], warnings: list[str], delivered: Delivered
) -> None:
    # Given a page where the visitor accepted marketing
    page = open_test_page("", ACCEPTED)
    good, odd = unique("good"), unique("odd")
    # When two events are tracked in the same moment, one with a value that is not a number
    answers = page.evaluate(
        "([good, odd]) => Promise.all(["
        " ttrelay.track('AddToCart', {value: 10, currency: 'EUR'}, {event_id: good}),"
        " ttrelay.track('Purchase', {value: 'abc', currency: 'EUR'}, {event_id: odd})])",
        [good, odd],
    )

    # Then they travel together, and the collector takes the good one
    [body] = posted
    assert [event["event_id"] for event in body["events"]] == [good, odd]
    assert answers[0] == answers[1]
    assert answers[0]["status"] == 202, answers[0]
    wait_for(lambda: delivered(good), timeout=30)
    # and the console names the other event and the path at fault, never the value
    [warning] = [line for line in warnings if odd in line]
    assert warning.startswith(f"[ttrelay] Purchase (event_id {odd})")
    assert "events.1.properties.value" in warning
    assert "abc" not in warning
    assert not [line for line in warnings if good in line]


def test_a_warning_about_the_request_is_named_in_the_console_as_the_requests(
    open_test_page: OpenPage, warnings: list[str]
) -> None:
    # Given a page that identifies the visitor with an address that is not one
    page = open_test_page("", ACCEPTED)
    event_id = unique("bad-address")
    answer = page.evaluate(
        "(id) => { ttrelay.identify({email: 'ada.example.com'});"
        " return ttrelay.track('CompleteRegistration', {}, {event_id: id}); }",
        event_id,
    )

    # Then the event is sent, and the console names the request's field at fault, never the value
    assert answer["status"] == 202 and answer["body"]["accepted"] == 1, answer
    [warning] = [line for line in warnings if "user.email" in line]
    assert warning == "[ttrelay] request: user.email: not an email address; left out of the match keys"


def test_one_unusable_event_does_not_sink_its_neighbour(
    open_test_page: OpenPage, warnings: list[str], delivered: Delivered
) -> None:
    # Given a page where the visitor accepted marketing
    page = open_test_page("", ACCEPTED)
    good, bad = unique("good"), unique("bad")
    # When two events are tracked in the same moment, one under a name TikTok cannot take
    reply = page.evaluate(
        "([good, bad]) => Promise.all(["
        " ttrelay.track('AddToCart', {}, {event_id: good}),"
        " ttrelay.track('Add/To/Cart', {}, {event_id: bad})]).then((answers) => answers[1])",
        [good, bad],
    )

    # Then the collector accepts the good one and lists the other, which the console names
    assert reply["status"] == 202, reply
    assert reply["body"]["accepted"] == 1
    [rejected] = reply["body"]["rejected"]
    assert (rejected["index"], rejected["event_id"]) == (1, bad)
    wait_for(lambda: delivered(good), timeout=30)
    [warning] = [line for line in warnings if bad in line]
    assert warning.startswith(
        f"[ttrelay] Add/To/Cart (event_id {bad}) rejected by the collector: events.1.event"
    )


def test_a_refused_request_names_each_event_and_its_error_paths(
    open_test_page: OpenPage, warnings: list[str]
) -> None:
    # Given a page where the visitor accepted marketing
    page = open_test_page("", ACCEPTED)
    # When the only event of a request is unusable
    answer = page.evaluate("ttrelay.track('Add/To/Cart', {}, {event_id: 'bad-name'})")

    # Then the promise resolves (no try/catch needed) with the collector's 4xx answer
    assert answer["status"] == 400, answer
    assert answer["body"]["error"] == "invalid_request"
    # and the console says which event and which path
    [warning] = [line for line in warnings if "bad-name" in line]
    assert warning.startswith(
        "[ttrelay] Add/To/Cart (event_id bad-name) not accepted by the collector (HTTP 400"
    )
    assert "events.0.event" in warning


def test_a_network_failure_resolves_with_an_error(open_test_page: OpenPage, warnings: list[str]) -> None:
    # Given a page whose collector cannot be reached
    page = open_test_page("", "ttrelay.init({endpoint: 'http://127.0.0.1:9/events'});")
    # When an event is tracked
    answer = page.evaluate("ttrelay.track('ViewContent', {}, {event_id: 'unreachable'})")
    # Then the promise resolves with an error object, and the console says so
    assert answer == {"status": 0, "error": "network_error"}
    assert "[ttrelay] ViewContent (event_id unreachable) not sent: network error" in warnings


CMP_STUBS = """
window.__tcfapi = (command, version, callback) => {
  if (command === "addEventListener") callback({tcString: "CTCFSTRING", eventStatus: "tcloaded",
    gdprApplies: true, purpose: {consents: {1: true, 3: true, 4: true, 7: true}}}, true);
};
window.__gpp = (command, callback) => {
  if (command === "addEventListener") callback({eventName: "listenerRegistered",
    pingData: {signalStatus: "ready", gppString: "DBABMA~GPPSTRING", applicableSections: [2, -1]}}, true);
};
window.__uspapi = () => {};  // a US Privacy API that never answers must not hold events back
window.ttrelayConsent = {gcm: {ad_storage: "granted", ad_user_data: "denied", wait_for_update: 500},
                         gpc: false};
Object.defineProperty(navigator, "globalPrivacyControl", {get: () => true});  // the browser says GPC
"""


def test_events_of_one_moment_share_a_request_with_every_consent_signal(
    open_test_page: OpenPage, posted: list[dict[str, Any]], stack: str
) -> None:
    # Given a page whose CMP APIs load after the snippet, one of them never answering, in a GPC browser
    page = open_test_page(PIXEL_STUB, ACCEPTED)
    page.evaluate(CMP_STUBS)
    # When two events are tracked in the same moment
    started = time.monotonic()
    answers = page.evaluate(
        "Promise.all([ttrelay.track('ViewContent', {}, {event_id: 'view-1'}), ttrelay.track('AddToCart')])"
    )

    # Then one request carries both, with the signals the page's CMP APIs and Consent Mode gave
    assert time.monotonic() - started < 5
    assert answers[0] == answers[1]
    [body] = posted
    sent_ids = [(event["event"], event["event_id"]) for event in body["events"]]
    pixel_ids = [(name, options["event_id"]) for name, _, options in page.evaluate("__ttqCalls")]
    assert sent_ids == pixel_ids
    assert sent_ids[0] == ("ViewContent", "view-1")
    assert re.fullmatch(r"[0-9a-f-]{32,36}", sent_ids[1][1])  # generated once, given to both
    assert body["consent"] == {
        "tcf": "CTCFSTRING",
        "gpp": "DBABMA~GPPSTRING",
        "gpp_sid": [2],
        "gcm": {"ad_storage": "granted", "ad_user_data": "denied"},
        "cmp": {"marketing": True},
        "gpc": True,  # the page's own `gpc: false` cannot override the browser
    }
    assert body["context"]["page_url"].startswith(f"{stack}/")


BEACON_SPY = """
window.__uspapi = () => {};
window.__beacons = []; window.__fetches = [];
const realBeacon = navigator.sendBeacon.bind(navigator), realFetch = window.fetch;
navigator.sendBeacon = (url, data) => { window.__beacons.push(url); return realBeacon(url, data); };
window.fetch = (url, options) => { window.__fetches.push(url); return realFetch(url, options); };
"""


def test_events_leave_by_beacon_when_the_page_hides(open_test_page: OpenPage, delivered: Delivered) -> None:
    # Given a visitor who accepted marketing, on a page whose US Privacy API never answers
    page = open_test_page(BEACON_SPY, ACCEPTED)
    # When one event is tracked as the page hides, and another just before, still waiting for the CMP
    answers = page.evaluate(
        "new Promise((done) => {"
        "  const waiting = ttrelay.track('AddToCart', {}, {event_id: 'cart-beacon-1'});"
        "  setTimeout(() => {"
        "    const last = ttrelay.track('Purchase', {value: 9.5, currency: 'EUR'},"
        "                               {event_id: 'order-beacon-1'});"
        "    window.dispatchEvent(new Event('pagehide'));"
        "    Promise.all([waiting, last]).then((answers) => setTimeout(() => done(answers), 600));"
        "  }, 120);"
        "})"
    )

    # Then both left in one beacon and nothing else was sent (no second copy once the CMP timed out)
    assert answers == [{"status": 0, "error": "sent_by_beacon"}] * 2
    assert page.evaluate("__beacons") == ["/events"]
    assert page.evaluate("__fetches") == []
    # and they reach the Events API with consent applied
    [purchase] = wait_for(lambda: delivered("order-beacon-1"), timeout=30)
    assert purchase["properties"] == {"value": 9.5, "currency": "EUR"}
    assert delivered("cart-beacon-1")
