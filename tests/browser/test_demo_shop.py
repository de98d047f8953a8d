"""The demo shop in Chromium against the local stack: both channels, end to end, as a visitor uses them."""

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from support.stack import fake_requests, wait_for

pytestmark = pytest.mark.browser

TTCLID = "E.C.P.browsertest"
SHOPPER_EMAIL = "Shopper.Test@Example.com"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
Delivered = Callable[[str], list[dict[str, Any]]]


def collector_answer(page: Page) -> dict[str, Any]:
    """What the demo shows of track()'s answer for the last event: {status, body} or {status: 0, error}."""
    expect(page.locator("#response")).not_to_have_text("(nothing sent yet)", timeout=15_000)
    return dict(json.loads(page.locator("#response").text_content() or ""))


def pixel_calls(page: Page) -> list[list[Any]]:
    return list(page.evaluate("window.__ttqCalls"))


def pixel_sent(page: Page) -> list[list[str]]:
    return list(page.evaluate("window.__pixelSent"))


def stored_token(page: Page) -> str | None:
    return page.evaluate("localStorage.getItem('ttrelay_token')")  # type: ignore[no-any-return]


def relay_cookie(context: BrowserContext) -> bool:
    return "ttrelay" in {cookie.get("name") for cookie in context.cookies()}


def test_accepted_purchase_reaches_both_channels_under_one_event_id(
    page: Page, context: BrowserContext, stack: str, console: list[str], delivered: Delivered
) -> None:
    # Given a visitor landing from a TikTok ad, with the pixel held until the collector decides
    page.goto(f"/demo/?ttclid={TTCLID}")
    assert pixel_calls(page) == [["holdConsent"]]
    # When they accept marketing and buy, giving their email
    page.click("#accept")
    page.fill("#email", SHOPPER_EMAIL)
    page.click("#buy")

    # Then the collector forwards the purchase and lets the page keep its signed token and cookie
    answer = collector_answer(page)
    assert answer["status"] == 202
    assert answer["body"]["decision"]["action"] == "forward", answer
    assert answer["body"]["accepted"] == 1
    assert stored_token(page) == answer["body"]["token"]
    assert relay_cookie(context)
    # and the pixel, held until then, is granted and sends the purchase under the same event id
    # (the grant may come before the purchase: a choice is probed at once when no event is on its way)
    calls = pixel_calls(page)
    [(_, name, properties, options)] = [call for call in calls if call[0] == "track"]
    assert name == "Purchase"
    assert [call for call in calls if call[0] != "track"] == [["holdConsent"], ["grantConsent"]]
    event_id = options["event_id"]
    assert properties["currency"] == "EUR"
    assert pixel_sent(page) == [["Purchase", event_id]]
    # and the page says what each channel did
    expect(page.locator("#pixel-channel")).to_contain_text("granted")
    # (queued, not "forwarded": a 202 says the collector queued it; the forwarder delivers it later)
    expect(page.locator("#server-channel")).to_contain_text("Purchase: accepted, queued for TikTok")
    # and the answer, long token included, stays inside its box: nothing to scroll sideways for
    box = page.locator("#response")
    assert answer["body"]["token"] in (box.text_content() or "")
    assert box.evaluate("element => element.scrollWidth <= element.clientWidth")

    # and the Events API receives the purchase under that id, so TikTok merges the pair
    [sent] = wait_for(lambda: delivered(event_id), timeout=30)
    assert sent["event"] == "Purchase"
    assert sent["user"]["ttclid"] == TTCLID
    [email_digest] = sent["user"]["email"]
    assert HEX64.match(email_digest)
    assert email_digest == hashlib.sha256(SHOPPER_EMAIL.lower().encode()).hexdigest()
    assert SHOPPER_EMAIL.lower() not in json.dumps(fake_requests(stack)).lower()
    assert sent["properties"]["value"] == 25.0
    assert sent["limited_data_use"] is False
    # and the snippet's debug log, on in the demo, named the event but showed no user data or token
    logged = "\n".join(console)
    assert "Purchase" in logged
    assert SHOPPER_EMAIL.lower() not in logged.lower()
    assert answer["body"]["token"] not in logged


def test_refused_purchase_never_leaves_the_page(
    page: Page, context: BrowserContext, posted: list[dict[str, Any]], warnings: list[str]
) -> None:
    # Given a visitor who rejects marketing in the banner
    page.goto(f"/demo/?ttclid={TTCLID}")
    page.click("#reject")
    # When they buy
    page.fill("#email", SHOPPER_EMAIL)
    page.click("#buy")

    # Then ttrelay sends nothing at all, and the page learns why
    answer = collector_answer(page)
    assert answer == {"status": 0, "error": "consent_refused"}
    assert posted == []
    # and the pixel is revoked: it never sends the purchase it was given
    [hold, revoke, (_, name, _, options)] = pixel_calls(page)
    assert (hold, revoke, name) == (["holdConsent"], ["revokeConsent"], "Purchase")
    assert pixel_sent(page) == []
    expect(page.locator("#pixel-channel")).to_contain_text("revoked")
    expect(page.locator("#server-channel")).to_contain_text("Purchase: not sent: you refused")
    # and nothing is stored in the browser
    assert stored_token(page) is None
    assert not relay_cookie(context)
    # and the console says which event stayed home, without the visitor's data
    event_id = options["event_id"]
    [warning] = [line for line in warnings if event_id in line]
    assert (
        warning
        == f"[ttrelay] Purchase (event_id {event_id}) not sent: the visitor refused consent on this page"
    )
    assert SHOPPER_EMAIL.lower() not in "\n".join(warnings).lower()


def test_ttclid_is_carried_from_a_same_host_referrer(page: Page, delivered: Delivered) -> None:
    # Given a visitor who landed with a click id and then moved to a page of the same site without it
    clicked = "E.C.P.fromreferrer"
    page.goto(f"/demo/?ttclid={clicked}")
    page.evaluate("location.href = '/demo/'")
    page.wait_for_url(re.compile(r"/demo/$"))
    assert page.evaluate("document.referrer").endswith(f"?ttclid={clicked}")
    # When they accept and buy there
    page.click("#accept")
    page.click("#buy")

    # Then the click id read from the referrer reaches the Events API
    assert collector_answer(page)["body"]["decision"]["action"] == "forward"
    [(_, _, _, options)] = [call for call in pixel_calls(page) if call[0] == "track"]
    [sent] = wait_for(lambda: delivered(options["event_id"]), timeout=30)
    assert sent["user"]["ttclid"] == clicked
    assert "email" not in sent["user"]


def test_withdrawn_consent_removes_the_token_and_stops_both_channels(
    page: Page, posted: list[dict[str, Any]]
) -> None:
    # Given a visitor whose accepted purchase left the collector's token in storage
    page.goto("/demo/")
    page.click("#accept")
    page.click("#buy")
    assert collector_answer(page)["body"]["decision"]["action"] == "forward"
    assert stored_token(page)
    # When they change their mind in the banner
    page.click("#reject")

    # Then the token is forgotten and the pixel revoked at once, before any further event
    assert stored_token(page) is None
    assert pixel_calls(page)[-1] == ["revokeConsent"]
    # and a second purchase goes to neither channel: after the purchase, the collector only got the
    # decision probe (no events) that has it expire its HttpOnly cookie
    page.evaluate("document.getElementById('response').textContent = '(nothing sent yet)'")
    page.click("#buy")
    assert collector_answer(page) == {"status": 0, "error": "consent_refused"}
    counts = [len(body["events"]) for body in posted]
    # The accept's own decision probe (no events) may or may not have gone out before the first purchase,
    # depending on how fast the click follows it; the one purchase went out once, and only the probe after.
    assert [count for count in counts if count] == [1]
    assert counts[counts.index(1) + 1 :] == [0]
    assert posted[-1]["consent"]["cmp"] == {"marketing": False}
    assert len(pixel_sent(page)) == 1
