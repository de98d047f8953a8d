"""The demo's real consent managers in Chromium against the local stack: vanilla-cookieconsent's banner
(web/demo/cookieconsent.html) and a TCF CMP built on @iabtcf (web/demo/tcf.html). An event tracked while
the banner waits for an answer leaves once the visitor accepts, and never when they refuse."""

import json
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect
from support.stack import TTRELAY, wait_for
from ttrelay_dev.local.stack import LOCAL_TIKTOK_VENDOR_ID

pytestmark = pytest.mark.browser

Delivered = Callable[[str], list[dict[str, Any]]]
REQUIRED_PURPOSES = [1, 3, 4, 7]  # reference/consent.md §1.8
# web/demo/vendor/test-gvl/vendor-list.json: 986 stands in for TikTok (the local stack's test vendor id).
TEST_VENDORS = [986, 9001, 9002, 9003]
TEST_CMP_ID = 4095  # web/demo/cmp-tcf.js: a test id, not a registered CMP


@dataclass(frozen=True)
class Cmp:
    path: str
    banner: Callable[[Page], Locator]  # the first-layer banner, with its "Accept all" and "Reject all"


COOKIECONSENT = Cmp("/demo/cookieconsent.html", lambda page: page.locator("#cc-main .cm"))
TCF = Cmp("/demo/tcf.html", lambda page: page.locator("#tcf-banner"))
CMPS = [pytest.param(COOKIECONSENT, id="cookieconsent"), pytest.param(TCF, id="tcf")]


def open_banner(page: Page, cmp: Cmp) -> Locator:
    page.goto(cmp.path)
    banner = cmp.banner(page)
    expect(banner).to_be_visible()
    return banner


def choose(banner: Locator, accept: bool) -> None:
    banner.get_by_role("button", name="Accept all" if accept else "Reject all").click()


def track_before_the_choice(page: Page) -> str:
    """Tracks a ViewContent as the banner waits, keeps track()'s promise, and checks the snippet holds it."""
    event_id = f"cmp-{uuid.uuid4()}"
    page.evaluate(
        "id => { window.__answer = ttrelay.track('ViewContent', {content_type: 'product'}, {eventId: id}); }",
        event_id,
    )
    # Well past the snippet's 50 ms batching delay: an event sent without a choice would have settled.
    held = page.evaluate(
        "Promise.race([window.__answer.then(() => 'settled'), new Promise(r => setTimeout(r, 500, 'held'))])"
    )
    assert held == "held"
    return event_id


def queue_drained(stack: str) -> bool:
    state = httpx.get(f"{stack}/_local/queue").json()
    return bool(state["visible"] == 0 and state["in_flight"] == 0)


def tc_data(page: Page) -> dict[str, Any]:
    return dict(page.evaluate("new Promise(r => __tcfapi('getTCData', 2, (data, ok) => r({ok, ...data})))"))


def relay_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TTRELAY, "consent", *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("cmp", CMPS)
def test_event_tracked_before_accepting_is_delivered_once(
    page: Page, stack: str, delivered: Delivered, cmp: Cmp
) -> None:
    # Given a visitor who has not answered the banner yet, and an event tracked meanwhile
    banner = open_banner(page, cmp)
    event_id = track_before_the_choice(page)
    # When they accept all
    choose(banner, accept=True)

    # Then the held event leaves, and the collector forwards it
    answer = page.evaluate("window.__answer")
    assert answer["status"] == 202
    assert answer["body"]["decision"]["action"] == "forward", answer
    # and the Events API receives it exactly once
    wait_for(lambda: delivered(event_id), timeout=30)
    wait_for(lambda: queue_drained(stack), timeout=30)
    assert len(delivered(event_id)) == 1


@pytest.mark.parametrize("cmp", CMPS)
def test_event_tracked_before_rejecting_is_never_delivered(
    page: Page, stack: str, posted: list[dict[str, Any]], delivered: Delivered, cmp: Cmp
) -> None:
    # Given a visitor who has not answered the banner yet, and an event tracked meanwhile
    banner = open_banner(page, cmp)
    event_id = track_before_the_choice(page)
    # When they reject all
    choose(banner, accept=False)

    # Then the snippet drops the held event without sending it
    assert page.evaluate("window.__answer") == {"status": 0, "error": "consent_refused"}
    assert posted == []
    wait_for(lambda: queue_drained(stack), timeout=30)
    assert delivered(event_id) == []


@pytest.mark.parametrize("cmp", CMPS)
def test_cmp_page_loads_only_files_of_its_own_site(page: Page, stack: str, cmp: Cmp) -> None:
    # Given a record of every response the page gets (the CMP code, styles and the test vendor list)
    answered: dict[str, int] = {}
    page.on("response", lambda response: answered.update({response.url: response.status}))
    # When the page has loaded and shown its banner
    open_banner(page, cmp)
    page.wait_for_load_state("networkidle")

    # Then everything came from the site itself, vendored: no CDN, nothing missing
    assert any("/demo/vendor/" in url for url in answered)
    assert {url: status for url, status in answered.items() if not url.startswith(f"{stack}/")} == {}
    assert {url: status for url, status in answered.items() if status != 200} == {}


@pytest.mark.parametrize(("accept", "purposes", "vendors", "action"), [
    pytest.param(True, REQUIRED_PURPOSES, TEST_VENDORS, "forward", id="accept"),
    pytest.param(False, [], [], "drop", id="reject"),
])  # fmt: skip
def test_tcf_cmp_encodes_a_tc_string_the_relay_decodes_strictly(
    page: Page, context: BrowserContext, accept: bool, purposes: list[int], vendors: list[int], action: str
) -> None:
    # Given the TCF CMP showing its banner: the stub's queued calls are answered, with no TC string yet
    banner = open_banner(page, TCF)
    shown = tc_data(page)
    assert (shown["ok"], shown["eventStatus"], shown["tcString"]) == (True, "cmpuishown", "")
    # and a listener, as vendors' tags register one
    page.evaluate("window.__tcfEvents = []; __tcfapi('addEventListener', 2, (d) => __tcfEvents.push(d))")
    # When the visitor answers
    choose(banner, accept)

    # Then listeners hear of it with the new string, which the CMP also stores as most CMPs do
    done = wait_for(lambda: page.evaluate("__tcfEvents.find(d => d.eventStatus === 'useractioncomplete')"))
    tc_string = done["tcString"]
    assert {cookie["name"]: cookie["value"] for cookie in context.cookies()}["euconsent-v2"] == tc_string
    # and the relay's strict decoder accepts the string, with exactly the choice made
    decoded = relay_cli("decode-tcf", tc_string)
    assert decoded.returncode == 0, decoded.stderr
    fields = json.loads(decoded.stdout)
    assert fields["cmp_id"] == TEST_CMP_ID
    assert fields["tcf_policy_version"] == 4
    assert fields["is_service_specific"] is True
    assert fields["purpose_consents"] == purposes
    assert fields["vendor_consents"] == vendors
    # and the default policy, for a visitor in Germany and with the local stack's vendor id, follows it
    decision = relay_cli(
        "decide", "--country", "DE", "--tcf", tc_string, "--vendor-id", LOCAL_TIKTOK_VENDOR_ID
    )
    assert json.loads(decision.stdout)["action"] == action


@pytest.mark.parametrize(("accept", "categories", "action"), [
    pytest.param(True, ["necessary", "marketing"], "forward", id="accept"),
    pytest.param(False, ["necessary"], "drop", id="reject"),
])  # fmt: skip
def test_cookieconsent_choice_is_stored_in_cc_cookie_which_the_collector_reads(
    page: Page, context: BrowserContext, accept: bool, categories: list[str], action: str
) -> None:
    # Given the cookie banner
    banner = open_banner(page, COOKIECONSENT)
    # When the visitor answers
    choose(banner, accept)

    # Then the banner stores the choice in its cc_cookie
    cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
    assert json.loads(unquote(cookies["cc_cookie"]))["categories"] == categories
    # and the collector reads that cookie alone: a request carrying no consent of its own is judged by it
    answer = page.evaluate(
        """async () => {
          const events = [{event: 'ViewContent', event_id: 'cc-cookie-' + crypto.randomUUID()}];
          const response = await fetch('/events', {method: 'POST', body: JSON.stringify({events})});
          return response.json();
        }"""
    )
    assert answer["decision"]["action"] == action, answer
