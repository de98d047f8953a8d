"""The "plain pixel shop" demo (web/demo/pixel-shop.html) in Chromium, with the pixel's library served by
the test: a shop with only the pixel's own calls and a Consent Mode banner, ttrelay added as one tag.

Run with `-s` to see what each channel received (also written to pixel-shop-channels.json in the test's
temporary folder), as quoted in issue 15's closing note.
"""

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pixel_page import PixelLibrary, PixelPage, collector_events, until
from playwright.sync_api import Page
from support.paths import ROOT
from support.stack import wait_for
from ttrelay_dev.local.stack import LOCAL_PIXEL

pytestmark = pytest.mark.browser

Delivered = Callable[[str], list[dict[str, Any]]]
SHOPPER_EMAIL = "Pixel.Shopper@Example.com"


def open_shop(page: Page) -> PixelPage:
    library = PixelLibrary(page, held=False)
    page.goto("/demo/pixel-shop.html")
    page.wait_for_function("window.__pixelArrived === true")
    return PixelPage(page, library)


def shop_and_buy(page: Page) -> None:
    page.click("#view")
    page.click("#add-to-cart")
    page.fill("#email", SHOPPER_EMAIL)
    page.click("#buy")


def show(title: str, records: Any, tmp_path: Path) -> None:
    """Prints what a channel received and keeps it beside the test's other files."""
    print(f"\n--- {title} ---\n{json.dumps(records, indent=2)}")
    path = tmp_path / "pixel-shop-channels.json"
    kept = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**kept, title: records}, indent=2))


def test_an_accepting_visitor_reaches_the_pixel_and_the_events_api_once_each(
    page: Page, posted: list[dict[str, Any]], delivered: Delivered, tmp_path: Path
) -> None:
    # Given the plain pixel shop, whose own scripts never call ttrelay
    shop = open_shop(page)
    assert not re.search(r"ttrelay\s*\.", (ROOT / "web/demo/pixel-shop.js").read_text())
    # and a visitor who accepts in the banner (a Consent Mode update) and shops
    page.click("#accept")
    shop_and_buy(page)

    # Then the pixel sends the page view and each event once, with an event id on each
    until(page, lambda: len(shop.tracked()) == 3)
    sent = shop.sent()
    assert [record["event"] for record in sent] == ["Pageview", "ViewContent", "AddToCart", "Purchase"]
    purchase = sent[-1]
    assert purchase["event_id"].startswith("ORDER-")
    assert purchase["event_id"] == purchase["properties"]["order_id"]
    assert purchase["user"] == {"email": SHOPPER_EMAIL}
    assert all(record["pixel"] == LOCAL_PIXEL and record["event_id"] for record in sent[1:])
    # and the Events API receives each once under the pixel's event id, the email hashed
    items = []
    for record in sent[1:]:
        [item] = wait_for(lambda record=record: delivered(record["event_id"]), timeout=30)
        assert item["event"] == record["event"]
        items.append(item)
    assert items[-1]["user"]["email"] == [hashlib.sha256(SHOPPER_EMAIL.lower().encode()).hexdigest()]
    assert items[-1]["properties"]["value"] == 25
    assert items[-1]["properties"]["contents"][0]["content_id"] == "TSHIRT-1"
    # (the page's requests reach the test only while it waits on the page)
    until(page, lambda: len(collector_events(posted)) >= 3)
    assert [event["source"] for event in collector_events(posted)] == ["ttq", "ttq", "ttq"]
    assert SHOPPER_EMAIL.lower() not in json.dumps(items).lower()
    show("accepted: the pixel sent (window.__pixelSent)", sent, tmp_path)
    show("accepted: the fake Events API received (data[] items)", items, tmp_path)


def test_a_refusing_visitor_reaches_neither_channel(
    page: Page, posted: list[dict[str, Any]], delivered: Delivered, tmp_path: Path
) -> None:
    # Given the plain pixel shop, and a visitor who rejects in the banner and then shops
    shop = open_shop(page)
    page.click("#reject")
    shop_and_buy(page)
    [order] = re.findall(r"ORDER-\d+", page.locator("#pixel-log li").last.text_content() or "")

    # Then the pixel is revoked and sends nothing, not even the page view
    until(page, lambda: "revokeConsent" in shop.consent_calls())
    page.wait_for_timeout(500)
    assert shop.sent() == []
    assert "grantConsent" not in shop.consent_calls()
    # and no event reaches the collector, so the Events API gets none
    assert collector_events(posted) == []
    assert delivered(order) == []
    show("refused: the pixel sent (window.__pixelSent)", shop.sent(), tmp_path)
    show("refused: events posted to the collector", collector_events(posted), tmp_path)
