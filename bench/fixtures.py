"""Realistic inputs shared by the benchmarks: a collect request as a browser sends it, and queued messages.

All identifiers are synthetic; nothing here is a real person's data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

PIXEL = "CTTRELAYLOCALDEV0001"  # the local stack's pixel code (ttrelay_dev.local.stack.LOCAL_PIXEL)
SITE_ORIGIN = "https://shop.example.com"
# The local stack's origin-verify secret: presenting it makes the request count as coming through CloudFront,
# so the viewer-country header is trusted — the deployed path (DESIGN.md, geo).
ORIGIN_SECRET = "local-origin-verify-secret"  # noqa: S105 - a fixed local test value
# A TC string with purposes 1, 3, 4, 7 consented (the FR "grant" case of vectors/decisions.json), so an
# opt_in visitor is forwarded and the whole path (TCF decode, hashing, cookie) runs. Its age is judged
# against PINNED_NOW where the benchmark controls the clock, so the figure does not rot as it ages.
TCF_GRANT = "CQr-V4AQr-V4AEwABBENCWEgAP_AAEPAAAYgIzQBIAAgAEAvMB7QEZgLzgBAACAXmAAA.IIzQBIAAgAEAvMB7QEZg"
PINNED_NOW = 1_793_491_200.0  # 2026-11-01T00:00:00Z, the "now" of vectors/decisions.json
SIGNING_SECRET = {"active_kid": "k1", "k1": "bench-signing-key-0123456789abcdef0123"}
USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
TTCLID = "E.C.P.BenchClickId0000000000000000000000"
TTP = "Qm7vXk2LpR9sTz4Hn8cWd1YbFa3"


def shoppers_click_ids(request_no: int) -> tuple[str, str]:
    """Another shopper's ttclid and _ttp for each request_no: every visitor has their own."""
    return f"{TTCLID[:-6]}{request_no:06d}", f"{TTP[:-6]}{request_no:06d}"


def collect_body(events: int, request_no: int = 0) -> dict[str, Any]:
    """A POST /events body with raw email and phone (hashed by the collector) and `events` events.

    Each `request_no` is another shopper's order: its own page URL, referrer, click ids, identifiers and
    event ids, so that no cache keyed on what a request holds (the standard library's `urlsplit` keeps
    128) serves a benchmark that replays a ring of them more than it would serve real traffic. What a
    whole site shares (its paths, parameter names, products) stays the same. The TC string stays the same
    too: nothing on the path keeps one."""
    ttclid, ttp = shoppers_click_ids(request_no)
    return {
        "pixel_code": PIXEL,
        "consent": {"tcf": TCF_GRANT},
        "context": {
            "page_url": f"{SITE_ORIGIN}/checkout/complete?order={request_no}&ttclid={ttclid}&utm_source=tt",
            "referrer": f"{SITE_ORIGIN}/cart?items={request_no % 97}",
            "ttp": ttp,
            "locale": "fr-FR",
        },
        "user": {
            "email": f" Jane.Doe{request_no}@Example.com ",
            "phone": f"+33 6 12 {request_no // 100 % 100:02d} {request_no % 100:02d} 78",
            "external_id": f"cust-{48151623 + request_no}",
        },
        "events": [_collect_event(request_no, index) for index in range(events)],
    }


def _collect_event(request_no: int, index: int) -> dict[str, Any]:
    return {
        "event": "CompletePayment" if index == 0 else "AddToCart",
        "event_id": f"ord-{request_no}-{index}",
        "properties": {
            "value": 89.0,
            "currency": "EUR",
            "content_type": "product",
            "contents": [
                {
                    "content_id": "SKU-TR2-BLU-9",
                    "content_name": "Trail Runner 2",
                    "price": 89.0,
                    "quantity": 1,
                }
            ],
        },
    }


def collect_headers(cookie: str | None = None) -> list[tuple[str, str]]:
    """What the browser and CloudFront put on the request (CloudFront adds the viewer country)."""
    headers = [
        ("content-type", "text/plain;charset=UTF-8"),  # sendBeacon's type: no CORS preflight
        ("origin", SITE_ORIGIN),
        ("user-agent", USER_AGENT),
        ("accept-language", "fr-FR,fr;q=0.9"),
        ("x-origin-verify", ORIGIN_SECRET),
        ("cloudfront-viewer-country", "FR"),
        # The front door's origin request policy forwards it (template.yaml): the visitor's IP for TikTok.
        ("cloudfront-viewer-address", "198.51.100.7:51234"),
    ]
    if cookie:
        headers.append(("cookie", f"ttrelay={cookie}"))
    return headers


def collect_event(events: int, request_no: int = 0, cookie: str | None = None) -> dict[str, Any]:
    """The function URL event (payload 2.0) for one collect request."""
    from ttrelay_dev.local.function_url import function_url_event

    body = json.dumps(collect_body(events, request_no)).encode()
    return function_url_event("POST", "/events", "", collect_headers(cookie), body, "203.0.113.24")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def queued_message(run: str, message_no: int, events: int, now: int) -> str:
    """One SQS body as CollectFunction writes it: `events` events of one visitor, identifiers hashed,
    the visitor and the page once per message (v2)."""
    from ttrelay.models import QueuedEvents, SharedContext, TikTokEvent, TikTokPage, TikTokUser

    visitor = f"{run}-{message_no}"
    user = TikTokUser(
        email=[_digest(f"visitor-{visitor}@example.com")],
        phone=[_digest(f"+3361234{message_no % 10_000:04d}")],
        external_id=[_digest(f"cust-{visitor}")],
        ttclid=TTCLID,
        ttp=TTP,
        ip="203.0.113.24",
        user_agent=USER_AGENT,
        locale="fr-FR",
    )
    page = TikTokPage(
        url=f"{SITE_ORIGIN}/products/trail-runner-2?ttclid={TTCLID}", referrer=SITE_ORIGIN + "/"
    )
    items = [
        TikTokEvent(
            event="AddToCart",
            event_time=now,
            event_id=f"{visitor}-{index}",
            properties={
                "value": 89.0,
                "currency": "EUR",
                "content_type": "product",
                "contents": [{"content_id": "SKU-TR2-BLU-9", "price": 89.0, "quantity": 1}],
            },
        )
        for index in range(events)
    ]
    receipt = {
        "policy_version": "2026-11-01.1",
        "regime": "opt_in",
        "action": "forward",
        "reason": "grant:tcf",
        "limited_data_use": False,
        "signals_present": ["tcf"],
        "decided_at": now,
    }
    envelope = QueuedEvents(
        v=2,
        pixel_code=PIXEL,
        shared=SharedContext(user=user, page=page),
        received_at=float(now),
        events=items,
        receipt=receipt,
        claim_id=_digest(f"claim-{visitor}")[:32],  # the collector's uuid4().hex: same length and alphabet
    )
    return envelope.body()
