"""Through the real collect(): error and warning paths name fields, never the sender's keys or values;
what the collector ignores or cannot use is answered with a warning instead of passing silently."""

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
import test_collect as contract
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.printed import collected_lines, printed_by
from support.queued import sent_events
from ttrelay.collect.request_warnings import MAX_UNKNOWN_FIELD_WARNINGS
from ttrelay.collect.responses import CollectError
from ttrelay.collect.use_case import CollectRejected
from ttrelay.field_paths import USER_KEY
from ttrelay.observability.telemetry import report_collected, report_rejected

# The contract tests' fixtures and helpers: the same settings, queue and policy.
queue, run = contract.queue, contract.run
granted, queued = contract.granted, contract.queued
JANE = "jane.doe@example.com"
NO_CONSENT = {"action": "drop", "regime": "opt_in", "reason": "no_consent_signal"}


def answer_and_log(run: Callable[..., Any], body: Any, caplog: pytest.LogCaptureFixture) -> tuple[str, str]:
    """The response body and the collector's log line as the handler would produce them (202 or 4xx)."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        try:
            outcome = run(body)
        except CollectRejected as error:
            report_rejected(error)
            answer = CollectError.model_validate({"error": error.error, "errors": error.errors})
            text = answer.model_dump_json(exclude_unset=True)
            lines = [record.__dict__ for record in caplog.records if record.getMessage() == "rejected"]
        else:
            lines = collected_lines(printed_by(lambda: report_collected(outcome, known_pixels=())))
            text = json.dumps(outcome.body())
    assert len(lines) == 1
    return text, json.dumps(lines, default=str)


def request_warnings(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [warning for warning in body.get("warnings", []) if "index" not in warning]


def test_a_consent_mode_key_typed_as_an_address_is_never_echoed(run, caplog) -> None:
    body = granted(consent={"gcm": {JANE: "granted"}, "cmp": {"marketing": True}})
    answer, log = answer_and_log(run, body, caplog)
    assert JANE not in answer and JANE not in log
    # Consent Mode has more types than the policy reads (functionality_storage, region...): an unknown
    # one is ignored, not judged and not named.
    assert json.loads(answer)["decision"]["reason"] == "grant:cmp"


def test_a_strict_objects_unknown_key_is_named_by_its_place_only(run, caplog) -> None:
    answer, log = answer_and_log(run, granted(user={JANE: "x"}), caplog)
    assert json.loads(answer)["errors"] == [
        {"loc": f"user.{USER_KEY}", "type": "extra_forbidden", "msg": "Extra inputs are not permitted"}
    ]
    assert JANE not in log and f"user.{USER_KEY}" in log


def test_a_custom_propertys_name_is_not_echoed_in_its_warning(run, queue) -> None:
    body = granted(events=[{"event": "Lead", "event_id": "l-1", "properties": {"jane_doe": {"a": 1}}}])
    (warning,) = run(body).body()["warnings"]
    assert (warning["index"], warning["event_id"]) == (0, "l-1")
    assert warning["loc"] == f"events.0.properties.{USER_KEY}"
    assert "jane_doe" not in json.dumps(warning)


# Every place a request holds a mapping whose keys the sender chooses, strict or lenient.
KEY_PLACES: dict[str, Callable[[str], dict[str, Any]]] = {
    "top level": lambda key: granted(**{key: 1}),
    "consent": lambda key: granted(consent={"cmp": {"marketing": True}, key: 1}),
    "consent.gcm": lambda key: granted(consent={"cmp": {"marketing": True}, "gcm": {key: "granted"}}),
    "consent.gcm value": lambda key: granted(consent={"cmp": {"marketing": True}, "gcm": {key: "maybe"}}),
    "consent.cmp": lambda key: granted(consent={"cmp": {"marketing": True, key: True}}),
    "consent.cmp value": lambda key: granted(consent={"cmp": {"marketing": True, key: "yes"}}),
    "context": lambda key: granted(context={key: "x"}),
    "user": lambda key: granted(user={key: "x"}),
    "event": lambda key: granted(events=[{"event": "Lead", key: 1}]),
    "second event": lambda key: granted(events=[{"event": "Lead"}, {"event": "Lead", key: 1}]),
    "properties": lambda key: granted(events=[{"event": "Lead", "properties": {key: {"x": 1}}}]),
    "property value": lambda key: granted(events=[{"event": "Lead", "properties": {key: [[1]]}}]),
    "contents item": lambda key: granted(
        events=[{"event": "Lead", "properties": {"contents": [{"content_id": "A", key: 1}]}}]
    ),
}
# Keys distinctive enough that finding one in an answer can only mean it was echoed.
SENDER_KEYS = st.one_of(
    st.emails(),
    st.from_regex(r"\+44 20 7946 [0-9]{4}", fullmatch=True),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=30, max_size=300).map(
        lambda text: "secret-" + text
    ),
    st.from_regex(r"[a-z][a-z_]{11,40}", fullmatch=True),  # a valid custom property name
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(sorted(KEY_PLACES)), key=SENDER_KEYS)
def test_no_sender_key_at_any_mapping_position_reaches_the_answer_or_the_log(run, caplog, place, key) -> None:
    answer, log = answer_and_log(run, KEY_PLACES[place](key), caplog)
    for text in (answer, log):
        assert key not in text
        assert json.dumps(key)[1:-1] not in text  # nor in its JSON-escaped form


def test_a_consents_typo_is_answered_with_a_warning_and_still_fails_closed(run, queue) -> None:
    body = {"consents": {"cmp": {"marketing": True}}, "events": [{"event": "Purchase", "event_id": "o-1"}]}
    answer = run(body).body()
    assert answer["decision"] == NO_CONSENT
    assert request_warnings(answer) == [
        {"loc": USER_KEY, "msg": "unknown top-level field, ignored; did you mean consent?"}
    ]
    assert queue.bodies == []


def test_a_users_typo_is_answered_with_a_warning_and_the_event_sent_without_match_keys(run, queue) -> None:
    answer = run(granted(users={"email": JANE})).body()
    assert answer["accepted"] == 1
    assert request_warnings(answer) == [
        {"loc": USER_KEY, "msg": "unknown top-level field, ignored; did you mean user?"}
    ]
    assert "email" not in sent_events(queued(queue))[0]["user"]


def test_an_unknown_key_that_is_no_near_miss_lists_the_known_fields(run) -> None:
    (warning,) = request_warnings(run(granted(colour="red")).body())
    assert warning["msg"] == (
        "unknown top-level field, ignored; known fields: pixel_code, site_key, consent, context, user, events"
    )


def test_unknown_keys_of_context_and_consent_are_ignored_with_a_warning_each(run, queue) -> None:
    body = granted(
        context={"pageurl": "https://shop.example.com/"}, consent={"cmp": {"marketing": True}, "x": 1}
    )
    answer = run(body).body()
    assert answer["accepted"] == 1  # newer snippets may add fields: still taken
    assert request_warnings(answer) == [
        {"loc": f"consent.{USER_KEY}", "msg": "unknown field in consent, ignored; known fields: "
         "tcf, gpp, gpp_sid, usp, gpc, gcm, cmp"},
        {"loc": f"context.{USER_KEY}", "msg": "unknown field in context, ignored; did you mean page_url?"},
    ]  # fmt: skip


def test_thousands_of_unknown_keys_give_a_bounded_answer(run) -> None:
    body = granted(**{f"k{index}": 0 for index in range(3000)})
    warnings = request_warnings(run(body).body())
    assert len(warnings) == MAX_UNKNOWN_FIELD_WARNINGS + 1
    assert warnings[-1] == {
        "loc": USER_KEY,
        "msg": f"{3000 - MAX_UNKNOWN_FIELD_WARNINGS} more unknown fields ignored",
    }


def test_an_invalid_email_is_left_out_of_the_match_keys_with_a_warning(run, queue) -> None:
    answer = run(granted(user={"email": ["not-an-address", EMAIL := "jane@example.com"]})).body()
    assert request_warnings(answer) == [
        {"loc": "user.email", "msg": "not an email address; left out of the match keys"}
    ]
    assert "not-an-address" not in json.dumps(answer)
    assert len(sent_events(queued(queue))[0]["user"]["email"]) == 1  # the good address is still sent
    assert EMAIL not in queue.bodies[0]


def test_a_phone_without_country_is_left_out_with_a_warning_unless_a_region_is_configured(run, queue) -> None:
    body = granted(user={"phone_number": "020 7946 0958"})
    (warning,) = request_warnings(run(body).body())
    assert warning["loc"] == "user.phone_number"
    assert "+ and country code" in warning["msg"] and "0958" not in warning["msg"]
    assert "phone" not in sent_events(queued(queue))[0]["user"]
    queue.bodies.clear()
    assert "warnings" not in run(body, default_phone_region="GB").body()
    assert len(sent_events(queued(queue))[0]["user"]["phone"]) == 1


def test_a_match_key_in_an_events_properties_is_warned_about_for_that_event(run) -> None:
    event = {"event": "Purchase", "event_id": "o-9", "properties": {"phone_number": "12", "value": 5}}
    assert run(granted(events=[event])).body()["warnings"] == [
        {
            "index": 0,
            "event_id": "o-9",
            "loc": "events.0.properties.phone_number",
            "msg": "not a phone number with + and country code, and no default phone region is configured; "
            "left out of the match keys",
        }
    ]


def test_blank_match_keys_count_as_not_given(run) -> None:
    assert "warnings" not in run(granted(user={"email": "", "phone": " "})).body()


def test_a_cmp_without_its_marketing_category_is_warned_about_and_decides_nothing(run, queue) -> None:
    answer = run({"consent": {"cmp": {"analytics": True}}, "events": [{"event": "Lead"}]}).body()
    assert answer["decision"] == NO_CONSENT
    (warning,) = request_warnings(answer)
    assert warning["loc"] == "consent.cmp"
    assert warning["msg"].startswith("only the marketing category decides")
    assert queue.bodies == []
    assert "warnings" not in run(granted()).body()  # with `marketing`: nothing to say


def test_the_log_line_carries_every_warnings_path_and_no_value(run, caplog) -> None:
    body = granted(users={}, user={"email": JANE.replace("@", "")})
    body["consent"]["cmp"]["analytics"] = True
    body["events"][0]["properties"] = {"currency": JANE}
    _, log = answer_and_log(run, body, caplog)
    (line,) = json.loads(log)
    assert line["warning_paths"] == [USER_KEY, "user.email", "events.0.properties.currency"]
    assert "jane" not in log


def test_thousands_of_bad_keys_get_a_short_answer_naming_twenty_and_counting_the_rest() -> None:
    # A 64 KB body of bad names was answered with 1 MB of warnings and logged as much (and cost 40 ms).
    from support.adversarial import in_memory_collect_answering

    run = in_memory_collect_answering()
    names = {str(index): 0 for index in range(5000)}
    body = {"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead", "properties": names}]}
    status, _, answer = run(json.dumps(body).encode())
    assert status == 202 and answer["accepted"] == 1
    warnings = answer["warnings"]
    assert len(warnings) == 21 and len(json.dumps(answer)) < 5_000
    assert warnings[-1]["msg"] == "4980 more problems of this kind not listed"
    status, error, _ = run(json.dumps({**body, "events": [{"event": "Lead"}], "user": names}).encode())
    assert status == 400 and len(error["errors"]) == 21
    assert error["errors"][-1]["msg"] == "4980 more problems not listed"
