"""The collect use case: one HTTP request in, one queued message (or a consented drop) out.

Order matters: reject bad input before anything else, decide consent before reading or setting the
click-id cookie (storage needs consent), hash identifiers before anything is queued.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from ttrelay.config import CollectSettings
from ttrelay.consent.cmp_cookies import DEFAULT_CMP_COOKIE_CONFIG, CmpCookieConfig, consent_from_cookies
from ttrelay.consent.decide import evaluate
from ttrelay.consent.model import ConsentDecision, ConsentSignals, Policy
from ttrelay.cookie import COOKIE_NAME, ClickIdCookie, SigningKeys, sign, verify
from ttrelay.geo import locate, viewer_ip
from ttrelay.hashing import HASHED_USER_FIELDS, hash_user_field
from ttrelay.models import CollectRequest, QueuedEvents, TikTokEvent, TikTokPage, TikTokUser
from ttrelay.page import scrub_url, ttclid_from_url

ACCEPTED_MEDIA_TYPES = ("application/json", "text/plain")


class CollectRejected(Exception):
    """A request the collector refuses; `errors` never contains the submitted values."""

    def __init__(self, status: int, error: str, errors: Sequence[Mapping[str, object]] = ()) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.errors = [dict(item) for item in errors]


class EventQueue(Protocol):
    def send(self, body: str) -> None: ...


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """The parts of an HTTP request the collector reads; header names are lower case."""

    body: bytes
    headers: Mapping[str, str]
    cookies: Mapping[str, str]
    source_ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class CollectDeps:
    settings: CollectSettings
    queue: EventQueue
    policy: Policy
    signing_keys: Callable[[], SigningKeys]
    origin_secret: Callable[[], str | None] = lambda: None
    cmp_cookies: CmpCookieConfig = DEFAULT_CMP_COOKIE_CONFIG
    clock: Callable[[], float] = time.time


@dataclass(frozen=True, slots=True)
class CollectOutcome:
    accepted: int
    dropped: int
    decision: ConsentDecision
    receipt: Mapping[str, object]
    token: str | None  # the signed click-id cookie value: set only when consent allows storage
    clear_cookie: bool = False  # consent now denies storage: expire the cookie set earlier

    def body(self) -> dict[str, object]:
        decision = {
            "action": self.decision.action,
            "regime": self.decision.regime,
            "reason": self.decision.reason,
        }
        return {"accepted": self.accepted, "dropped": self.dropped, "decision": decision, "token": self.token}


def collect(request: HttpRequest, deps: CollectDeps) -> CollectOutcome:
    settings = deps.settings
    _check_origin(request.headers.get("origin"), settings.allowed_origins)
    payload = _parse(request, settings)
    pixel = _resolve_pixel(payload.pixel_code, settings.pixel_codes)
    now = deps.clock()

    signals = _signals(payload, request, deps.cmp_cookies)
    origin_secret, header_name = deps.origin_secret(), settings.origin_verify_header_name
    location = locate(request.headers, request.source_ip, origin_secret, header_name)
    evaluation = evaluate(signals, location, deps.policy, int(now))
    decision, receipt = evaluation.decision, evaluation.receipt.model_dump(mode="json")
    if decision.action == "drop":
        withdrawn = COOKIE_NAME in request.cookies
        return CollectOutcome(0, len(payload.events), decision, receipt, token=None, clear_cookie=withdrawn)

    keys = deps.signing_keys()
    cookie = _click_id_cookie(payload, request, keys, int(now), settings.cookie_max_age_days)
    token = sign(cookie, keys)
    visitor_ip = viewer_ip(request.headers, request.source_ip, origin_secret, header_name)
    events = _tiktok_events(payload, request, visitor_ip, cookie, decision, settings, int(now))
    message = QueuedEvents(pixel_code=pixel, received_at=now, events=events, receipt=receipt)
    deps.queue.send(message.model_dump_json(exclude_none=True))
    return CollectOutcome(len(events), 0, decision, receipt, token=token)


def _check_origin(origin: str | None, allowed: tuple[str, ...]) -> None:
    # Browsers always send Origin on cross-origin POSTs; server-to-server callers send none.
    if origin and allowed and "*" not in allowed and origin.rstrip("/") not in allowed:
        raise CollectRejected(403, "origin_not_allowed")


def _parse(request: HttpRequest, settings: CollectSettings) -> CollectRequest:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ACCEPTED_MEDIA_TYPES:
        raise CollectRejected(415, "unsupported_media_type", [{"msg": "send application/json or text/plain"}])
    if len(request.body) > settings.max_body_bytes:
        raise CollectRejected(413, "body_too_large", [{"msg": f"at most {settings.max_body_bytes} bytes"}])
    try:
        document = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        raise CollectRejected(400, "invalid_json", [{"msg": "the body is not valid JSON"}]) from None
    try:
        payload = CollectRequest.model_validate(document)
    except ValidationError as exc:
        raise CollectRejected(400, "invalid_request", _safe_errors(exc)) from None
    if len(payload.events) > settings.max_events_per_request:
        errors = [{"loc": "events", "msg": f"at most {settings.max_events_per_request} events per request"}]
        raise CollectRejected(400, "invalid_request", errors)
    return payload


def _safe_errors(exc: ValidationError) -> list[dict[str, object]]:
    """Pydantic's errors without the submitted input, so no PII is ever echoed back."""
    return [
        {"loc": ".".join(str(part) for part in error["loc"]), "type": error["type"], "msg": error["msg"]}
        for error in exc.errors(include_input=False, include_url=False, include_context=False)
    ]


def _resolve_pixel(requested: str | None, configured: tuple[str, ...]) -> str:
    if requested is None:
        if len(configured) == 1:
            return configured[0]
        raise CollectRejected(
            400, "invalid_request", [{"loc": "pixel_code", "msg": "pixel_code is required"}]
        )
    if requested not in configured:
        raise CollectRejected(403, "pixel_not_allowed")
    return requested


def _signals(payload: CollectRequest, request: HttpRequest, cmp_cookies: CmpCookieConfig) -> ConsentSignals:
    consent = payload.consent
    # Sec-GPC: only the exact value 1 counts; one among repeated (comma-joined) headers is enough.
    gpc = bool(consent.gpc) or any(
        part.strip() == "1" for part in request.headers.get("sec-gpc", "").split(",")
    )
    if not (consent.tcf or consent.gpp or consent.usp or consent.gcm or consent.cmp):
        # The page sent no consent state: fall back to what the site's CMP stored in cookies.
        stored = consent_from_cookies(request.cookies, cmp_cookies)
        return ConsentSignals(tcf=stored.tcf, gpp=stored.gpp, usp=stored.usp, cmp=stored.cmp, gpc=gpc)
    return ConsentSignals(
        tcf=consent.tcf,
        gpp=consent.gpp,
        gpp_sid=tuple(consent.gpp_sid),
        usp=consent.usp,
        gpc=gpc,
        gcm=consent.gcm,
        cmp=consent.cmp,
    )


def _click_id_cookie(
    payload: CollectRequest, request: HttpRequest, keys: SigningKeys, now: int, max_age_days: int
) -> ClickIdCookie:
    """Click id from the body, else the page URL, else the signed cookie or token; refreshed expiry."""
    previous = verify(request.cookies.get(COOKIE_NAME), keys, now) or verify(payload.context.token, keys, now)
    context = payload.context
    ttclid = context.ttclid or ttclid_from_url(context.page_url) or (previous.ttclid if previous else None)
    ttp = context.ttp or (previous.ttp if previous else None)
    first_seen = previous.first_seen if previous else now
    return ClickIdCookie(ttclid=ttclid, ttp=ttp, first_seen=first_seen, exp=now + max_age_days * 86_400)


def _tiktok_events(
    payload: CollectRequest,
    request: HttpRequest,
    visitor_ip: str | None,
    cookie: ClickIdCookie,
    decision: ConsentDecision,
    settings: CollectSettings,
    now: int,
) -> list[TikTokEvent]:
    region = settings.default_phone_region or None
    hashed = {
        name: hash_user_field(name, getattr(payload.user, name), region)
        for name in HASHED_USER_FIELDS
        if getattr(payload.user, name) is not None
    }
    user = TikTokUser(
        **{name: digests for name, digests in hashed.items() if digests},
        ttclid=cookie.ttclid,
        ttp=cookie.ttp,
        ip=visitor_ip,
        user_agent=request.user_agent,
        locale=payload.context.locale,
    )
    page_url, referrer = scrub_url(payload.context.page_url), scrub_url(payload.context.referrer)
    page = TikTokPage(url=page_url, referrer=referrer) if page_url or referrer else None
    return [
        TikTokEvent(
            event=event.event,
            # A missing id gets a random one: the pixel cannot share it, so such events never pair-dedup.
            event_id=event.event_id or f"srv-{uuid.uuid4()}",
            event_time=event.event_time or now,
            user=user,
            properties=event.properties.model_dump(exclude_none=True),
            page=page,
            limited_data_use=decision.limited_data_use,
        )
        for event in payload.events
    ]
