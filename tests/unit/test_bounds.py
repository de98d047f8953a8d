"""Bounded work per request: field bounds, finite amounts, the event_time window, JSON depth, and a CPU
budget for the worst requests we can build (tests/support/adversarial.py)."""

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.adversarial import (
    NOW,
    UNTERMINATED_ESCAPED_QUOTES,
    adversarial_requests,
    cpu_ms,
    in_memory_collect,
)
from support.paths import ROOT
from support.queued import sent_events
from ttrelay.collect.request_limits import MAX_JSON_DEPTH, json_too_deep
from ttrelay.config import CollectSettings
from ttrelay.privacy.hashing import hash_user_field

# Generous for a loaded two-core machine; the quadratic email regex took 8 s on one such request.
CPU_BUDGET_MS = 25.0


def post(body: Any, raw: bytes | None = None, **overrides: Any) -> tuple[int, Any]:
    """(status, queued message or error body) of one request through the real collect()."""
    return in_memory_collect(**overrides)(raw if raw is not None else json.dumps(body).encode())


def granted(*events: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"consent": {"cmp": {"marketing": True}}, "events": list(events or [{"event": "Lead"}]), **extra}


def locs(answer: Any) -> set[str]:
    return {str(error.get("loc")) for error in answer["errors"]}


# ---- field bounds ------------------------------------------------------------------------------------

OVER_LONG = [
    ("user.email", {"user": {"email": "a" * 250 + "@b.co"}}),
    ("user.email", {"user": {"email": ["a@b.co"] * 11}}),
    ("user.phone", {"user": {"phone": "+1" + "5" * 63}}),
    ("user.phone", {"user": {"phone": ["+14155550132"] * 11}}),
    ("user.external_id", {"user": {"external_id": "x" * 257}}),
    ("user.external_id", {"user": {"external_id": ["x" * 257]}}),
    ("context.page_url", {"context": {"page_url": "https://s.example/" + "a" * 4096}}),
    ("context.ttclid", {"context": {"ttclid": "x" * 513}}),
    ("consent.tcf", {"consent": {"tcf": "C" * 16_385}}),
    ("consent.cmp", {"consent": {"cmp": {f"k{index}": True for index in range(33)}}}),
    ("events.0.event_id", {"events": [{"event": "Lead", "event_id": "e" * 257}]}),
    ("events", {"events": [{"event": "Lead"}] * 1001}),
]


@pytest.mark.parametrize(
    ("loc", "body"), OVER_LONG, ids=[f"{loc}-{i}" for i, (loc, _) in enumerate(OVER_LONG)]
)
def test_every_over_long_string_or_list_is_a_400_naming_the_field_without_the_value(
    loc: str, body: dict
) -> None:
    status, answer = post(granted(**body))
    assert (status, answer["error"]) == (400, "invalid_request")
    assert any(found.startswith(loc) for found in locs(answer)), locs(answer)
    assert "aaaaaaaa" not in json.dumps(answer) and "55555555" not in json.dumps(answer)


# A property out of bounds is left out of an event that is still sent (the 202 warns, see
# test_event_judgement.py); the event's other fields travel as sent.
PROPERTY_OVER_LONG = [
    ("description", {"description": "d" * 513}),
    ("contents", {"content_ids": ["x"] * 201}),
    ("contents", {"contents": [{"content_id": str(index)} for index in range(201)]}),
    ("custom", {"custom": "c" * 513}),
    ("custom", {"custom": ["c"] * 21}),
]


@pytest.mark.parametrize(("name", "properties"), PROPERTY_OVER_LONG)
def test_an_over_long_property_is_left_out_and_the_event_still_sent(name: str, properties: dict) -> None:
    status, message = post(granted({"event": "Lead", "properties": {**properties, "value": 1}}))
    assert status == 202
    assert message["events"][0]["properties"] == {"value": 1.0}, name


def test_an_over_long_content_name_leaves_the_item_without_it() -> None:
    contents = [{"content_id": "1", "content_name": "n" * 513, "price": 2}]
    status, message = post(granted({"event": "Purchase", "properties": {"contents": contents}}))
    assert status == 202
    assert message["events"][0]["properties"]["contents"] == [{"content_id": "1", "price": 2.0}]


def test_identifiers_at_their_bounds_are_accepted() -> None:
    user = {
        "email": ["a" * 240 + "@example.com"] * 10,
        "phone": ["+14155550132"] * 10,
        "external_id": ["x" * 256],
    }
    status, message = post(granted(user=user))
    assert status == 202
    assert len(sent_events(message)[0]["user"]["email"]) == 1  # ten equal values, one digest


@pytest.mark.parametrize(
    "properties",
    [
        '{"value": Infinity}',
        '{"value": NaN}',
        '{"value": 1e400}',  # json.loads makes it inf
        '{"value": 1000000000001}',
        '{"contents": [{"content_id": "1", "price": -Infinity}]}',
        '{"contents": [{"content_id": "1", "quantity": 1000001}]}',
        '{"num_items": 1000001}',
    ],
)
def test_amounts_are_finite_and_bounded_and_counts_bounded(properties: str) -> None:
    raw = '{"consent": {"cmp": {"marketing": true}}, "events": [{"event": "Purchase", "properties": %s}]}'
    status, message = post(None, raw=(raw % properties).encode())
    assert status == 202  # the amount is left out with a warning; the purchase itself is still sent
    sent = json.dumps(sent_events(message)[0]["properties"])
    assert "Infinity" not in sent and "NaN" not in sent and "100000" not in sent


def test_the_largest_sane_amounts_are_accepted() -> None:
    properties = {
        "value": 1e12,
        "num_items": 1_000_000,
        "contents": [{"content_id": "1", "price": 1e12, "quantity": 1_000_000}],
    }
    assert post(granted({"event": "Purchase", "properties": properties}))[0] == 202


# ---- event_time window -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "inside"),
    [
        (0, True),
        (300, True),
        (301, False),
        (-7 * 86_400, True),
        (-7 * 86_400 - 1, False),
        (2 * 86_400, False),
    ],
)
def test_event_time_must_lie_in_the_window_around_the_server_clock(offset: int, inside: bool) -> None:
    events = [{"event": "Lead", "event_time": int(NOW)}, {"event": "Lead", "event_time": int(NOW) + offset}]
    status, message = post(granted(*events))
    assert status == 202  # judged per event: the one in the window is queued either way
    assert len(message["events"]) == (2 if inside else 1)
    if not inside:  # alone, the event outside the window is a request with no usable event
        status, answer = post(granted(events[1]))
        assert (status, answer["error"]) == (400, "invalid_request")
        assert locs(answer) == {"events.0.event_time"}


def test_the_event_time_window_is_configurable() -> None:
    late = granted({"event": "Lead", "event_time": int(NOW) - 3600})
    assert post(late, event_time_max_age_seconds=1800)[0] == 400
    early = granted({"event": "Lead", "event_time": int(NOW) + 600})
    assert post(early, event_time_max_future_seconds=900)[0] == 202


def test_event_time_window_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_TIME_MAX_FUTURE_SECONDS", "60")
    monkeypatch.setenv("EVENT_TIME_MAX_AGE_SECONDS", "3600")
    monkeypatch.setenv("EVENTS_QUEUE_URL", "q")
    monkeypatch.setenv("COOKIE_KEYS_SECRET_ARN", "s")
    settings = CollectSettings.from_environment()
    assert (settings.event_time_max_future_seconds, settings.event_time_max_age_seconds) == (60, 3600)


# ---- JSON depth ------------------------------------------------------------------------------------


def test_json_nested_20000_deep_is_a_clear_400_not_a_crash() -> None:
    status, answer = post(None, raw=b"[" * 20_000 + b"]" * 20_000)
    assert (status, answer["error"]) == (400, "invalid_json")
    assert f"deeper than {MAX_JSON_DEPTH}" in answer["errors"][0]["msg"]


def test_nesting_up_to_the_limit_is_parsed() -> None:
    nest = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    raw = json.dumps(granted())[:-1] + f', "x": {nest}}}'
    assert post(None, raw=raw.encode())[0] == 202
    assert post(None, raw=(json.dumps(granted())[:-1] + f', "x": [{nest}]}}').encode())[0] == 400


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ('{"a": "' + "[" * 100 + '"}', False),  # brackets inside strings do not nest
        ('{"a": "\\"' + "{" * 100 + '"}', False),  # nor after an escaped quote
        ("[" * 33 + "]" * 33, True),
        ("[]" * 1000, False),
        ("[" * 32 + "]" * 32, False),
        ('[[[{"k": ' * 9 + "1" + "}]]]" * 9, True),
    ],
)
def test_json_depth_scan_skips_string_contents(text: str, too_deep: bool) -> None:
    assert json_too_deep(text) is too_deep


def reference_too_deep(text: str, limit: int) -> bool:
    """The depth scan spelled out one character at a time: inside a string or not, escaped or not."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


@given(st.text(alphabet='"\\[]{}a\n', max_size=200), st.integers(min_value=0, max_value=6))
def test_the_depth_scan_agrees_with_a_character_by_character_reading(text: str, limit: int) -> None:
    assert json_too_deep(text, limit) is reference_too_deep(text, limit)


def test_an_unterminated_string_of_escaped_quotes_is_a_clear_400() -> None:
    status, answer = post(None, raw=UNTERMINATED_ESCAPED_QUOTES)
    assert (status, answer["error"]) == (400, "invalid_json")


@pytest.mark.timeout(60)
def test_the_depth_scan_is_linear_on_unterminated_strings_far_beyond_the_body_limit() -> None:
    # 4 MB: the retrying pattern spent 25 s on 64 KB and grew with the square of the length (hours here);
    # one pass takes milliseconds. The timeout only tells the two apart: it measures nothing finer.
    attack = '"' + '\\"' * 2_000_000 + "[" * 40
    assert json_too_deep(attack) is False
    assert json_too_deep("[" * 40 + attack) is True


def test_a_utf8_bom_is_accepted_and_other_encodings_are_invalid_json() -> None:
    body = json.dumps(granted())
    assert post(None, raw=b"\xef\xbb\xbf" + body.encode())[0] == 202
    status, answer = post(None, raw=body.encode("utf-16"))
    assert (status, answer["error"]) == (400, "invalid_json")


# ---- linear time -------------------------------------------------------------------------------------


def test_the_email_shape_check_is_linear_on_the_input_that_took_8_seconds() -> None:
    attack = "a@" + "." * 30_000 + "@"
    assert hash_user_field("email", attack) == []
    assert cpu_ms(lambda: hash_user_field("email", attack)) < CPU_BUDGET_MS


ADVERSARIAL = adversarial_requests()


# A request over budget is measured again, up to this many rounds in all, each in a new process and
# REMEASURE_PAUSE_S after the round before.
MEASUREMENT_ROUNDS = 3
REMEASURE_PAUSE_S = 10


@pytest.fixture(scope="module")
def adversarial_figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """bench/adversarial.py's figures, measured in a process of their own as in Lambda: one function and
    a small heap. In this test session's process every request cost up to 1.5-5x more late in make test
    (the heap and threads every earlier test left), which measures the session, not the request.

    Each figure is the least of 15 runs; one over budget is measured again in later rounds and keeps its
    least. This VM's host slows it by up to half for a minute at a time (the same request: 16 ms, then
    26 ms), so 15 runs within a second can all fall in one slow spell; a request that really costs more
    than the budget exceeds it in every round."""
    folder = tmp_path_factory.mktemp("adversarial")
    script = ROOT / "bench" / "adversarial.py"
    figures: dict[str, Any] = {}
    over = ""
    for round_ in range(MEASUREMENT_ROUNDS):
        if round_:
            time.sleep(REMEASURE_PAUSE_S)
        out = folder / f"figures-{round_}.json"
        environment = {**os.environ, "TTRELAY_ADVERSARIAL_REPEATS": "15", "TTRELAY_ADVERSARIAL_ONLY": over}
        subprocess.run(
            [sys.executable, str(script), str(out), str(ROOT)], check=True, timeout=600, env=environment
        )
        for name, figure in json.loads(out.read_text()).items():
            if name not in figures or figure["cpu_ms"] < figures[name]["cpu_ms"]:
                figures[name] = figure
        over = ",".join(name for name, figure in figures.items() if figure["cpu_ms"] >= CPU_BUDGET_MS)
        if not over:
            break
    return figures


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_the_worst_requests_we_can_build_cost_a_few_milliseconds_of_cpu(
    adversarial_figures: dict[str, Any], name: str
) -> None:
    figure = adversarial_figures[name]
    assert figure["status"] in (202, 400), figure
    assert figure["cpu_ms"] < CPU_BUDGET_MS
