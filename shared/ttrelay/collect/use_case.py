"""The collect use case: one HTTP request in, one queued message (or a consented drop) out.

Order matters: reject bad input before anything else, decide consent before reading or setting the
click-id cookie (storage needs consent), hash identifiers before anything is queued. Events are judged
one by one (ttrelay.collect.event_judgement): the usable ones are queued together, the others are answered.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Protocol, cast

from pydantic import ValidationError

from ttrelay.collect.cookie import COOKIE_NAME, ClickIdCookie, SigningKeys, sign, verify
from ttrelay.collect.error_wording import BODY_NOT_AN_OBJECT, wording
from ttrelay.collect.event_judgement import (
    MAX_LISTED_PROBLEMS,
    Judgement,
    Problem,
    UnusableEvent,
    UsableEvent,
    judge_events,
)
from ttrelay.collect.geo import canonical_ip, cloudfront_marks, locate, viewer_ip
from ttrelay.collect.pixel_params import events_api_properties
from ttrelay.collect.rate_limit import KeyRateLimiter
from ttrelay.collect.rejection import CollectRejected
from ttrelay.collect.request_limits import (
    BODY_DECODER,
    MAX_JSON_DEPTH,
    EventTimeWindow,
    RepeatedName,
    json_too_deep,
)
from ttrelay.collect.request_warnings import request_warnings
from ttrelay.collect.responses import (
    CollectAccepted,
    ErrorDetail,
    EventWarning,
    RejectedEvent,
)
from ttrelay.collect.senders import ApiKeyRing, Sender, identify_sender, presented_site_key
from ttrelay.config import CollectSettings
from ttrelay.consent.cmp_cookies import DEFAULT_CMP_COOKIE_CONFIG, CmpCookieConfig, consent_from_cookies
from ttrelay.consent.decide import evaluate
from ttrelay.consent.model import ConsentDecision, ConsentSignals, Location, Policy
from ttrelay.field_paths import field_path
from ttrelay.models import (
    MAX_QUEUED_MESSAGE_BYTES,
    SQS_MESSAGE_LIMIT,
    CollectEnvelope,
    QueuedEvents,
    is_click_token,
)
from ttrelay.privacy.match_keys import MatchKeyReading, read_match_keys
from ttrelay.privacy.page_urls import UrlPolicy, scrub_url, ttclid_from_page
from ttrelay.privacy.redaction import redact_properties

ACCEPTED_MEDIA_TYPES = ("application/json", "text/plain")


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
    query: Mapping[str, str] = MappingProxyType({})  # the query string's parameters (`?site_key=`)


@dataclass(frozen=True, slots=True)
class CollectDeps:
    settings: CollectSettings
    queue: EventQueue
    policy: Policy
    signing_keys: Callable[[], SigningKeys]
    origin_secret: Callable[[], str | None] = lambda: None
    api_keys: Callable[[], ApiKeyRing] = ApiKeyRing
    cmp_cookies: CmpCookieConfig = DEFAULT_CMP_COOKIE_CONFIG
    clock: Callable[[], float] = time.time
    # Per process, like a Lambda execution environment: the per-key limit of publishable site keys.
    site_key_limits: KeyRateLimiter = field(default_factory=KeyRateLimiter)


@dataclass(frozen=True, slots=True)
class Visitor:
    """The person behind the events: where they are, and their IP and user agent as TikTok gets them."""

    location: Location
    ip: str | None
    user_agent: str | None
    cloudfront_marks: tuple[str, ...] = ()  # header names only; with an unknown location: failed proof

    @property
    def origin_unverified(self) -> bool:
        return self.location.source == "cloudfront_unverified"


@dataclass(frozen=True, slots=True)
class CollectOutcome:
    accepted: int
    dropped: int
    decision: ConsentDecision
    receipt: Mapping[str, object]
    token: str | None  # the signed click-id cookie value: set only when consent allows storage
    clear_cookie: bool = False  # consent now denies storage: expire the cookie set earlier
    visitor: Visitor | None = None
    judgement: Judgement = field(default_factory=Judgement)
    pixel: str | None = None  # resolved against the allowlist; None only for outcomes built elsewhere
    message: QueuedEvents | None = None  # what was queued: for match-key coverage
    sender: Sender | None = None  # None only for outcomes built elsewhere

    @property
    def sandboxed(self) -> bool:
        """Admitted by a site key alone: no cookie is set or cleared, the token says it."""
        return self.sender is not None and self.sender.sandboxed

    @property
    def backend(self) -> bool:
        """A keyed backend has no browser: no cookie is set or cleared."""
        return self.sender is not None and self.sender.kind == "backend"

    def body(self) -> dict[str, object]:
        return self.answer().model_dump(mode="json", exclude_unset=True)

    def body_json(self) -> str:
        """The 202's body as sent: serialised by the model itself, in one step."""
        return self.answer().model_dump_json(exclude_unset=True)

    def answer(self) -> CollectAccepted:
        # Built through the response model, so docs/openapi.json documents exactly what is sent; the
        # decision is validated as its DecisionSummary field, in the same pass.
        decision = {
            "action": self.decision.action,
            "regime": self.decision.regime,
            "reason": self.decision.reason,
        }
        extras: dict[str, object] = {}
        if self.judgement.rejected:
            extras["rejected"] = [_rejected_entry(event) for event in self.judgement.rejected]
        about_events = [entry for event in self.judgement.usable for entry in _warning_entry(event)]
        if warnings := [*map(_request_warning_entry, self.judgement.warnings), *about_events]:
            extras["warnings"] = warnings
        return CollectAccepted.model_validate(
            {
                "accepted": self.accepted,
                "dropped": self.dropped,
                "decision": decision,
                "token": self.token,
                **extras,
            }
        )


def collect(request: HttpRequest, deps: CollectDeps) -> CollectOutcome:
    settings = deps.settings
    now = deps.clock()  # one instant for the rate limit, event_time window, consent decision and cookie
    body = _Body(request, settings)
    # Who is sending comes first: no body is judged and no pixel reached before the sender is known. A
    # foreign origin or a backend's key is refused before the body is read; a site key may sit in the body.
    sender = identify_sender(
        request.headers,
        settings.allowed_origins,
        deps.api_keys,
        lambda: presented_site_key(request.query, body.document()),
    )
    if sender.site_key is not None:
        deps.site_key_limits.take(sender.site_key.id, sender.site_key.rate_limit, now)
    payload, judgement = _judge(body.document(), settings, now, sender.may_set_visitor)
    pixel = _resolve_pixel(payload.pixel_code, settings.pixel_codes)
    sender.check_pixel(pixel, settings.pixel_codes)
    sender.check_page(payload.context.page_url)

    visitor = _visitor(payload, request, sender, deps)
    signals, stored = _signals(payload, request, deps.cmp_cookies)
    evaluation = evaluate(
        signals,
        visitor.location,
        deps.policy,
        int(now),
        stored=stored,
        trust_ip_location=settings.trust_ip_country,
    )
    decision, receipt = evaluation.decision, evaluation.receipt.model_dump(mode="json")
    had_cookie = COOKIE_NAME in request.cookies
    usable = judgement.usable
    if decision.action == "drop":
        return CollectOutcome(
            0,
            len(usable),
            decision,
            receipt,
            None,
            clear_cookie=had_cookie,
            visitor=visitor,
            judgement=judgement,
            pixel=pixel,
            sender=sender,
        )

    # Read only for events that are sent: a phone loads libphonenumber, which a drop never needs. Each
    # value is normalised once, for the warnings and for what is queued.
    region = settings.default_phone_region or None
    user_keys = read_match_keys(payload.user, region)
    event_keys = [read_match_keys(judged.event.properties, region) for judged in usable]
    judgement = judgement.with_match_key_warnings(
        user_keys.unusable, [keys.unusable for keys in event_keys], region
    )
    keys = deps.signing_keys()
    # Storing a click id needs consent to storage: under `limited` (the visitor opted out of sale or
    # sharing) nothing is stored or read back; the event carries only what this page itself sent.
    store = decision.action == "forward"
    cookie = _click_id_cookie(payload, request, keys, pixel, int(now), settings.cookie_max_age_days, store)
    # A backend gets a token only when it carries a click id or ttp, for the visitor's next events.
    token = (
        sign(cookie, keys) if store and (sender.kind == "browser" or cookie.ttclid or cookie.ttp) else None
    )
    clear = had_cookie and not store
    if not usable:
        # A decision probe (no events): the decision and the cookie it allows, nothing queued. A page
        # asks it to release the pixel without an event, and to clear the cookie when consent is withdrawn.
        return CollectOutcome(
            0,
            0,
            decision,
            receipt,
            token,
            clear,
            visitor=visitor,
            judgement=judgement,
            pixel=pixel,
            sender=sender,
        )
    shared, events = _tiktok_events(
        payload, usable, (user_keys, event_keys), visitor, cookie, decision, settings, int(now)
    )
    # Validated whole, in one pass of pydantic-core, rather than a model built per part (the user, the
    # page, each event and its own user): the same checks, a third less time.
    message = QueuedEvents.model_validate(
        {
            "v": 2,
            "pixel_code": pixel,
            "received_at": now,
            "shared": shared,
            "events": events,
            "receipt": receipt,
            "claim_id": os.urandom(16).hex(),  # random like a uuid4().hex, without building a UUID
        }
    )
    deps.queue.send(_queue_body(message))
    return CollectOutcome(
        len(events),
        0,
        decision,
        receipt,
        token,
        clear_cookie=clear,
        visitor=visitor,
        judgement=judgement,
        pixel=pixel,
        message=message,
        sender=sender,
    )


def _visitor(payload: CollectEnvelope, request: HttpRequest, sender: Sender, deps: CollectDeps) -> Visitor:
    """Where the visitor is and which IP and user agent are theirs.

    A keyed backend relays someone else's visit: its own address and agent are not the visitor's, so only
    `context.ip` / `context.user_agent` count (location from that IP alone; CloudFront headers on a backend
    call would describe the backend). A browser's `context.ip` is ignored: the connection says who it is.
    """
    settings = deps.settings
    if sender.may_set_visitor:
        ip = _visitor_ip(payload.context.ip)
        return Visitor(location=locate({}, ip, None), ip=ip, user_agent=payload.context.user_agent)
    secret, header = deps.origin_secret(), settings.origin_verify_header_name
    location = locate(request.headers, request.source_ip, secret, header)
    unverified = location.source == "cloudfront_unverified"
    return Visitor(
        location=location,
        ip=viewer_ip(request.headers, request.source_ip, secret, header),
        user_agent=request.user_agent,
        # Only a failed proof is logged with the marks (header names) that showed CloudFront.
        cloudfront_marks=cloudfront_marks(request.headers) if unverified else (),
    )


def _visitor_ip(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return canonical_ip(text.strip())
    except ValueError:
        raise CollectRejected(
            400, "invalid_request", [{"loc": "context.ip", "msg": "not an IPv4 or IPv6 address"}]
        ) from None


class _Body:
    """The request's JSON document, read once, when first asked for: for the site key or for judging."""

    __slots__ = ("_document", "_request", "_settings")

    def __init__(self, request: HttpRequest, settings: CollectSettings) -> None:
        self._request, self._settings = request, settings
        self._document: object = _UNREAD

    def document(self) -> object:
        if self._document is _UNREAD:
            self._document = _read_json(self._request, self._settings)
        return self._document


_UNREAD = object()


def _read_json(request: HttpRequest, settings: CollectSettings) -> object:
    """The body as JSON, within the media type, size and depth limits; a 4xx otherwise."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ACCEPTED_MEDIA_TYPES:
        raise CollectRejected(415, "unsupported_media_type", [{"msg": "send application/json or text/plain"}])
    if len(request.body) > settings.max_body_bytes:
        raise CollectRejected(413, "body_too_large", [{"msg": f"at most {settings.max_body_bytes} bytes"}])
    not_json = CollectRejected(400, "invalid_json", [{"msg": "the body is not valid JSON (UTF-8)"}])
    try:
        # UTF-8 only (RFC 8259 §8.1): the depth scan below must see the characters json.loads sees.
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise not_json from None
    if json_too_deep(text):
        # Checked before parsing: json.loads recurses per level and 20,000 levels crash it.
        message = f"the body nests deeper than {MAX_JSON_DEPTH} levels"
        raise CollectRejected(400, "invalid_json", [{"msg": message}])
    try:
        document = BODY_DECODER.decode(text)
    except RepeatedName:
        message = "the body names a member twice within one object; send each name once"
        raise CollectRejected(400, "invalid_json", [{"msg": message}]) from None
    except (ValueError, RecursionError):
        raise not_json from None
    return document


def _judge(
    document: object, settings: CollectSettings, now: float, may_set_visitor: bool
) -> tuple[CollectEnvelope, Judgement]:
    """The request's envelope and its events judged; a 4xx when the envelope is bad or no event usable."""
    try:
        payload = CollectEnvelope.model_validate(document)
    except ValidationError as exc:
        raise CollectRejected(400, "invalid_request", _safe_errors(exc, document)) from None
    if len(payload.events) > settings.max_events_per_request:
        errors = [{"loc": "events", "msg": f"at most {settings.max_events_per_request} events per request"}]
        raise CollectRejected(400, "invalid_request", errors)
    window = EventTimeWindow(now, settings.event_time_max_future_seconds, settings.event_time_max_age_seconds)
    judgement = judge_events(payload.events, window)
    if judgement.rejected and not judgement.usable:  # no events at all is a decision probe, not an error
        problems = [_error(problem) for event in judgement.rejected for problem in event.errors]
        raise CollectRejected(400, "invalid_request", problems)
    # A document that validated as the envelope is a JSON object.
    warnings = request_warnings(cast("dict[str, object]", document), payload, may_set_visitor)
    return payload, replace(judgement, warnings=warnings)


def _safe_errors(exc: ValidationError, document: object) -> list[dict[str, object]]:
    """Pydantic's errors without the submitted input or the sender's own keys: no PII is echoed back.
    At most MAX_LISTED_PROBLEMS, then a count of the others."""
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    listed: list[dict[str, object]] = [
        {
            "loc": field_path("", error["loc"], document, CollectEnvelope),
            "type": error["type"],
            "msg": wording(error) if error["loc"] else BODY_NOT_AN_OBJECT,
        }
        for error in errors[:MAX_LISTED_PROBLEMS]
    ]
    if (more := len(errors) - MAX_LISTED_PROBLEMS) > 0:
        listed.append({"type": "more_problems", "msg": f"{more} more problems not listed"})
    return listed


def _resolve_pixel(requested: str | None, configured: tuple[str, ...]) -> str:
    if requested is None:
        if len(configured) == 1:
            return configured[0]
        raise CollectRejected(
            400, "invalid_request", [{"loc": "pixel_code", "msg": "pixel_code is required"}]
        )
    return requested  # whether the relay serves it, and for this sender: Sender.check_pixel


def _signals(
    payload: CollectEnvelope, request: HttpRequest, cmp_cookies: CmpCookieConfig
) -> tuple[ConsentSignals, ConsentSignals | None]:
    """The request's own signals (body and Sec-GPC) and, separately, what the CMP stored in cookies.

    Both are always read: the policy lets a refusal from either win (docs/consent.md, precedence)."""
    consent = payload.consent
    # Sec-GPC: only the exact value 1 counts; one among repeated (comma-joined) headers is enough.
    header_gpc = any(part.strip() == "1" for part in request.headers.get("sec-gpc", "").split(","))
    # The values as sent: ConsentSignals sets aside those of the wrong type as malformed (a refusal). The
    # model's own field values, not a dump's copies; vars(), as dict(model) first asks the model for a
    # `keys` attribute, which raises inside pydantic.
    sent = ConsentSignals.model_validate({**vars(consent), "gpc": True if header_gpc else consent.gpc})
    found = consent_from_cookies(request.cookies, cmp_cookies)
    if not (found.tcf or found.gpp or found.usp or found.cmp):
        return sent, None
    return sent, ConsentSignals(tcf=found.tcf, gpp=found.gpp, usp=found.usp, cmp=found.cmp)


def _rejected_entry(event: UnusableEvent) -> RejectedEvent:
    errors = [ErrorDetail.model_validate(_error(problem)) for problem in event.errors]
    return RejectedEvent(index=event.index, event_id=event.event_id, errors=errors)


def _warning_entry(event: UsableEvent) -> list[EventWarning]:
    event_id = event.event.event_id
    return [
        EventWarning(index=event.index, event_id=event_id, loc=problem.loc, msg=problem.msg)
        for problem in event.warnings
    ]


def _request_warning_entry(problem: Problem) -> EventWarning:
    return EventWarning(loc=problem.loc, msg=problem.msg)


def _error(problem: Problem) -> dict[str, object]:
    return {"loc": problem.loc, "type": problem.type, "msg": problem.msg}


def _click_id_cookie(
    payload: CollectEnvelope,
    request: HttpRequest,
    keys: SigningKeys,
    pixel: str,
    now: int,
    max_age_days: int,
    read_stored: bool,
) -> ClickIdCookie:
    """Click id from the body, else the page URL or a same-host referrer, else this pixel's signed cookie
    or token (TikTok's capture order, reference §8; the body comes first because the snippet reads it
    from the same places in the browser)."""
    previous = None
    if read_stored:
        previous = verify(request.cookies.get(COOKIE_NAME), keys, now, pixel) or verify(
            payload.context.token, keys, now, pixel
        )
    context = payload.context
    from_page = ttclid_from_page(context.page_url, context.referrer)
    ttclid = context.ttclid or from_page or _stored_click_id(previous)
    ttp = context.ttp or (previous.ttp if previous else None)
    first_seen = previous.first_seen if previous else now
    return ClickIdCookie(
        ttclid=ttclid, ttp=ttp, first_seen=first_seen, exp=now + max_age_days * 86_400, pixel=pixel
    )


def _stored_click_id(previous: ClickIdCookie | None) -> str | None:
    # A cookie signed before page URLs' click ids were checked may hold one that is not (an address).
    return previous.ttclid if previous and previous.ttclid and is_click_token(previous.ttclid) else None


def _tiktok_events(
    payload: CollectEnvelope,
    usable: list[UsableEvent],
    match_keys: tuple[MatchKeyReading, list[MatchKeyReading]],
    visitor: Visitor,
    cookie: ClickIdCookie,
    decision: ConsentDecision,
    settings: CollectSettings,
    now: int,
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The request's shared context (visitor, page, `user`'s match keys), once, and each event's own part
    (`match_keys`: `user`'s and each usable event's, read once by the caller), as the SharedContext and
    TikTokEvent fields that QueuedEvents validates."""
    user_keys, event_keys = match_keys
    url_policy = UrlPolicy.of(
        settings.url_param_mode,
        settings.url_pii_params,
        settings.url_allowed_params,
        settings.person_name_parts,
    )
    page_url = scrub_url(payload.context.page_url, url_policy)
    referrer = scrub_url(payload.context.referrer, url_policy)
    shared: dict[str, object] = {
        "user": {
            **user_keys.fields,
            "ttclid": cookie.ttclid,
            "ttp": cookie.ttp,
            "ip": visitor.ip,
            "user_agent": visitor.user_agent,
            "locale": payload.context.locale,
        },
        "page": {"url": page_url, "referrer": referrer} if page_url or referrer else None,
    }
    events: list[dict[str, object]] = [
        {
            "event": event.event,
            # A missing id gets a random one: the pixel cannot share it, so such events never pair-dedup.
            "event_id": event.event_id or f"srv-{uuid.uuid4()}",
            "event_time": event.event_time or now,
            # Match keys the site put into this event's properties; the forwarder merges them with the
            # shared ones (QueuedEvents.api_event).
            "user": own_keys.fields,
            "properties": redact_properties(events_api_properties(event.properties), url_policy),
            "limited_data_use": decision.limited_data_use,
        }
        for event, own_keys in zip((judged.event for judged in usable), event_keys, strict=True)
    ]
    return shared, events


def _queue_body(message: QueuedEvents) -> str:
    """The message as SQS gets it; refused whole (nothing queued) when SQS could not take it."""
    body = message.body()
    if len(body.encode()) > MAX_QUEUED_MESSAGE_BYTES:
        msg = (
            f"the accepted events would make a queued message of more than {MAX_QUEUED_MESSAGE_BYTES} "
            f"bytes (SQS's limit is {SQS_MESSAGE_LIMIT}): send fewer events per request"
        )
        raise CollectRejected(413, "message_too_large", [{"msg": msg}])
    return body
