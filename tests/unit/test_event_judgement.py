"""Events judged one by one: what is rejected, what is left out with a warning, and what is reported."""

import json
from typing import Any

import pytest
from ttrelay.collect.event_judgement import UnusableEvent, UsableEvent, judge_event, judge_events
from ttrelay.collect.request_limits import EventTimeWindow
from ttrelay.models import MAX_CUSTOM_PROPERTIES

NOW = 1_795_000_000.0
WINDOW = EventTimeWindow(NOW, max_future_seconds=300, max_age_seconds=7 * 86_400)
SECRET = "jane.private@example.com"


def usable(raw: Any) -> UsableEvent:
    verdict = judge_event(0, raw, WINDOW)
    assert isinstance(verdict, UsableEvent), verdict
    return verdict


def rejected(raw: Any) -> UnusableEvent:
    verdict = judge_event(0, raw, WINDOW)
    assert isinstance(verdict, UnusableEvent), verdict
    return verdict


def warning_locs(verdict: UsableEvent) -> list[str]:
    return [problem.loc for problem in verdict.warnings]


def test_a_name_that_differs_from_a_standard_one_by_case_is_sent_as_custom_with_a_warning() -> None:
    verdict = usable({"event": "purchase"})
    assert verdict.event.event == "purchase"  # names are case-sensitive (reference §5): never renamed
    (warning,) = verdict.warnings
    assert (warning.loc, warning.type) == ("events.0.event", "event_name_case")
    assert warning.msg == "did you mean Purchase? TikTok treats names case-sensitively; sent as custom"
    assert usable({"event": "completepayment"}).warnings[0].msg.startswith("did you mean CompletePayment?")


@pytest.mark.parametrize("name", ["Purchase", "GenerateLead", "Video_Played_75_Percent", "Pageview"])
def test_standard_and_custom_names_are_taken_without_warnings(name: str) -> None:
    assert usable({"event": name}).warnings == ()


def test_a_content_without_an_id_is_left_out_and_its_neighbours_kept() -> None:
    contents = [{"content_id": "A"}, {"price": 2}, {"content_id": "C", "quantity": -1}, {"content_id": "D"}]
    verdict = usable({"event": "Purchase", "properties": {"contents": contents}})
    ids = [content.content_id for content in verdict.event.properties.contents or []]
    assert ids == ["A", "C", "D"]
    assert warning_locs(verdict) == [
        "events.0.properties.contents.1",
        "events.0.properties.contents.2.quantity",
    ]
    assert verdict.warnings[0].msg == "content_id is required; left out"


def test_custom_properties_out_of_bounds_are_left_out_by_rule_without_echoing_them() -> None:
    properties = {SECRET: 1, "nested": {"email": SECRET}, "ok_one": "kept", "x" * 65: 2}
    verdict = usable({"event": "Lead", "properties": properties})
    assert verdict.event.properties.custom == {"ok_one": "kept"}
    assert warning_locs(verdict) == ["events.0.properties.<key>"] * 3
    # In the order of the properties: the bad name, the nested value, the over-long name.
    assert [problem.type for problem in verdict.warnings] == [
        "custom_property_name",
        "custom_value_type",
        "custom_property_name",
    ]
    assert "finite number" in verdict.warnings[1].msg
    assert SECRET not in json.dumps([problem.msg + problem.loc for problem in verdict.warnings])


def test_too_many_custom_properties_reject_the_event() -> None:
    properties = {f"p{index}": index for index in range(MAX_CUSTOM_PROPERTIES + 1)}
    verdict = rejected({"event": "Lead", "event_id": "e-9", "properties": properties})
    assert verdict.event_id == "e-9"
    assert [error.loc for error in verdict.errors] == ["events.0.properties"]
    assert usable({"event": "Lead", "properties": dict(list(properties.items())[:-1])}).warnings == ()


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        ({"event": "Lead", "properties": "value=1"}, "events.0.properties"),
        ({"event": "Lead", "unknown": 1}, "events.0.<key>"),  # the sender's key is not echoed
        ({"event": "Lead", "event_time": int(NOW) + 301}, "events.0.event_time"),
        ({"event": "Lead", "event_id": "has space"}, "events.0.event_id"),
        ({"event_id": "x"}, "events.0.event"),
        ([], "events.0"),
    ],
)
def test_an_event_with_unusable_own_fields_is_rejected_with_its_path(raw: Any, loc: str) -> None:
    assert [error.loc for error in rejected(raw).errors] == [loc]


@pytest.mark.parametrize(
    ("own", "loc"),
    [
        ({"event": ""}, "events.0.event"),
        ({"event": "Lead", "event_time": int(NOW) + 301}, "events.0.event_time"),
    ],
)
def test_an_events_own_fields_are_reported_before_its_unusable_properties(own: Any, loc: str) -> None:
    """Properties are judged before the event is built (it is built once, with them); what is reported
    stays in the order a site fixes it: the event's own fields first, its properties only after."""
    properties = {f"p{index}": index for index in range(MAX_CUSTOM_PROPERTIES + 1)}
    assert [error.loc for error in rejected({**own, "properties": properties}).errors] == [loc]


def test_the_judged_properties_are_the_events_own() -> None:
    verdict = usable({"event": "Purchase", "properties": {"value": 5, "currency": "EUR", "note": "x"}})
    assert (verdict.event.properties.value, verdict.event.properties.currency) == (5, "EUR")
    assert verdict.event.properties.custom == {"note": "x"}
    assert usable({"event": "Lead"}).event.properties.custom == {}


def test_a_malformed_event_id_is_not_echoed() -> None:
    verdict = rejected({"event": "", "event_id": SECRET + " x"})
    assert verdict.event_id is None


def test_judging_keeps_the_request_order_and_indexes() -> None:
    judgement = judge_events([{"event": "Lead"}, {"event": ""}, {"event": "Search"}], WINDOW)
    assert [event.index for event in judgement.usable] == [0, 2]
    assert [event.index for event in judgement.rejected] == [1]
    assert judgement.rejected[0].errors[0].loc == "events.1.event"


def test_properties_broken_in_hundreds_of_places_lose_whole_properties_and_keep_the_event() -> None:
    # Past MAX_PLACED_ERRORS the unit left out is the property: the purchase still counts, with its value.
    properties = {"value": 9.5, "currency": "EUR", "contents": [{"id": "x"}] * 150, "campaign": "spring"}
    verdict = usable({"event": "Purchase", "properties": properties})
    assert verdict.event.properties.value == 9.5 and verdict.event.properties.contents is None
    assert verdict.event.properties.custom == {"campaign": "spring"}
    assert [(problem.loc, problem.type) for problem in verdict.warnings] == [
        ("events.0.properties.contents", "too_many_problems")
    ]
    assert "one of 300 problems" in verdict.warnings[0].msg


def test_personal_data_still_rejects_the_event_among_hundreds_of_errors() -> None:
    properties = {"city": "jane.doe@example.com", "contents": [{"id": "x"}] * 150}
    verdict = rejected({"event": "Purchase", "properties": properties})
    assert [error.loc for error in verdict.errors] == ["events.0.properties.city"]
    assert "jane.doe" not in json.dumps([error.msg for error in verdict.errors])


def test_a_custom_property_holding_an_object_is_left_out_before_validation() -> None:
    properties = {"tags": ["a", "b"], "meta": {"k": 1}, "mixed": ["a", {"k": 1}]}
    verdict = usable({"event": "Lead", "properties": properties})
    assert verdict.event.properties.custom == {"tags": ["a", "b"]}
    assert [problem.type for problem in verdict.warnings] == ["custom_value_type"] * 2
