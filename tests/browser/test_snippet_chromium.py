"""ttrelay.js in a real headless Chromium, against the local stack: the demo shop, end to end.

Chromium is driven through chromedriver's W3C WebDriver HTTP API with httpx, so no browser-automation
package is needed; Debian's `chromium` and `chromium-driver` packages provide the two binaries.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.stack import dev_process, fake_requests, free_port, stop_process, wait_for

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("TTRELAY_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("TTRELAY_CHROMEDRIVER", "/usr/bin/chromedriver"))
# As root on a machine without network: no sandbox, and none of Chromium's own calls home.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
]
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element reference key
TTCLID = "E.C.P.browsertest"
SHOPPER_EMAIL = "Shopper.Test@Example.com"
NOTHING_SENT = "(nothing sent yet)"  # the demo's response box before the first answer
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Browser:
    """One WebDriver session: a Chromium with its own fresh profile."""

    def __init__(self, driver_url: str, profile: Path) -> None:
        self.http = httpx.Client(base_url=driver_url, timeout=60)
        options = {"binary": str(CHROMIUM), "args": [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]}
        capabilities = {
            "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": options,
                "goog:loggingPrefs": {"browser": "ALL"},
            }
        }
        self.session = self._call("POST", "/session", {"capabilities": capabilities})["sessionId"]

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=payload)
        value = response.json()["value"]
        if response.status_code != 200:
            raise AssertionError(f"WebDriver {method} {path} failed: {value.get('message', value)}")
        return value

    def _session_call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", payload)

    def open(self, url: str) -> None:
        self._session_call("POST", "/url", {"url": url})

    def _element(self, css: str) -> str:
        found = self._session_call("POST", "/element", {"using": "css selector", "value": css})
        return str(found[ELEMENT_KEY])

    def click(self, css: str) -> None:
        self._session_call("POST", f"/element/{self._element(css)}/click", {})

    def type(self, css: str, text: str) -> None:
        self._session_call("POST", f"/element/{self._element(css)}/value", {"text": text})

    def run(self, script: str, *args: Any) -> Any:
        return self._session_call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def run_async(self, script: str, *args: Any) -> Any:
        """Runs `script`, which reports its result by calling its last argument."""
        return self._session_call("POST", "/execute/async", {"script": script, "args": list(args)})

    def console(self) -> list[str]:
        """What the page logged to the console since the last call (chromedriver's log extension)."""
        return [entry["message"] for entry in self._session_call("POST", "/se/log", {"type": "browser"})]

    def cookies(self) -> list[dict[str, Any]]:
        """Every cookie of the current page, HttpOnly ones included (WebDriver sees those)."""
        return list(self._session_call("GET", "/cookie"))

    def quit(self) -> None:
        try:
            self._session_call("DELETE", "")
        finally:
            self.http.close()


@pytest.fixture(scope="module")
def chromedriver() -> Iterator[str]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: run `make setup` (it installs Debian's chromium and "
            "chromium-driver packages), or point TTRELAY_CHROMIUM / TTRELAY_CHROMEDRIVER at them"
        )
    port = free_port()
    process = subprocess.Popen(
        [str(CHROMEDRIVER), f"--port={port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"chromedriver exited with {process.returncode}")
        try:
            return bool(httpx.get(f"{url}/status", timeout=2).json()["value"]["ready"])
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, timeout=30)
        yield url
    finally:
        stop_process(process, timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with dev_process(tmp_path_factory.mktemp("stack") / "dev.log") as base:
        yield base


@pytest.fixture
def browser(chromedriver: str) -> Iterator[Browser]:
    profile = Path(tempfile.mkdtemp(prefix="ttrelay-chromium-"))  # a fresh profile: no cookie, no storage
    session = Browser(chromedriver, profile)
    try:
        yield session
    finally:
        session.quit()
        shutil.rmtree(profile, ignore_errors=True)


def collector_answer(browser: Browser) -> dict[str, Any]:
    """The collector's JSON response, as the demo page shows it once the Buy request completed."""

    def answered() -> str | None:
        shown = str(browser.run("return document.getElementById('response').textContent"))
        return shown if shown not in ("", NOTHING_SENT) else None

    shown = wait_for(answered, timeout=15)
    if not shown.startswith("{"):
        raise AssertionError(f"the collector gave no JSON answer; the page shows: {shown}")
    return dict(json.loads(shown))


def pixel_calls(browser: Browser, event: str) -> list[list[Any]]:
    return [call for call in browser.run("return window.__ttqCalls") if call[0] == event]


def forwarded(base: str, event: str, event_id: str) -> list[dict[str, Any]]:
    return [
        item
        for record in fake_requests(base)
        if record["response"].get("code") == 0
        for item in record["body"]["data"]
        if item["event"] == event and item["event_id"] == event_id
    ]


def queue_drained(base: str) -> bool:
    state = httpx.get(f"{base}/_local/queue").json()
    return bool(state["visible"] == 0 and state["in_flight"] == 0)


def test_accepted_purchase_reaches_events_api_under_the_pixels_event_id(stack: str, browser: Browser) -> None:
    # Given a visitor landing from a TikTok ad who accepts marketing in the banner
    browser.open(f"{stack}/demo/?ttclid={TTCLID}")
    browser.click("#accept")
    # When they buy, giving their email
    browser.type("#email", SHOPPER_EMAIL)
    browser.click("#buy")

    # Then the collector accepts the purchase and lets the page keep its signed token
    answer = collector_answer(browser)
    assert answer["decision"]["action"] == "forward", answer
    assert answer["accepted"] == 1
    assert browser.run("return localStorage.getItem('ttrelay_token')") == answer["token"]
    assert "ttrelay" in {cookie["name"] for cookie in browser.cookies()}
    # and the pixel got the event id in its third argument
    [[_, properties, pixel_options]] = pixel_calls(browser, "Purchase")
    event_id = pixel_options["event_id"]
    assert properties["currency"] == "EUR"

    # and the Events API receives the same purchase under that same id, so TikTok merges the pair
    [sent] = wait_for(lambda: forwarded(stack, "Purchase", event_id), timeout=30)
    assert sent["user"]["ttclid"] == TTCLID
    [email_digest] = sent["user"]["email"]
    assert HEX64.match(email_digest)
    assert email_digest == hashlib.sha256(SHOPPER_EMAIL.lower().encode()).hexdigest()
    assert SHOPPER_EMAIL.lower() not in json.dumps(fake_requests(stack)).lower()
    assert sent["properties"]["value"] == 25.0
    assert sent["limited_data_use"] is False
    # and the snippet's debug log, on in the demo, named the event but showed no user data or token
    logged = "\n".join(browser.console())
    assert "Purchase" in logged
    assert SHOPPER_EMAIL.lower() not in logged.lower()
    assert answer["token"] not in logged


def test_rejected_purchase_is_dropped_and_never_forwarded(stack: str, browser: Browser) -> None:
    # Given a visitor in a fresh profile who rejects marketing
    wait_for(lambda: queue_drained(stack), timeout=30)  # earlier tests' events are delivered by now
    before = len(fake_requests(stack))
    browser.open(f"{stack}/demo/?ttclid={TTCLID}")
    browser.click("#reject")
    # When they buy
    browser.type("#email", SHOPPER_EMAIL)
    browser.click("#buy")

    # Then the collector drops the event and nothing is stored in the browser
    answer = collector_answer(browser)
    assert answer["decision"]["action"] == "drop", answer
    assert answer["accepted"] == 0
    assert answer["dropped"] == 1
    assert answer["token"] is None
    assert browser.run("return localStorage.getItem('ttrelay_token')") is None
    assert "ttrelay" not in {cookie["name"] for cookie in browser.cookies()}
    # the pixel stub still saw the call: the page's own pixel consent setting governs that channel
    [[_, _, pixel_options]] = pixel_calls(browser, "Purchase")

    # and nothing reaches the Events API (anything queued would be delivered before the queue drains)
    wait_for(lambda: queue_drained(stack), timeout=30)
    assert len(fake_requests(stack)) == before
    assert not forwarded(stack, "Purchase", pixel_options["event_id"])


def test_ttclid_is_carried_from_a_same_host_referrer(stack: str, browser: Browser) -> None:
    # Given a visitor who landed with a click id and then moved to a page of the same site without it
    clicked = "E.C.P.fromreferrer"
    browser.open(f"{stack}/demo/?ttclid={clicked}")
    browser.run("location.href = '/demo/'")
    wait_for(lambda: browser.run("return location.search === '' && document.readyState === 'complete'"))
    assert browser.run("return document.referrer").endswith(f"?ttclid={clicked}")
    # When they accept and buy there
    browser.click("#accept")
    browser.click("#buy")

    # Then the click id read from the referrer reaches the Events API
    assert collector_answer(browser)["decision"]["action"] == "forward"
    [[_, _, pixel_options]] = pixel_calls(browser, "Purchase")
    [sent] = wait_for(lambda: forwarded(stack, "Purchase", pixel_options["event_id"]), timeout=30)
    assert sent["user"]["ttclid"] == clicked
    assert "email" not in sent["user"]


def test_withdrawn_consent_removes_the_stored_token(stack: str, browser: Browser) -> None:
    # Given a visitor whose accepted purchase left the collector's token in storage
    browser.open(f"{stack}/demo/")
    browser.click("#accept")
    browser.click("#buy")
    assert collector_answer(browser)["decision"]["action"] == "forward"
    assert browser.run("return localStorage.getItem('ttrelay_token')")
    # When they change their mind in the banner and buy again
    browser.run("document.getElementById('response').textContent = ''")
    browser.click("#reject")
    browser.click("#buy")

    # Then the collector drops the event and the snippet forgets the token
    assert collector_answer(browser)["decision"]["action"] == "drop"
    assert browser.run("return localStorage.getItem('ttrelay_token')") is None


CMP_STUBS = """
window.__tcfapi = (command, version, callback) => {
  if (command === "addEventListener") callback({tcString: "CTCFSTRING", eventStatus: "tcloaded"}, true);
};
window.__gpp = (command, callback) =>
  callback({gppString: "DBABMA~GPPSTRING", applicableSections: [2, -1]}, true);
window.__uspapi = () => {};  // a CMP that never answers must not hold events back
window.ttrelayConsent = {gcm: {ad_storage: "granted", ad_user_data: "denied", wait_for_update: 500},
                         gpc: false};
Object.defineProperty(navigator, "globalPrivacyControl", {get: () => true});  // the browser says GPC
window.__sentBodies = [];
const realFetch = window.fetch;
window.fetch = (url, options) => { window.__sentBodies.push(options.body); return realFetch(url, options); };
"""


def test_events_of_one_moment_share_a_request_with_every_consent_signal(stack: str, browser: Browser) -> None:
    # Given a page whose CMP APIs load after the snippet, one of them never answering, in a GPC browser
    browser.open(f"{stack}/demo/")
    browser.run(CMP_STUBS)
    browser.click("#accept")
    # When two events are tracked in the same moment
    started = time.monotonic()
    answers = browser.run_async(
        "const done = arguments[arguments.length - 1];"
        "Promise.all([ttrelay.track('ViewContent', {}, {eventId: 'view-1'}), ttrelay.track('AddToCart')])"
        ".then(done);"
    )

    # Then one request carries both, with the signals the page's CMP APIs and Consent Mode gave
    assert time.monotonic() - started < 5
    assert answers[0] == answers[1]
    [body] = [json.loads(sent) for sent in browser.run("return window.__sentBodies")]
    sent_ids = [(event["event"], event["event_id"]) for event in body["events"]]
    pixel_ids = [(name, options["event_id"]) for name, _, options in browser.run("return window.__ttqCalls")]
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
    assert body["pixel_code"] == "CTTRELAYLOCALDEV0001"
    assert body["context"]["page_url"] == f"{stack}/demo/"


def test_events_leave_by_beacon_when_the_page_hides(stack: str, browser: Browser) -> None:
    # Given a visitor who accepted marketing, on a page whose US Privacy API never answers
    browser.open(f"{stack}/demo/")
    browser.click("#accept")
    browser.run(
        "window.__uspapi = () => {};"
        "window.__beacons = []; window.__fetches = [];"
        "const realBeacon = navigator.sendBeacon.bind(navigator), realFetch = window.fetch;"
        "navigator.sendBeacon = (url, data) => { window.__beacons.push(url); return realBeacon(url, data); };"
        "window.fetch = (url, options) => { window.__fetches.push(url); return realFetch(url, options); };"
    )
    # When one event is tracked as the page hides, and another just before, still waiting for the CMP
    answers = browser.run_async(
        "const done = arguments[arguments.length - 1];"
        "const waiting = ttrelay.track('AddToCart', {}, {eventId: 'cart-beacon-1'});"
        "setTimeout(() => {"
        "  const last = ttrelay.track('Purchase', {value: 9.5, currency: 'EUR'},"
        "                             {eventId: 'order-beacon-1'});"
        "  window.dispatchEvent(new Event('pagehide'));"
        "  Promise.all([waiting, last]).then((answers) => setTimeout(() => done(answers), 600));"
        "}, 120);"
    )

    # Then both left in one beacon and nothing else was sent (no second copy once the CMP timed out)
    assert answers == [None, None]
    assert browser.run("return window.__beacons") == ["/events"]
    assert browser.run("return window.__fetches") == []
    # and they reach the Events API with consent applied
    [purchase] = wait_for(lambda: forwarded(stack, "Purchase", "order-beacon-1"), timeout=30)
    assert purchase["properties"] == {"value": 9.5, "currency": "EUR"}
    assert forwarded(stack, "AddToCart", "cart-beacon-1")
