"""Plain-language sentences for the inspector: what a decision, an error or an event status means to a
site owner, and what to do about it. Reason grammar: docs/consent.md "Reasons"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ttrelay.consent.model import TCF_VENDOR_UNCONFIGURED

_ACTION_RESULT = {
    "forward": "sent to TikTok",
    "limited": "sent to TikTok with limited_data_use, so TikTok restricts how it uses the data",
    "drop": "nothing sent",
}

_SIGNALS = {
    "tcf": "the TCF consent string",
    "gpp": "the GPP string",
    "gpp.tcfeuv2": "the TCF section of the GPP string",
    "usp": "the US Privacy string",
    "gpc": "Global Privacy Control (Sec-GPC header or consent.gpc)",
    "gcm": "Google Consent Mode",
    "cmp": "your CMP's marketing category",
}

_WHY = {
    "malformed": (
        "it could not be read: a string that fails decoding or is dated more than a day ahead, or a value "
        "of the wrong type (cmp categories take true/false, Consent Mode takes granted/denied)"
    ),
    "policy_version": "it predates TCF 2.2 (policy version below 4)",
    "stale": "it is older than the policy's tcf_max_age_days",
    "vendor_consent": "the configured vendor has no consent",
    "denied": "ad_storage or ad_user_data is denied",
    "marketing": "the marketing category is refused",
    "gpc": "the browser sends the GPC opt-out",
    "opted_out": "the visitor opted out of sale, sharing or targeted advertising",
}

_LOCATIONS = {
    "cloudfront": "from CloudFront's viewer headers (verified by the origin secret)",
    "cloudfront_unverified": (
        "CloudFront headers without the origin secret: treated as unknown, so the strictest rules apply"
    ),
    "ip": "from IP registry data, which may only make the rules stricter",
    "none": (
        "unknown (locally there is no CloudFront), so the unknown-location regime applies: opt-in by default"
    ),
}

_ERRORS = {
    "origin_not_allowed": "This page's origin is not in the relay's AllowedOrigins setting: add it (a "
    "sandboxed page, Origin null, needs a site key instead).",
    "api_key_required": "No Origin header and no API key: a backend must send Authorization: Bearer <key>.",
    "invalid_api_key": "The API key is unknown or revoked (ttrelay keys list).",
    "pixel_not_allowed": "This pixel code is not configured, or the API key or site key may not send to it.",
    "invalid_site_key": "The site key is unknown or revoked (ttrelay keys list).",
    "site_key_mismatch": "The query's ?site_key= and the body's site_key differ: send one of them.",
    "host_not_allowed": "The site key only sends for its hosts: context.page_url is on another host.",
    "invalid_json": "The body is not valid JSON.",
    "invalid_request": "The body does not have the shape POST /events expects: see the error paths.",
    "unsupported_media_type": "Send Content-Type application/json (or text/plain from sendBeacon).",
    "body_too_large": "The body is larger than the collector accepts: send fewer events per request.",
    "message_too_large": "The accepted events would make a queue message larger than SQS takes: send fewer "
    "events per request.",
    "throttled": "Over the site key's rate limit (Retry-After says when to retry), or the collector is at "
    "its reserved concurrency.",
    "function_error": "The collector crashed or timed out: see the function's log in the terminal.",
}

# Reasons when no signal decided (docs/consent.md "Reasons"), one per regime.
_UNDECIDED = {
    "no_consent_signal": (
        "No consent signal, and the visitor's region needs opt-in: {result}. "
        "Pass your CMP's answer in `consent` (or let its cookies reach the collector)."
    ),
    "notice": "The visitor's region only needs notice and nothing refused: {result}.",
    "no_opt_out": "Opt-out region and the visitor has not opted out: {result}.",
    TCF_VENDOR_UNCONFIGURED: (
        "The TCF string consents to the required purposes, but no TikTok vendor id is configured, so TCF "
        "cannot grant on its own: {result}. Set TikTokVendorId (docs/consent.md), or pass your CMP's "
        "TikTok choice in `consent.cmp` or Consent Mode."
    ),
}
# Said after the decision when a signal decided nothing, though something else did.
_UNDECIDED_NOTES = {
    TCF_VENDOR_UNCONFIGURED: (
        "The TCF string was not used: no TikTok vendor id is configured (TikTokVendorId, docs/consent.md)."
    ),
}

_EVENT_STATUS = {
    "delivered": "TikTok's Events API accepted it.",
    "deduplicated": "Already delivered by an earlier request with this event_id: not sent again.",
    "queued": "Accepted and waiting in the events queue for the forwarder.",
    "retrying": "The last attempt failed; the message is back in the queue and will be retried.",
    "parked": "Delivery failed for good: parked in the dead-letter queue (ttrelay dlq inspect|redrive).",
    "dropped": "Refused by consent: never queued, never sent.",
    "rejected": "Unusable as sent: skipped, the request's other events were not.",
    "refused": "The whole request was refused (see above): nothing was queued.",
    "untraceable": (
        "Sent without event_id: the relay gave it a random one, so it cannot be followed here "
        "nor deduplicated against the pixel. Send an event_id."
    ),
    "not_followed": "Forwarded to the real TikTok endpoint: the inspector only sees deliveries to the fake.",
}


def explain_decision(action: str, reason: str, undecided: Sequence[str] = ()) -> str:
    """The decision as a sentence; `undecided` (the receipt's) adds why a signal was not used."""
    sentence = _decision_sentence(action, reason)
    notes = [_UNDECIDED_NOTES[name] for name in undecided if name in _UNDECIDED_NOTES and name != reason]
    return " ".join([sentence, *notes])


def _decision_sentence(action: str, reason: str) -> str:
    result = _ACTION_RESULT.get(action, action)
    if reason in _UNDECIDED:
        return _UNDECIDED[reason].format(result=result)
    kind, _, rest = reason.partition(":")
    signal, _, why = rest.partition(":")
    where = _signal_name(signal)
    sentences = {
        "grant": f"Consent granted by {where}: {result}.",
        "deny": f"Refused by {where} ({_why(why)}): {result}.",
        "opt_out": f"The visitor opted out through {where} ({_why(why)}): {result}.",
    }
    return sentences.get(kind, f"{reason}: {result}.")


def explain_location(location: Mapping[str, object]) -> str:
    source = str(location.get("source") or "none")
    place = "-".join(str(part) for part in (location.get("country"), location.get("subdivision")) if part)
    sentence = _LOCATIONS.get(source, source)
    return f"{place}, {sentence}" if place else sentence


def explain_error(error: str) -> str:
    return _ERRORS.get(error, f"Refused ({error}).")


def explain_event_status(status: str) -> str:
    return _EVENT_STATUS[status]


def _signal_name(signal: str) -> str:
    cookie, dot, inner = signal.partition(".")
    if cookie == "cookie" and dot:
        return f"{_signal_name(inner)}, read from the CMP's cookies"
    if signal.startswith("gpp.") and signal not in _SIGNALS:
        return f"the GPP US section {signal[4:]}"
    return _SIGNALS.get(signal, signal)


def _why(why: str) -> str:
    if why.startswith("purpose_"):
        return f"no consent for TCF purpose {why[8:]}"
    if why.startswith("restriction_p"):
        return f"a publisher restriction forbids purpose {why[13:]}"
    return _WHY.get(why, why)
