"""A fake TikTok Events API 2.0 for the local stack, the e2e tests and the chaos harness.

It checks `POST /open_api/v1.3/event/track/` as strictly as reference/tiktok-events-api.md §1-6
describes, records every request with the answer it got, keeps a ledger of accepted events and injects
faults on demand. Framework-free and thread-safe: the local HTTP front mounts `FakeEventsApi.handle`
under `/_local/tiktok` (DESIGN.md, "Local stack").
"""

from __future__ import annotations

import bisect
import dataclasses
import ipaddress
import json
import math
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final, TypeGuard

from ttrelay.forward.events_api import (
    EARLIEST_EVENT_TIME,
    EVENT_TIME_LIMIT,
    MAX_EVENT_ID_LENGTH,
    MAX_EVENTS_PER_REQUEST,
    PIXEL_CODE_PATTERN,
    TIKTOK_CURRENCIES,
    TRACK_PATH,
)
from ttrelay.privacy.hashing import is_sha256_hex

_PIXEL_CODE: Final = re.compile(PIXEL_CODE_PATTERN)
# §7: TikTok itself drops repeats of (pixel, event, event_id) received within 48 h.
TIKTOK_DEDUP_WINDOW_S: Final = 48 * 3600

# Body codes (§6, vectors/capi-responses.json).
OK: Final = 0
BAD_PARAMETER: Final = 40002
INVALID_BATCH_SIZE: Final = 40061
PII_NOT_HASHED: Final = 40062
INVALID_PARTNER_NAME: Final = 40063
ACCESS_TOKEN_NULL: Final = 40104
ACCESS_TOKEN_INVALID: Final = 40105

_MESSAGES: Final[Mapping[int, str]] = {
    OK: "OK",
    20001: "Partial OK",
    40001: "No permission to operate pixel code",
    BAD_PARAMETER: "Invalid parameter",
    40016: "Requests too frequent",
    INVALID_BATCH_SIZE: "Invalid batch size",
    PII_NOT_HASHED: "PII data is not hashed",
    INVALID_PARTNER_NAME: "Invalid partner name",
    40100: "Requests too frequent",
    40102: "Access token has expired",
    ACCESS_TOKEN_NULL: "Access token is null",
    ACCESS_TOKEN_INVALID: "Access token is invalid",
    40132: "Too many requests for this pixel_code",
    40133: "Too many requests for this advertiser",
    50000: "System error",
    50002: "Error processing request",
    60001: "System under maintenance",
    61000: "Too many requests",
}

# (event_source_id, event, event_id, test_event_code or "")
type LedgerKey = tuple[str, str, str, str]
type Checker = Callable[[object, str], None]


@dataclass(frozen=True, slots=True)
class FakeResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class EventsApiRejection(Exception):
    """A request TikTok would refuse: HTTP 200 with this body `code` (§6)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FaultConfigError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# ---------------------------------------------------------------------------------------------------
# Request body validation (§2-§5). Messages name the field, never its value: values may be raw PII.


def _bad(where: str, reason: str) -> EventsApiRejection:
    return EventsApiRejection(BAD_PARAMETER, f"{where}: {reason}")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _require_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, "Not a valid object")
    return value


def _require_str(value: object, where: str) -> None:
    if not isinstance(value, str):
        raise _bad(where, "Not a valid string")


def _require_int(value: object, where: str) -> None:
    if not _is_int(value):
        raise _bad(where, "Not a valid integer")


def _require_number(value: object, where: str) -> None:
    if not _is_number(value):
        raise _bad(where, "Not a valid number")


def _require_bool(value: object, where: str) -> None:
    if not isinstance(value, bool):
        raise _bad(where, "Not a valid boolean")


def _require_str_list(value: object, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _bad(where, "Not a valid list of strings")


def _require_hashed(value: object, where: str) -> None:
    # §3: a single string is accepted as well as an array; each must be SHA-256 lower-case hex.
    values = value if isinstance(value, list) else [value]
    for item in values:
        # §3: match keys travel as SHA-256 lower-case hex; anything else is raw PII to TikTok (40062).
        if not isinstance(item, str) or not is_sha256_hex(item):
            raise EventsApiRejection(PII_NOT_HASHED, f"{where}: {_MESSAGES[PII_NOT_HASHED]}")


def _require_ip(value: object, where: str) -> None:
    _require_str(value, where)
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        raise _bad(where, "Not a valid IPv4 or IPv6 address") from None


def _require_currency(value: object, where: str) -> None:
    if not isinstance(value, str) or value not in TIKTOK_CURRENCIES:
        raise _bad(where, "Not a currency TikTok supports")


def _apply(rules: Mapping[str, Checker], obj: Mapping[str, object], where: str) -> None:
    for key, check in rules.items():
        if key in obj:
            check(obj[key], f"{where}.{key}")


def _validate_contents(value: object, where: str) -> None:
    if not isinstance(value, list):
        raise _bad(where, "Not a valid list")
    for index, item in enumerate(value):
        _apply(_CONTENT_RULES, _require_object(item, f"{where}.{index}"), f"{where}.{index}")


def _validate_user(value: object, where: str) -> None:
    _apply(_USER_RULES, _require_object(value, where), where)


def _validate_properties(value: object, where: str) -> None:
    _apply(_PROPERTY_RULES, _require_object(value, where), where)


def _validate_page(value: object, where: str) -> None:
    _apply(_PAGE_RULES, _require_object(value, where), where)


_USER_RULES: Final[Mapping[str, Checker]] = {
    # §3: match keys, SHA-256 hashed by the relay.
    **dict.fromkeys(
        ("email", "phone", "external_id", "first_name", "last_name", "zip_code"), _require_hashed
    ),
    # §2/§3: never hashed, sent raw.
    **dict.fromkeys(("ttclid", "ttp", "user_agent", "locale", "city", "state", "country"), _require_str),
    "ip": _require_ip,
}
_CONTENT_RULES: Final[Mapping[str, Checker]] = {
    # §2: content_id must be a string, else 40002 "…content_id: Not a valid string".
    **dict.fromkeys(("content_id", "content_name", "content_category", "brand"), _require_str),
    "price": _require_number,
    "quantity": _require_int,
}
_PROPERTY_RULES: Final[Mapping[str, Checker]] = {
    "value": _require_number,  # 0 is a valid value (§2)
    "currency": _require_currency,
    "contents": _validate_contents,
    "content_ids": _require_str_list,
    "num_items": _require_int,
    **dict.fromkeys(
        ("content_type", "order_id", "shop_id", "description", "search_string", "query"), _require_str
    ),
}
_PAGE_RULES: Final[Mapping[str, Checker]] = dict.fromkeys(("url", "referrer"), _require_str)
_EVENT_RULES: Final[Mapping[str, Checker]] = {
    "user": _validate_user,
    "properties": _validate_properties,
    "page": _validate_page,
    "limited_data_use": _require_bool,
}
_TOP_LEVEL_KEYS: Final = frozenset(
    {"event_source", "event_source_id", "test_event_code", "partner_name", "data"}
)


def _validate_event(value: object, where: str) -> None:
    item = _require_object(value, where)
    if "test_event_code" in item:
        raise _bad(f"{where}.test_event_code", "Unknown field (test_event_code belongs at the top level)")
    event = item.get("event")
    if not isinstance(event, str) or not event:
        raise _bad(f"{where}.event", "Not a valid event name")
    event_time = item.get("event_time")
    if not _is_int(event_time) or not EARLIEST_EVENT_TIME <= event_time < EVENT_TIME_LIMIT:
        raise _bad(f"{where}.event_time", "Not a valid Unix time in seconds")
    event_id = item.get("event_id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_EVENT_ID_LENGTH:
        raise _bad(f"{where}.event_id", f"Not a valid string of 1 to {MAX_EVENT_ID_LENGTH} characters")
    _apply(_EVENT_RULES, item, where)


def validate_track_body(body: object) -> None:
    """Raise `EventsApiRejection` for a body TikTok would refuse; return quietly for a valid one."""
    request = _require_object(body, "body")
    if "partner_name" in request:  # registered partners only: our relay omits it (§2)
        raise EventsApiRejection(INVALID_PARTNER_NAME, _MESSAGES[INVALID_PARTNER_NAME])
    unknown = sorted(set(request) - _TOP_LEVEL_KEYS)
    if unknown:
        raise _bad(unknown[0], "Unknown field")
    if request.get("event_source") != "web":
        raise _bad("event_source", 'Must be "web"')
    pixel = request.get("event_source_id")
    if not isinstance(pixel, str) or not _PIXEL_CODE.fullmatch(pixel):
        raise _bad("event_source_id", "Not a valid pixel code")
    if "test_event_code" in request:
        _require_str(request["test_event_code"], "test_event_code")
    data = request.get("data")
    if not isinstance(data, list) or not data:
        raise _bad("data", "Not a non-empty list")
    if len(data) > MAX_EVENTS_PER_REQUEST:  # §4: more than 1,000 rejects the whole request
        raise EventsApiRejection(INVALID_BATCH_SIZE, _MESSAGES[INVALID_BATCH_SIZE])
    for index, item in enumerate(data):
        _validate_event(item, f"Batch.{index}")


# ---------------------------------------------------------------------------------------------------
# Fault configuration (POST /faults).


def _parse_error_rate(value: object) -> float:
    if not _is_number(value) or not 0 <= value <= 1:
        raise ValueError("error_rate must be a number from 0 to 1")
    return float(value)


def _parse_codes(value: object) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(_is_int(code) and code != OK for code in value):
        raise ValueError("codes must be a list of non-zero integer body codes")
    return tuple(value)


def _parse_http_status(value: object) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(_is_int(status) and 400 <= status <= 599 for status in value):
        raise ValueError("http_status must be a list of integers from 400 to 599")
    return tuple(value)


def _parse_latency_ms(value: object) -> float:
    if not _is_number(value) or not 0 <= value <= 60_000:
        raise ValueError("latency_ms must be a number from 0 to 60000")
    return float(value)


def _parse_seed(value: object) -> int | None:
    if value is not None and not _is_int(value):
        raise ValueError("seed must be an integer or null")
    return value


def _string_set(name: str) -> Callable[[object], frozenset[str]]:
    def parse(value: object) -> frozenset[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise ValueError(f"{name} must be a list of non-empty strings")
        return frozenset(value)

    return parse


def _parse_permanent_code(value: object) -> int:
    if not _is_int(value) or value == OK:
        raise ValueError("permanent_code must be a non-zero integer body code")
    return value


_FAULT_FIELDS: Final[Mapping[str, Callable[[object], object]]] = {
    "error_rate": _parse_error_rate,
    "codes": _parse_codes,
    "http_status": _parse_http_status,
    "latency_ms": _parse_latency_ms,
    "seed": _parse_seed,
    "permanent_event_ids": _string_set("permanent_event_ids"),
    # A copy refused for its properties while another copy of the same event_id is fine (chaos harness).
    "permanent_content_ids": _string_set("permanent_content_ids"),
    "permanent_code": _parse_permanent_code,
}


@dataclass(frozen=True, slots=True)
class FaultConfig:
    error_rate: float = 0.0
    codes: tuple[int, ...] = ()
    http_status: tuple[int, ...] = ()
    latency_ms: float = 0.0
    seed: int | None = None
    permanent_event_ids: frozenset[str] = frozenset()
    permanent_content_ids: frozenset[str] = frozenset()
    permanent_code: int = BAD_PARAMETER

    @classmethod
    def from_json(cls, payload: object) -> FaultConfig:
        """Parse a `POST /faults` body; `{}` means no faults. Raises `FaultConfigError`."""
        if not isinstance(payload, dict):
            raise FaultConfigError(["the fault config must be a JSON object"])
        errors = [f"unknown field {key!r}" for key in sorted(set(payload) - set(_FAULT_FIELDS))]
        parsed: dict[str, Any] = {}
        for key, parse in _FAULT_FIELDS.items():
            if key in payload:
                try:
                    parsed[key] = parse(payload[key])
                except ValueError as exc:
                    errors.append(str(exc))
        config = dataclasses.replace(cls(), **parsed)
        if not errors and config.error_rate > 0 and not (config.codes or config.http_status):
            errors.append("error_rate above 0 needs at least one entry in codes or http_status")
        if errors:
            raise FaultConfigError(errors)
        return config

    def to_json(self) -> dict[str, object]:
        return {
            "error_rate": self.error_rate,
            "codes": list(self.codes),
            "http_status": list(self.http_status),
            "latency_ms": self.latency_ms,
            "seed": self.seed,
            "permanent_event_ids": sorted(self.permanent_event_ids),
            "permanent_content_ids": sorted(self.permanent_content_ids),
            "permanent_code": self.permanent_code,
        }


# ---------------------------------------------------------------------------------------------------
# The fake itself.


class _NotJson:
    """Marks a body that is not valid JSON (recorded as raw text)."""


_NOT_JSON: Final = _NotJson()


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(raw: bytes) -> object:
    try:
        # NaN/Infinity are Python extensions, not JSON: TikTok's parser would refuse them.
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _NOT_JSON


def _json_response(status: int, payload: object, headers: Mapping[str, str] | None = None) -> FakeResponse:
    return FakeResponse(
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=json.dumps(payload, separators=(",", ":")).encode(),
    )


def _http_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _ledger_keys(body: Mapping[str, Any]) -> tuple[LedgerKey, ...]:
    pixel, test_code = body["event_source_id"], body.get("test_event_code", "")
    return tuple((pixel, item["event"], item["event_id"], test_code) for item in body["data"])


def _event_ids(body: object) -> set[str]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return set()
    return {
        item["event_id"]
        for item in body["data"]
        if isinstance(item, dict) and isinstance(item.get("event_id"), str)
    }


def _content_ids(body: object) -> set[str]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return set()
    found: set[str] = set()
    for item in body["data"]:
        properties = item.get("properties") if isinstance(item, dict) else None
        contents = properties.get("contents") if isinstance(properties, dict) else None
        for content in contents if isinstance(contents, list) else []:
            if isinstance(content, dict) and isinstance(content.get("content_id"), str):
                found.add(content["content_id"])
    return found


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: int
    payload: dict[str, object] | str
    fault: str | None = None
    accepted_events: tuple[LedgerKey, ...] = ()

    @property
    def accepted(self) -> bool:
        return bool(self.accepted_events)

    def response(self, headers: Mapping[str, str] | None = None) -> FakeResponse:
        if isinstance(self.payload, dict):
            return _json_response(self.status, self.payload, headers)
        # A non-JSON answer is what TikTok's gateway gives before the API logic (§6).
        return FakeResponse(
            self.status,
            {"Content-Type": "text/plain; charset=utf-8", **(headers or {})},
            self.payload.encode(),
        )


# Headers that carry credentials: never recorded (DESIGN.md "Local stack"; reference §9.8).
_UNRECORDED_HEADERS: Final = frozenset({"access-token", "authorization"})


class FakeEventsApi:
    """TikTok's `/event/track/` endpoint plus the local control endpoints, behind one `handle` call."""

    def __init__(
        self,
        access_tokens: Collection[str] = ("local-dev-token",),
        clock: Callable[[], float] = time.time,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._access_tokens = frozenset(access_tokens)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._faults = FaultConfig()
        self._rng = random.Random()
        self._next_seq = 0
        self._records: list[tuple[int, dict[str, object]]] = []
        self._tally: Counter[str] = Counter()
        self._accepted: Counter[LedgerKey] = Counter()
        self._dedup_kept_at: dict[tuple[str, str, str], float] = {}
        self._listeners: list[Callable[[Mapping[str, object]], None]] = []
        self._routes: Mapping[str, Mapping[str, Callable[[bytes], FakeResponse]]] = {
            "/requests": {"GET": self._get_requests, "DELETE": self._delete_requests},
            "/faults": {"GET": self._get_faults, "POST": self._post_faults},
            "/summary": {"GET": self._get_summary},
        }

    # -- public API ---------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> FakeResponse:
        """Answer one HTTP request; `path` is relative to the mount prefix (`/_local/tiktok`)."""
        route = path.split("?", 1)[0]
        method = method.upper()
        if route.startswith("/open_api/"):
            return self._events_api(method, route, headers, body)
        handlers = self._routes.get(route.rstrip("/"))
        if handlers is None:
            return _json_response(404, {"error": "not found", "path": route})
        handler = handlers.get(method)
        if handler is None:
            allowed = ", ".join(handlers)
            return _json_response(405, {"error": f"use {allowed}"}, {"Allow": allowed})
        return handler(body)

    def subscribe(self, listener: Callable[[Mapping[str, object]], None]) -> None:
        """`listener` gets every Events API request as it is recorded (the record is shared: read only);
        clearing the log does not reach it, so a listener keeps its own history."""
        self._listeners.append(listener)

    def records(self) -> list[dict[str, object]]:
        """Every Events API request so far, in arrival order (nested values are shared: read only)."""
        with self._lock:
            return [dict(record) for _, record in self._records]

    def clear(self) -> int:
        """Forget the records and the ledger; return how many records there were."""
        with self._lock:
            cleared = len(self._records)
            self._records.clear()
            self._tally.clear()
            self._accepted.clear()
            self._dedup_kept_at.clear()
        return cleared

    def faults(self) -> FaultConfig:
        with self._lock:
            return self._faults

    def set_faults(self, config: FaultConfig) -> None:
        with self._lock:
            self._faults = config
            self._rng = random.Random(config.seed)  # a seed replays the same draw sequence

    def accepted_counts(self) -> dict[LedgerKey, int]:
        """How many times each (pixel, event, event_id, test_event_code or "") was accepted."""
        with self._lock:
            return dict(self._accepted)

    def summary(self) -> dict[str, int]:
        with self._lock:
            counts = list(self._accepted.values())
            tally = dict(self._tally)
        return {
            "requests": tally.get("requests", 0),
            "accepted_requests": tally.get("accepted", 0),
            "faulted_requests": tally.get("faulted", 0),
            "rejected_requests": tally.get("rejected", 0),
            "events_accepted": sum(counts),
            "unique_events_accepted": len(counts),
            "events_accepted_more_than_once": sum(1 for count in counts if count > 1),
            # Accepted repeats that TikTok itself would drop (same pixel, event, event_id within 48 h, §7):
            # they cost nothing in reporting but show the relay sent an event more than once.
            "events_dropped_by_tiktok_dedup": tally.get("tiktok_dedup_dropped", 0),
        }

    # -- Events API ---------------------------------------------------------------------------------

    def _events_api(self, method: str, route: str, headers: Mapping[str, str], raw: bytes) -> FakeResponse:
        received_at = self._clock()
        lowered = {name.lower(): value for name, value in headers.items()}
        body = _parse_json(raw)
        reaches_api = route == TRACK_PATH and method == "POST"
        with self._lock:
            config = self._faults
            seq = self._next_seq
            self._next_seq += 1
            # Drawn for every request that reaches the API, so a seed gives a reproducible sequence.
            drawn = self._draw_fault(config) if reaches_api else None
        if route != TRACK_PATH:  # e.g. no trailing slash: TikTok's gateway answers a plain-text 404 (§1)
            outcome = _Outcome(404, "404 page not found")
        elif method != "POST":
            outcome = _Outcome(405, "405 method not allowed")
        else:
            # Faults come before any check: a throttled or failing TikTok answers without reading the body.
            outcome = (
                self._permanent_fault(config, body) or self._injected(drawn) or self._answer(lowered, body)
            )
        record: dict[str, object] = {
            "received_at": received_at,
            "status": outcome.status,
            "response": outcome.payload,
            "body": raw.decode("utf-8", "replace") if body is _NOT_JSON else body,
            "headers": {name: value for name, value in lowered.items() if name not in _UNRECORDED_HEADERS},
            "accepted": outcome.accepted,
            "fault": outcome.fault,
        }
        with self._lock:
            self._store(seq, record, outcome, received_at)
        for listener in self._listeners:
            listener(record)
        if config.latency_ms > 0:
            self._sleep(config.latency_ms / 1000)  # outside the lock: other requests keep flowing
        return outcome.response({"Allow": "POST"} if outcome.status == 405 else None)

    def _draw_fault(self, config: FaultConfig) -> tuple[str, int] | None:
        if config.error_rate <= 0 or self._rng.random() >= config.error_rate:
            return None
        options = [("code", code) for code in config.codes]
        options += [("http", status) for status in config.http_status]
        return self._rng.choice(options)

    def _permanent_fault(self, config: FaultConfig, body: object) -> _Outcome | None:
        if _event_ids(body) & config.permanent_event_ids:
            message = "event_id marked as a permanent failure by the local fault config"
        elif _content_ids(body) & config.permanent_content_ids:
            message = "content_id marked as a permanent failure by the local fault config"
        else:
            return None
        return self._body_code(config.permanent_code, message, fault="code")

    def _injected(self, drawn: tuple[str, int] | None) -> _Outcome | None:
        if drawn is None:
            return None
        kind, number = drawn
        if kind == "http":
            return _Outcome(number, _http_phrase(number), fault="http")
        return self._body_code(number, _MESSAGES.get(number, "Injected fault"), fault="code")

    def _answer(self, headers: Mapping[str, str], body: object) -> _Outcome:
        try:
            self._check_access_token(headers.get("access-token"))
            if _media_type(headers.get("content-type")) != "application/json":
                raise _bad("Content-Type", "Must be application/json")
            if body is _NOT_JSON:
                raise _bad("body", "Not valid JSON")
            validate_track_body(body)
        except EventsApiRejection as rejection:
            return self._body_code(rejection.code, rejection.message)
        assert isinstance(body, dict)  # validate_track_body guarantees it
        return self._body_code(OK, _MESSAGES[OK], accepted_events=_ledger_keys(body))

    def _check_access_token(self, token: str | None) -> None:
        token = (token or "").strip()
        if not token:
            raise EventsApiRejection(ACCESS_TOKEN_NULL, _MESSAGES[ACCESS_TOKEN_NULL])
        if token not in self._access_tokens:
            raise EventsApiRejection(ACCESS_TOKEN_INVALID, _MESSAGES[ACCESS_TOKEN_INVALID])

    def _body_code(
        self,
        code: int,
        message: str,
        *,
        fault: str | None = None,
        accepted_events: tuple[LedgerKey, ...] = (),
    ) -> _Outcome:
        # §6: errors come with HTTP 200 too; only the body code tells them apart.
        payload: dict[str, object] = {
            "code": code,
            "message": message,
            "request_id": self._new_request_id(),
            "data": {},
        }
        return _Outcome(200, payload, fault=fault, accepted_events=accepted_events)

    def _new_request_id(self) -> str:
        # Shaped like TikTok's: a UTC timestamp followed by random upper-case hex.
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self._clock()))
        return stamp + secrets.token_hex(11).upper()

    def _store(self, seq: int, record: dict[str, object], outcome: _Outcome, received_at: float) -> None:
        """Record the request and update the ledger; the caller holds the lock."""
        bisect.insort(self._records, (seq, record), key=lambda entry: entry[0])
        self._tally["requests"] += 1
        if outcome.fault is not None:
            self._tally["faulted"] += 1
        elif not outcome.accepted:
            self._tally["rejected"] += 1
        else:
            self._tally["accepted"] += 1
        for key in outcome.accepted_events:
            self._accepted[key] += 1
            dedup_key = key[:3]
            kept_at = self._dedup_kept_at.get(dedup_key)
            if kept_at is not None and received_at - kept_at < TIKTOK_DEDUP_WINDOW_S:
                self._tally["tiktok_dedup_dropped"] += 1
            else:
                self._dedup_kept_at[dedup_key] = received_at

    # -- control endpoints --------------------------------------------------------------------------

    def _get_requests(self, _body: bytes) -> FakeResponse:
        return _json_response(200, {"requests": self.records()})

    def _delete_requests(self, _body: bytes) -> FakeResponse:
        return _json_response(200, {"cleared": self.clear()})

    def _get_faults(self, _body: bytes) -> FakeResponse:
        return _json_response(200, self.faults().to_json())

    def _post_faults(self, body: bytes) -> FakeResponse:
        payload = _parse_json(body) if body.strip() else {}
        try:
            config = FaultConfig.from_json(None if payload is _NOT_JSON else payload)
        except FaultConfigError as exc:
            return _json_response(400, {"errors": exc.errors})
        self.set_faults(config)
        return _json_response(200, config.to_json())

    def _get_summary(self, _body: bytes) -> FakeResponse:
        return _json_response(200, self.summary())
