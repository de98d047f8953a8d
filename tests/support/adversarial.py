"""The worst collect requests we can build within the limits: every field at its bound, filled with the
shapes that make text scanners backtrack ('.', '@', '%', digit runs, separators), up to the 64 KB body.

Shared by tests/unit/test_bounds.py (a CPU bound per request) and bench/adversarial.py (the figure).
Each request is a body; some are accepted (202), some refused (4xx): both must be cheap.
"""

import base64
import gc
import json
import time
from collections.abc import Callable
from typing import Any

MAX_BODY = 64 * 1024
MAX_EVENTS = 50  # CollectSettings.max_events_per_request's default
GRANTED = {"cmp": {"marketing": True}}


def repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


# Text shapes, each a worst case for some scanner: a quadratic email regex, the phone-run scanner, the
# URL decoder, the camelCase splitter.
SHAPES: dict[str, Callable[[int], str]] = {
    "at_dots": lambda n: "a@" + "." * (n - 3) + "@",
    "at_dot_units": lambda n: repeat("a@.", n),
    "ats": lambda n: "@" * n,
    "at_segments": lambda n: repeat("a@" + "b" * 40 + " ", n),
    "digit_groups": lambda n: repeat("1 1 1 1 1 1 1 1 " + "2" * 60 + "a ", n),
    "separators": lambda n: "1" + repeat(" ().-/", n - 1),
    "plus_parens": lambda n: repeat("+(", n),
    "percent": lambda n: repeat("%25", n),
    "emails": lambda n: repeat("jane.doe@example.com +44 20 7946 0958 ", n),
    # The encodings the scrubber reads through (ttrelay.privacy.pii_readings): base64 runs that decode to text
    # (one long run, and many short ones holding addresses), Unicode variants NFKC folds, and percent
    # escapes that decode over all three rounds.
    "base64_text": lambda n: repeat(base64.b64encode(b"a@b.c 1 2 3 4 5 6 7 8 " * 3).decode().rstrip("="), n),
    "base64_emails": lambda n: repeat("amFuZS5kb2VAZXhhbXBsZS5jb20 ", n),
    # The shortest base64 candidates, as many as fit: each one is decoded.
    "base64_short_runs": lambda n: repeat("abcdefgh ", n),
    "unicode_phones": lambda n: repeat("\uff0b\uff14\uff14\u00a020\u2009\uff17\uff19\u202f0958\u200b ", n),
    "percent_rounds": lambda n: repeat("%252540%25252B1", n),
    # NFKC makes 18 characters of U+FDFA (and 8 of U+FDFB): a 64 KB body would be read as 1.2 MB of text.
    "nfkc_expanding": lambda n: repeat("\ufdfa", n),
    "nfkc_expanding_percent": lambda n: repeat("\ufdfa%25", n),
    # A non-ASCII character between escapes: urllib's unquote splits the text into one chunk per character.
    "ligature_percent": lambda n: repeat("\ufb03%", n),
    # Just under the scrubber's growth budget (NFKC twice the text), base64 candidates in every unit.
    "nfkc_near_budget": lambda n: repeat("\ufdfaabcdefgh abcdefgh", n),
}


def fill(body: dict[str, Any], add: Callable[[dict[str, Any], int], bool]) -> bytes:
    """Grow `body` with add(body, i) until the next step would pass MAX_BODY or add says stop."""
    index = 0
    encoded = json.dumps(body).encode()
    while True:
        candidate = json.loads(encoded)
        if not add(candidate, index):
            return encoded
        grown = json.dumps(candidate).encode()
        if len(grown) > MAX_BODY:
            return encoded
        encoded, index = grown, index + 1


def identifiers_body(shape: str) -> bytes:
    text = SHAPES[shape]
    user = {
        "email": [text(254)] * 10,
        "phone": [text(64)] * 10,
        "external_id": [text(256)] * 10,
    }
    context = {
        "page_url": "https://shop.example.com/" + text(4000),
        "referrer": "https://shop.example.com/p?" + text(4000),
        "ttclid": text(512),
        "ttp": text(512),
        "locale": text(35),
        "token": text(2048),
    }
    # UTF-8 rather than \u escapes: a non-ASCII shape fills the fields within the body limit.
    return json.dumps(
        {"consent": GRANTED, "context": context, "user": user, "events": [{"event": "Lead"}]},
        ensure_ascii=False,
    ).encode()


def free_text_body(shape: str) -> bytes:
    """MAX_EVENTS events whose every free-text property is 512 characters of `shape`, contents to fill."""
    text = SHAPES[shape](512)
    properties = {
        "description": text,
        "search_string": text,
        "query": text,
        "order_id": text,
        "shop_id": text,
    }
    base = {"consent": GRANTED, "events": []}

    def add(body: dict[str, Any], index: int) -> bool:
        events = body["events"]
        if len(events) < MAX_EVENTS:
            events.append({"event": "Purchase", "event_id": f"o-{index}", "properties": dict(properties)})
            return True
        contents = events[index % MAX_EVENTS]["properties"].setdefault("contents", [])
        if len(contents) >= 200:
            return False
        contents.append(
            {"content_id": text[:256], "content_name": text, "content_category": text, "brand": text}
        )
        return True

    return fill(base, add)


def url_body(query: str) -> bytes:
    context = {
        "page_url": f"https://shop.example.com/p?{query}"[:4096],
        "referrer": f"https://r.example/?{query}"[:4096],
    }
    return json.dumps({"consent": GRANTED, "context": context, "events": [{"event": "ViewContent"}]}).encode()


def nesting_body(depth: int) -> bytes:
    """An unknown top-level field (ignored by the model) holding arrays `depth` deep, as often as fits."""
    nest = "[" * depth + "]" * depth
    head = json.dumps({"consent": GRANTED, "events": [{"event": "Lead"}]})[:-1] + ', "x": ['
    count = (MAX_BODY - len(head) - 2) // (len(nest) + 1)
    return (head + ",".join([nest] * count) + "]}").encode()


def escapes_body() -> bytes:
    r"""Strings made of JSON escapes: '\u0040' is '@' once decoded, '\"' ends no string."""
    text = "\\u0040." * 70 + '\\"' * 2
    event = '{"event": "Purchase", "properties": {"description": "' + text + '"}}'
    return (
        '{"consent": {"cmp": {"marketing": true}}, "events": [' + ", ".join([event] * MAX_EVENTS) + "]}"
    ).encode()


def consent_body() -> bytes:
    consent = {
        "tcf": repeat("CQr-V4AQr-V4AEwABBENCWEgAP_AAEPAAAYg.", 16_384),
        "gpp": "DBABM~" + repeat("CQr-V4AQr~", 16_000),
        "gpp_sid": list(range(64)),
        "usp": "1YNN",
        "cmp": {repeat("marketing_", 60) + f"{index:02d}": True for index in range(32)},
    }
    return json.dumps({"consent": consent, "events": [{"event": "Lead"}]}).encode()


def numbers_body() -> bytes:
    """Long integers (Python parses up to 4,300 digits) and floats at the edge of what JSON allows."""
    event = '{"event": "Purchase", "properties": {"value": 1e308, "num_items": ' + "9" * 4000 + "}}"
    return ('{"consent": {"cmp": {"marketing": true}}, "events": [' + ", ".join([event] * 15) + "]}").encode()


UNTERMINATED_ESCAPED_QUOTES = ('"' + '\\"' * 32_700 + "[" * 40).encode()


def adversarial_requests() -> dict[str, bytes]:
    """Name -> body, every one at most MAX_BODY bytes."""
    requests: dict[str, bytes] = {}
    for shape in SHAPES:
        requests[f"identifiers.{shape}"] = identifiers_body(shape)
        requests[f"free_text.{shape}"] = free_text_body(shape)
    requests["url.many_params"] = url_body(repeat("a&", 4000))
    requests["url.camel_names"] = url_body(repeat("aBcDeFgHiJkL=1&", 4000))
    requests["url.encoded_email_and_params"] = url_body("q=jane%2540doe.com&" + repeat("x&", 4000))
    requests["url.encoded_phones"] = url_body(repeat("r=%2B4420794609&", 4000))
    requests["url.email_path"] = url_body(repeat("jane@doe.com/", 2000) + "?a=1")
    for shape in ("nfkc_expanding", "nfkc_expanding_percent", "ligature_percent"):
        text = SHAPES[shape](4000)
        requests[f"url.{shape}"] = url_body(f"a={text}&{text[:1000]}/{text[:1000]}")
    requests["nesting.allowed_depth_30"] = nesting_body(30)
    requests["nesting.too_deep_32000"] = ("[" * 32_000 + "]" * 32_000).encode()
    requests["json.escapes"] = escapes_body()
    # Issue 14: an unterminated string of escaped quotes made the depth pre-scan retry at every quote (25 s).
    requests["json.unterminated_escaped_quotes"] = UNTERMINATED_ESCAPED_QUOTES
    requests["json.long_strings_of_brackets"] = json.dumps(
        {"events": [{"event": "Lead"}], "x": "[{" * 30_000}
    ).encode()
    # Thousands of bad keys, each a warning or an error: listed up to 20, the rest counted.
    names = {str(index): 0 for index in range(5000)}
    requests["warnings.bad_property_names"] = json.dumps(
        {"consent": GRANTED, "events": [{"event": "Lead", "properties": names}]}
    ).encode()
    requests["errors.unknown_user_keys"] = json.dumps(
        {"consent": GRANTED, "user": names, "events": [{"event": "Lead"}]}
    ).encode()
    requests["errors.unknown_event_keys"] = json.dumps(
        {"consent": GRANTED, "events": [{"event": "Lead"}, {"event": "Lead", **names}]}
    ).encode()
    # Every event's properties broken in hundreds of places: pydantic reports an error for each (a union
    # of five custom value types, five for each `{}`), and placing each one cost 30 ms.
    requests["errors.broken_contents"] = fill(
        {"consent": GRANTED, "events": []},
        lambda body, i: (
            i < MAX_EVENTS
            and not body["events"].append({"event": "Lead", "properties": {"contents": [{"a": 1}] * 120}})
        ),
    )
    requests["errors.empty_contents"] = fill(
        {"consent": GRANTED, "events": []},
        lambda body, i: (
            i < MAX_EVENTS
            and not body["events"].append({"event": "Lead", "properties": {"contents": [{}] * 200}})
        ),
    )
    requests["errors.object_custom_values"] = json.dumps(
        {
            "consent": GRANTED,
            "events": [{"event": "Lead", "properties": {f"k{i}": {} for i in range(50)}}] * MAX_EVENTS,
        }
    ).encode()
    requests["consent.max_strings"] = consent_body()
    requests["numbers.huge"] = numbers_body()
    requests["events.too_many_minimal"] = (
        json.dumps({"events": [{"event": "L"}] * 4000}, separators=(",", ":"))[:MAX_BODY]
        .rsplit(",", 1)[0]
        .encode()
        + b"]}"
    )
    requests["events.max_minimal"] = json.dumps(
        {"consent": GRANTED, "events": [{"event": "Lead"}] * MAX_EVENTS}
    ).encode()
    requests["original_attack.email"] = json.dumps(
        {"consent": GRANTED, "user": {"email": "a@" + "." * 30_000 + "@"}, "events": [{"event": "Lead"}]}
    ).encode()
    oversized = [name for name, body in requests.items() if len(body) > MAX_BODY]
    assert not oversized, oversized
    return requests


# ---- requests whose queued message grows most (bench/amplification.py, tests/unit/test_queued_message.py)

# Issue 14's reproduction: a browser's 8 KB user agent with long page URLs and the maximum events.
ISSUE_14_USER_AGENT = "Mozilla/5.0 " + repeat("(X11; Linux x86_64; rv:128.0) ", 8 * 1024 - 12)


def issue_14_body() -> bytes:
    """~4 KB: with ISSUE_14_USER_AGENT a 12 KB request, which became a 1 MB message before v2."""
    context = {
        "page_url": "https://shop.example.com/p/trail-runner?" + repeat("utm_content=spring-sale&", 1300),
        "referrer": "https://www.tiktok.com/@shop/video/7412345678901234567?"
        + repeat("is_from_webapp=1&", 700),
        "locale": "en-US",
    }
    user = {"email": "jane.doe@example.com", "phone": "+14155550132", "external_id": "CRM-00042"}
    events = [{"event": "ViewContent", "event_id": f"view-{index:02d}"} for index in range(MAX_EVENTS)]
    return json.dumps({"consent": GRANTED, "context": context, "user": user, "events": events}).encode()


def numeric_ids_body() -> bytes:
    """MAX_EVENTS events with as many distinct numeric content ids each as the 64 KB body holds (at most
    200 in `content_id` and 200 in `content_ids`): every id becomes a `contents` item with a string id
    (TikTok's shape), ~20 bytes from ~4, past what SQS takes."""

    def body(per_event: int) -> bytes:
        ids = list(range(per_event))
        properties = {"content_id": ids[:200], "content_ids": ids[200:]}
        events = [
            {"event": "ViewContent", "event_id": f"v-{index}", "properties": properties}
            for index in range(MAX_EVENTS)
        ]
        return json.dumps({"consent": GRANTED, "events": events}).encode()

    fits = max(count for count in range(0, 401, 5) if len(body(count)) <= MAX_BODY)
    return body(fits)


def short_match_keys_body() -> bytes:
    """MAX_EVENTS events whose properties carry the shortest match keys: each becomes a 64-hex digest."""
    properties = {
        "email": [f"{letter}@b.co" for letter in "abcdefghij"],
        "external_id": list("abcdefghij"),
        "first_name": "a",
        "last_name": "b",
        "zip_code": "1",
    }
    events = [{"event": "Lead", "properties": properties}] * MAX_EVENTS
    return json.dumps({"consent": GRANTED, "events": events}, separators=(",", ":")).encode()


def amplification_requests() -> dict[str, tuple[bytes, str]]:
    """Name -> (body, user agent): the adversarial requests with a short user agent, and those above."""
    requests = {name: (body, "UA") for name, body in adversarial_requests().items()}
    requests["issue_14.long_user_agent_max_events"] = (issue_14_body(), ISSUE_14_USER_AGENT)
    requests["properties.numeric_content_ids"] = (numeric_ids_body(), "UA")
    requests["properties.short_match_keys"] = (short_match_keys_body(), "UA")
    return requests


# ---- running them through the real collect use case, with in-memory ports -----------------------------

SITE = "https://shop.example.com"
PIXEL = "CTTRELAYTESTPIXEL001"
NOW = 1_795_000_000.0


REQUEST_HEADERS = {"content-type": "text/plain;charset=UTF-8", "origin": SITE}


def received_bytes(body: bytes, user_agent: str) -> int:
    """What the collector received: the body and each header's name and value, the user agent's too."""
    headers = {**REQUEST_HEADERS, "user-agent": user_agent}
    return len(body) + sum(len(name) + len(value.encode()) for name, value in headers.items())


def in_memory_collect(queue: Any = None, **setting_overrides: Any) -> Callable[..., tuple[int, Any]]:
    """collect() with an in-memory queue and fixed keys and clock: (body, user_agent="UA") -> (status,
    what came back), where what came back is the queued message (None if consent dropped it) or the
    refusal's error body. Pass a MemoryQueue as `queue` to read the message's bytes as SQS got them."""
    run = in_memory_collect_answering(queue, **setting_overrides)

    def queued(body: bytes, user_agent: str = "UA") -> tuple[int, Any]:
        status, message, _ = run(body, user_agent)
        return status, message

    return queued


def in_memory_collect_answering(
    queue: Any = None, **setting_overrides: Any
) -> Callable[..., tuple[int, Any, Any]]:
    """As in_memory_collect, with the answer's body too: body -> (status, queued or error, answer)."""
    from ttrelay.collect.cookie import SigningKeys
    from ttrelay.collect.use_case import CollectDeps, CollectRejected, HttpRequest, collect
    from ttrelay.config import CollectSettings
    from ttrelay.consent.policy import load_policy

    from support.fakes import MemoryQueue

    settings = CollectSettings.model_validate(
        {
            "events_queue_url": "q",
            "cookie_keys_secret_arn": "s",
            "pixel_codes": (PIXEL,),
            "allowed_origins": (SITE,),
            **setting_overrides,
        }
    )
    keys = SigningKeys.from_secret({"active_kid": "k1", "k1": "x" * 40})
    queue = queue if queue is not None else MemoryQueue()
    deps = CollectDeps(
        settings=settings, queue=queue, policy=load_policy(), signing_keys=lambda: keys, clock=lambda: NOW
    )

    def run(body: bytes, user_agent: str = "UA") -> tuple[int, Any, Any]:
        request = HttpRequest(
            body=body, headers=REQUEST_HEADERS, cookies={}, source_ip="203.0.113.24", user_agent=user_agent
        )
        queue.bodies.clear()
        try:
            outcome = collect(request, deps)
        except CollectRejected as rejected:
            error = {"error": rejected.error, "errors": rejected.errors}
            return rejected.status, error, error
        return 202, json.loads(queue.bodies[0]) if queue.bodies else None, outcome.body()

    return run


def cpu_ms(call: Callable[[], object], repetitions: int = 3) -> float:
    """The least CPU time of `repetitions` calls, on the calling thread: the call's own cost, with least
    noise from other work (a loaded machine slows a call down, it never speeds it up). The thread's time,
    not the process's: the calls are synchronous, and a test session's process also runs other threads
    (Playwright's connection to the browser, servers of earlier tests) whose time is not the call's.

    The objects already alive are frozen out of the garbage collector while it measures: a Lambda's heap
    holds the function and little else, but a test session's holds everything every earlier test made,
    and a full collection that walks it during the call (tens of ms late in `make test`) is not the
    request's cost. The collector still runs on what the call itself allocates."""
    gc.collect()
    gc.freeze()
    try:
        best = float("inf")
        for _ in range(repetitions):
            started = time.thread_time()
            call()
            best = min(best, time.thread_time() - started)
    finally:
        gc.unfreeze()
    return best * 1000
