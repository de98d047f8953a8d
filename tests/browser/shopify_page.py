"""The Shopify custom pixel as Shopify runs it, for the browser tests: custom-pixel.js inside an
`<iframe sandbox="allow-scripts">` (so its requests carry `Origin: null`), on a page of the stack's
origin, with stand-ins of Shopify's globals (shopify_sandbox.js) and events shaped like
@shopify/web-pixels-extension's types (`PixelEvents*`, `Checkout`, `ProductVariant`)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pixel_page import until
from playwright.sync_api import Page, Request, Response, Route
from support.paths import ROOT
from ttrelay_dev.local.stack import LOCAL_PIXEL, LOCAL_SITE_KEY

PIXEL = ROOT / "web" / "integrations" / "shopify" / "custom-pixel.js"
STAND_INS = Path(__file__).with_name("shopify_sandbox.js")
SHOP = "https://shop.example.com"
SHOPIFY_TEST_PAGE = "/_browser-test/shopify.html"  # answered by page.route, never by the stack


def pixel_source(endpoint: str, site_key: str, pixel_code: str) -> str:
    """custom-pixel.js with its first line edited, as a merchant does in Shopify's admin."""
    first, rest = PIXEL.read_text().split("\n", 1)
    assert first.startswith("const TTRELAY_CONFIG = {"), first
    config = json.dumps({"endpoint": endpoint, "siteKey": site_key, "pixelCode": pixel_code})
    return f"const TTRELAY_CONFIG = {config};\n{rest}"


def location(href: str) -> dict[str, str]:
    url = urlsplit(href)
    port = f":{url.port}" if url.port else ""
    return {
        "href": href,
        "protocol": f"{url.scheme}:",
        "host": f"{url.hostname}{port}",
        "hostname": url.hostname or "",
        "port": str(url.port or ""),
        "origin": f"{url.scheme}://{url.hostname}{port}",
        "pathname": url.path or "/",
        "search": f"?{url.query}" if url.query else "",
        "hash": f"#{url.fragment}" if url.fragment else "",
    }


def context(href: str, referrer: str = "") -> dict[str, Any]:
    """A `Context`: the top page's document, navigator and window as Shopify describes them."""
    return {
        "document": {
            "location": location(href),
            "referrer": referrer,
            "title": "Shop",
            "characterSet": "UTF-8",
        },
        "navigator": {
            "cookieEnabled": True,
            "language": "en-US",
            "languages": ["en-US"],
            "userAgent": "Chrome",
        },
        "window": {"location": location(href), "origin": SHOP, "innerHeight": 800, "innerWidth": 1200},
    }


def privacy(marketing: bool, sale_of_data: bool = True) -> dict[str, bool]:
    return {
        "analyticsProcessingAllowed": marketing,
        "marketingAllowed": marketing,
        "preferencesProcessingAllowed": marketing,
        "saleOfDataAllowed": sale_of_data,
    }


def money(amount: float, currency: str = "EUR") -> dict[str, Any]:
    return {"amount": amount, "currencyCode": currency}


def variant(variant_id: str, product_id: str, title: str, price: float) -> dict[str, Any]:
    product = {
        "id": product_id,
        "title": title,
        "vendor": "Acme",
        "type": "Shirts",
        "untranslatedTitle": title,
    }
    return {
        "id": variant_id,
        "title": "M",
        "sku": None,
        "price": money(price),
        "product": product,
        "image": None,
    }


def checkout(
    items: list[tuple[dict[str, Any], int]], total: float, order_id: str | None = None, **buyer: Any
) -> dict[str, Any]:
    """A `Checkout` with its line items; `order_id` once it is an order (checkout_completed)."""
    line_items = [
        {"id": f"line-{index}", "title": item["product"]["title"], "quantity": quantity, "variant": item}
        for index, (item, quantity) in enumerate(items)
    ]
    order = (
        {"id": order_id, "customer": {"id": buyer.get("customer_id"), "isFirstOrder": True}}
        if order_id
        else None
    )
    return {
        "currencyCode": "EUR",
        "email": buyer.get("email"),
        "phone": buyer.get("phone"),
        "lineItems": line_items,
        "order": order,
        "token": "checkout-token-1",
        "totalPrice": money(total),
        "subtotalPrice": money(total),
        "totalTax": money(0),
    }


@dataclass
class ShopifySandbox:
    """The page holding the sandboxed pixel; the requests it made to the collector, with their answers."""

    page: Page
    landing: str
    requests: list[Request] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    sequence: int = 0

    def event(self, name: str, data: dict[str, Any], href: str = "", event_id: str = "") -> dict[str, Any]:
        """Publishes a standard event, as Shopify's `analytics` does; returns it."""
        self.sequence += 1
        event = {
            "id": event_id or f"sh-{name}-{self.sequence}-{datetime.now(UTC).timestamp()}",
            "clientId": "client-1",
            "name": name,
            "seq": self.sequence,
            "type": "standard",
            "timestamp": datetime.now(UTC).isoformat(),
            "context": context(href or self.landing),
            "data": data,
        }
        self.page.evaluate("(command) => window.__send(command)", {"type": "event", "event": event})
        return event

    def consent(self, marketing: bool, sale_of_data: bool = True) -> None:
        """The visitor chooses in Shopify's banner: a `visitorConsentCollected` event."""
        command = {"type": "consent", "customerPrivacy": privacy(marketing, sale_of_data)}
        self.page.evaluate("(command) => window.__send(command)", command)

    def local_storage(self) -> dict[str, str]:
        """What the pixel keeps in the store's localStorage (through `browser.localStorage`)."""
        self.page.evaluate("window.__send({type: 'storage'})")
        answer = until(
            self.page, lambda: self.page.evaluate("window.__messages.find((m) => m.type === 'storage')")
        )
        self.page.evaluate("window.__messages = window.__messages.filter((m) => m.type !== 'storage')")
        return dict(answer["localStorage"])

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.post_data or "null") for request in self.requests]


def open_sandbox(
    page: Page,
    stack: str,
    *,
    landing: str,
    marketing: bool,
    customer: dict[str, Any] | None = None,
    cookies: dict[str, str] | None = None,
    site_key: str = LOCAL_SITE_KEY,
    pixel_code: str = LOCAL_PIXEL,
) -> ShopifySandbox:
    """Opens a page of the stack's origin whose sandboxed iframe runs the pixel, pointed at the stack."""
    scenario = {
        "init": {
            "context": context(landing),
            "data": {"customer": customer, "cart": None, "shop": {"name": "Shop"}, "purchasingCompany": None},
            "customerPrivacy": privacy(marketing),
        },
        "cookies": cookies or {},
        "localStorage": {},
    }
    inner = (
        "<!doctype html>"
        f'<script type="application/json" id="scenario">{_script_text(json.dumps(scenario))}</script>'
        f"<script>{_script_text(STAND_INS.read_text())}</script>"
        f"<script>{_script_text(pixel_source(f'{stack}/events', site_key, pixel_code))}</script>"
    )
    driver = (
        "window.__messages = []; addEventListener('message', (m) => window.__messages.push(m.data));"
        "window.__send = (command) =>"
        " document.getElementById('pixel').contentWindow.postMessage(command, '*');"
    )
    frame = f'<iframe id="pixel" sandbox="allow-scripts" srcdoc="{html.escape(inner, quote=True)}"></iframe>'
    outer = f"<!doctype html><title>shop</title><script>{driver}</script>{frame}"

    def answer(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=outer)

    sandbox = ShopifySandbox(page, landing)
    collector = f"{stack}/events?"

    def keep_request(request: Request) -> None:
        if request.url.startswith(collector):
            sandbox.requests.append(request)

    def keep_response(response: Response) -> None:
        if response.url.startswith(collector):
            sandbox.responses.append(response)

    # Chromium treats the sandbox's opaque origin as outside the loopback address space the local stack
    # listens on, and asks before such a request (Local Network Access). A deployed collector is public.
    page.context.grant_permissions(["local-network-access"])
    page.on("request", keep_request)
    page.on("response", keep_response)
    page.route(f"**{SHOPIFY_TEST_PAGE}*", answer)
    page.goto(SHOPIFY_TEST_PAGE)
    ready = until(page, lambda: page.evaluate("window.__messages.find((m) => m.type === 'ready')"))
    assert ready["origin"] == "null", ready  # an opaque origin, as in Shopify's sandbox
    return sandbox


def _script_text(text: str) -> str:
    # Inside <script>, only "</" can end the element early.
    return text.replace("</", "<\\/")
