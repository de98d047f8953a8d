"""TikTok Events API 2.0 facts and response classification (reference/tiktok-events-api.md).

Shared by the forwarder, the fake Events API and the tests; pure, no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

TRACK_PATH = "/open_api/v1.3/event/track/"  # keep the trailing slash: without it TikTok answers 404
MAX_EVENTS_PER_REQUEST = 1000
# §2 event_source_id: a pixel code is 20 upper-case alphanumerics, e.g. CXXXXXXXXXXXXXXXXXXX.
PIXEL_CODE_PATTERN = r"[A-Z0-9]{20}"
# §2 event_time is Unix seconds: from 2015 on, and below 10^10 (a 13-digit value is milliseconds).
EARLIEST_EVENT_TIME = 1_420_070_400  # 2015-01-01T00:00:00Z
EVENT_TIME_LIMIT = 10**10
MAX_EVENT_ID_LENGTH = 256

# §5: the 18 standard web events, and the legacy names TikTok's own templates still send. Names are
# case-sensitive: `purchase` is a custom event that neither optimises nor dedups with `Purchase`.
STANDARD_EVENTS = frozenset(
    {
        "AddPaymentInfo", "AddToCart", "AddToWishlist", "ApplicationApproval", "CompleteRegistration",
        "Contact", "CustomizeProduct", "Download", "FindLocation", "InitiateCheckout", "Lead", "Purchase",
        "Schedule", "Search", "StartTrial", "SubmitApplication", "Subscribe", "ViewContent",
    }
)  # fmt: skip
LEGACY_EVENTS = frozenset({"CompletePayment", "PlaceAnOrder", "ClickButton", "SubmitForm"})
_STANDARD_BY_LOWER = {name.lower(): name for name in STANDARD_EVENTS | LEGACY_EVENTS}


def case_insensitive_standard_event(name: str) -> str | None:
    """The standard name `name` differs from only by case (`purchase` → Purchase), else None."""
    standard = _STANDARD_BY_LOWER.get(name.lower())
    return standard if standard is not None and standard != name else None


# §2 properties.currency: the codes TikTok lists.
TIKTOK_CURRENCIES = frozenset(
    [
        "AED",
        "ARS",
        "AUD",
        "BDT",
        "BHD",
        "BIF",
        "BOB",
        "BRL",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CZK",
        "DKK",
        "DZD",
        "EGP",
        "EUR",
        "GBP",
        "GTQ",
        "HKD",
        "HNL",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "ISK",
        "JPY",
        "KES",
        "KHR",
        "KRW",
        "KWD",
        "KZT",
        "MAD",
        "MOP",
        "MXN",
        "MYR",
        "NGN",
        "NIO",
        "NOK",
        "NZD",
        "OMR",
        "PEN",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RUB",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "VES",
        "VND",
        "ZAR",
    ]
)


# ---- response classification (reference §6, vectors/capi-responses.json) ------------------------
# TikTok answers HTTP 200 for most errors, so the body `code` decides whenever the body is JSON.


class Verdict(enum.StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"
    RETRY = "retry"
    PERMANENT = "permanent"


SUCCESS_CODE = 0
PARTIAL_OK_CODE = 20001
RATE_LIMIT_CODES = frozenset({40100, 61000, 40016, 40132, 40133})
SERVER_ERROR_CODES = frozenset({50000, 50002})
MAINTENANCE_CODE = 60001
# Configuration errors: resending cannot help until someone fixes the pixel, token or partner name.
CONFIGURATION_CODES = frozenset({40001, 40102, 40104, 40105, 40063})
TOKEN_CODES = frozenset({40102, 40104, 40105})


@dataclass(frozen=True, slots=True)
class Classification:
    verdict: Verdict
    reason: str  # machine-readable: "code:40100", "http:503", "transport:timeout"
    code: int | None = None
    http_status: int | None = None
    message: str = ""
    request_id: str | None = None
    alert: bool = False  # a configuration problem an operator must fix
    rate_limited: bool = False


def classify(http_status: int | None, body: object, transport_error: str | None = None) -> Classification:
    if transport_error is not None or http_status is None:
        return Classification(Verdict.RETRY, f"transport:{transport_error or 'no_response'}")
    if isinstance(body, Mapping) and isinstance(body.get("code"), int) and not isinstance(body["code"], bool):
        return _classify_code(http_status, body)
    return _classify_status(http_status)


def _classify_code(http_status: int, body: Mapping[str, object]) -> Classification:
    code = int(str(body["code"]))
    message = str(body.get("message", ""))[:500]
    request_id = body.get("request_id")
    common = {
        "code": code,
        "http_status": http_status,
        "message": message,
        "request_id": request_id if isinstance(request_id, str) else None,
        "reason": f"code:{code}",
    }
    if code == SUCCESS_CODE:
        return Classification(Verdict.SUCCESS, **common)  # type: ignore[arg-type]
    if code == PARTIAL_OK_CODE:
        # Which events failed is UNCONFIRMED; resending all would repeat payload errors (reference §6).
        return Classification(Verdict.PARTIAL, **common)  # type: ignore[arg-type]
    if code in RATE_LIMIT_CODES:
        return Classification(Verdict.RETRY, rate_limited=True, **common)  # type: ignore[arg-type]
    if code in SERVER_ERROR_CODES or code == MAINTENANCE_CODE:
        return Classification(Verdict.RETRY, **common)  # type: ignore[arg-type]
    # 40002/40061/40062 are payload or relay bugs; configuration codes and unknown codes need a human.
    alert = code in CONFIGURATION_CODES or code not in {40002, 40061, 40062}
    return Classification(Verdict.PERMANENT, alert=alert, **common)  # type: ignore[arg-type]


def _classify_status(http_status: int) -> Classification:
    reason = f"http:{http_status}"
    if http_status >= 500 or http_status in (408, 429):
        return Classification(Verdict.RETRY, reason, http_status=http_status, rate_limited=http_status == 429)
    if 200 <= http_status < 300:
        # A 2xx without a JSON envelope is ambiguous; resending is safe (TikTok dedups on event_id).
        return Classification(Verdict.RETRY, "http:non_json_2xx", http_status=http_status)
    # 404 is the classic missing trailing slash: a configuration error.
    return Classification(Verdict.PERMANENT, reason, http_status=http_status, alert=True)
