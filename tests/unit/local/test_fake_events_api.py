"""The fake Events API refuses what TikTok refuses (reference §1-6), records everything and injects faults."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.paths import load_vectors
from ttrelay_dev.local.fake_events_api import FakeEventsApi, FakeResponse

TOKEN = "local-dev-token"
TRACK = "/open_api/v1.3/event/track/"
NOW = 1_795_600_000.0  # 2026-11-25, a day after the example's events
HASH = "a" * 64


@pytest.fixture(scope="module")
def example_body() -> dict[str, Any]:
    body: dict[str, Any] = load_vectors("capi-request-example.json")
    return body


@pytest.fixture
def body(example_body: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(example_body)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> FakeEventsApi:
    return FakeEventsApi(access_tokens=(TOKEN,), clock=clock)


def send(
    api: FakeEventsApi,
    body: object,
    *,
    token: str | None = TOKEN,
    content_type: str = "application/json",
    path: str = TRACK,
    method: str = "POST",
) -> FakeResponse:
    headers = {"Content-Type": content_type, "User-Agent": "ttrelay-test"}
    if token is not None:
        headers["Access-Token"] = token
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.handle(method, path, headers, raw)


def code_of(response: FakeResponse) -> int:
    assert response.status == 200
    code: int = json.loads(response.body)["code"]
    return code


def control(api: FakeEventsApi, method: str, path: str, payload: object = None) -> tuple[int, Any]:
    raw = b"" if payload is None else json.dumps(payload).encode()
    response = api.handle(method, path, {"Content-Type": "application/json"}, raw)
    return response.status, json.loads(response.body)


def event(event_id: str = "e-1", name: str = "Purchase") -> dict[str, Any]:
    return {"event": name, "event_time": 1_795_529_387, "event_id": event_id}


def batch(*events: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"event_source": "web", "event_source_id": "CXXXXXXXXXXXXXXXXXXX", "data": list(events), **top}


# --- the happy path --------------------------------------------------------------------------------


def test_reference_example_is_accepted_and_recorded(api: FakeEventsApi, body: dict[str, Any]) -> None:
    response = send(api, body)

    answer = json.loads(response.body)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert answer["code"] == 0
    assert answer["message"] == "OK"
    assert answer["data"] == {}
    [record] = api.records()
    assert record["received_at"] == NOW
    assert record["status"] == 200
    assert record["response"] == answer
    assert record["body"] == body
    assert record["accepted"] is True
    assert record["fault"] is None
    assert record["headers"] == {"content-type": "application/json", "user-agent": "ttrelay-test"}


def test_request_ids_are_unique_and_shaped_like_tiktoks(api: FakeEventsApi) -> None:
    ids = [json.loads(send(api, batch(event(f"e-{i}"))).body)["request_id"] for i in range(50)]
    ids.append(json.loads(send(api, batch(event()), token=None).body)["request_id"])

    assert len(set(ids)) == len(ids)
    # 2026-11-25 09:46:40 UTC from the injected clock, then random upper-case hex.
    assert all(re.fullmatch(r"20261125094640[0-9A-F]{22}", request_id) for request_id in ids)


def test_headers_are_matched_case_insensitively(api: FakeEventsApi) -> None:
    raw = json.dumps(batch(event())).encode()
    response = api.handle("POST", TRACK, {"ACCESS-TOKEN": TOKEN, "content-TYPE": "application/json"}, raw)

    assert code_of(response) == 0


def test_content_type_with_charset_is_json(api: FakeEventsApi) -> None:
    assert code_of(send(api, batch(event()), content_type="application/json; charset=utf-8")) == 0


# --- gateway answers (before the API logic) ---------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/open_api/v1.3/event/track", "/open_api/v1.3/pixel/track/", "/open_api/v1.2/event/track/"]
)
def test_wrong_path_is_a_plain_text_404(api: FakeEventsApi, path: str) -> None:
    response = send(api, batch(event()), path=path)

    assert response.status == 404
    assert response.headers["Content-Type"].startswith("text/plain")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.body)
    [record] = api.records()
    assert (record["status"], record["accepted"]) == (404, False)


def test_only_post_reaches_the_endpoint(api: FakeEventsApi) -> None:
    response = send(api, b"", method="GET")

    assert response.status == 405
    assert response.headers["Allow"] == "POST"


# --- auth and envelope ------------------------------------------------------------------------------


@pytest.mark.parametrize(("token", "code"), [(None, 40104), ("", 40104), ("  ", 40104), ("nope", 40105)])
def test_access_token_is_required_and_checked(
    api: FakeEventsApi, body: dict[str, Any], token: str | None, code: int
) -> None:
    response = send(api, body, token=token)

    assert code_of(response) == code
    assert api.records()[0]["accepted"] is False
    assert api.summary()["rejected_requests"] == 1


def test_access_token_is_never_recorded(api: FakeEventsApi, body: dict[str, Any]) -> None:
    secret = "tt-secret-token-value-123"
    api_with_secret = FakeEventsApi(access_tokens=(secret,))
    send(api_with_secret, body, token=secret)
    send(api_with_secret, body, token=secret + "x")
    raw = api_with_secret.handle("GET", "/requests", {}, b"").body.decode()

    assert json.loads(raw)["requests"][0]["response"]["code"] == 0
    for needle in (secret, hashlib.sha256(secret.encode()).hexdigest(), "access-token"):
        assert needle not in raw.lower()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_non_json_content_type_is_a_bad_parameter(api: FakeEventsApi, content_type: str) -> None:
    assert code_of(send(api, batch(event()), content_type=content_type)) == 40002


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"value": NaN}', b""])
def test_body_must_be_a_json_object(api: FakeEventsApi, raw: bytes) -> None:
    assert code_of(send(api, raw)) == 40002


def test_unparseable_body_is_recorded_as_text(api: FakeEventsApi) -> None:
    send(api, b"event=Purchase")

    assert api.records()[0]["body"] == "event=Purchase"


# --- body validation --------------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], object]


def _set(path: str, value: object) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return mutate


REJECTED: list[tuple[str, Mutation, int]] = [
    ("partner_name present", _set("partner_name", "ttrelay"), 40063),
    ("unknown top-level key", _set("pixel_code", "CXXXXXXXXXXXXXXXXXXX"), 40002),
    ("event_source app", _set("event_source", "app"), 40002),
    ("event_source missing", _drop("event_source"), 40002),
    ("pixel code lower-case", _set("event_source_id", "cxxxxxxxxxxxxxxxxxxx"), 40002),
    ("pixel code too short", _set("event_source_id", "CXXXXXXXXXXXXXXXXXX"), 40002),
    ("pixel code not a string", _set("event_source_id", 12345678901234567890), 40002),
    ("test_event_code not a string", _set("test_event_code", 12345), 40002),
    ("test_event_code inside an event", _set("data.0.test_event_code", "TEST123"), 40002),
    ("data empty", _set("data", []), 40002),
    ("data an object", _set("data", {"event": "Purchase"}), 40002),
    ("data missing", _drop("data"), 40002),
    ("event item not an object", _set("data.0", "Purchase"), 40002),
    ("event empty", _set("data.0.event", ""), 40002),
    ("event not a string", _set("data.0.event", 7), 40002),
    ("event missing", _drop("data.0.event"), 40002),
    ("event_time in ms", _set("data.0.event_time", 1_795_528_925_000), 40002),
    ("event_time before 2015", _set("data.0.event_time", 1_400_000_000), 40002),
    ("event_time a float", _set("data.0.event_time", 1_795_528_925.5), 40002),
    ("event_time a string", _set("data.0.event_time", "1795528925"), 40002),
    ("event_time ISO", _set("data.0.event_time", "2026-11-24T14:02:05Z"), 40002),
    ("event_time a bool", _set("data.0.event_time", True), 40002),
    ("event_time missing", _drop("data.0.event_time"), 40002),
    ("event_id empty", _set("data.0.event_id", ""), 40002),
    ("event_id too long", _set("data.0.event_id", "x" * 257), 40002),
    ("event_id a number", _set("data.0.event_id", 100234), 40002),
    ("event_id missing", _drop("data.0.event_id"), 40002),
    ("user not an object", _set("data.1.user", ["a"]), 40002),
    ("raw email", _set("data.1.user.email", ["alice@example.com"]), 40062),
    ("raw email as a string", _set("data.1.user.email", "alice@example.com"), 40062),
    ("upper-case hex email", _set("data.1.user.email", ["A" * 64]), 40062),
    ("base64 digest email", _set("data.1.user.email", ["hKp3FFhDj8LsQgVg1" + "=" * 3]), 40062),
    ("hex of the wrong length", _set("data.1.user.phone", ["a" * 63]), 40062),
    ("raw phone among hashes", _set("data.1.user.phone", [HASH, "+12133734253"]), 40062),
    ("external_id a number", _set("data.1.user.external_id", 123), 40062),
    ("raw first_name", _set("data.1.user.first_name", "Alice"), 40062),
    ("raw zip_code", _set("data.1.user.zip_code", "94107"), 40062),
    ("ip not an address", _set("data.0.user.ip", "203.0.113"), 40002),
    ("ip a number", _set("data.0.user.ip", 3405803800), 40002),
    ("ttp not a string", _set("data.0.user.ttp", 1), 40002),
    ("user_agent not a string", _set("data.0.user.user_agent", None), 40002),
    ("properties not an object", _set("data.0.properties", "x"), 40002),
    ("value a string", _set("data.0.properties.value", "89.00"), 40002),
    ("value a bool", _set("data.0.properties.value", True), 40002),
    ("currency unknown", _set("data.0.properties.currency", "XYZ"), 40002),
    ("currency lower-case", _set("data.0.properties.currency", "usd"), 40002),
    ("currency a list", _set("data.0.properties.currency", ["USD"]), 40002),
    ("currency an object", _set("data.0.properties.currency", {"code": "USD"}), 40002),
    ("contents not a list", _set("data.0.properties.contents", {"content_id": "a"}), 40002),
    ("content item not an object", _set("data.0.properties.contents.0", "SKU"), 40002),
    ("content_id a number", _set("data.0.properties.contents.0.content_id", 42), 40002),
    ("quantity a float", _set("data.0.properties.contents.0.quantity", 1.5), 40002),
    ("price a string", _set("data.0.properties.contents.0.price", "89.0"), 40002),
    ("content_ids not strings", _set("data.0.properties.content_ids", [1, 2]), 40002),
    ("page not an object", _set("data.0.page", "https://shop.example.com/"), 40002),
    ("page url not a string", _set("data.0.page.url", 5), 40002),
    ("limited_data_use a string", _set("data.0.limited_data_use", "false"), 40002),
]


@pytest.mark.parametrize(("mutate", "code"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_invalid_body_is_rejected_with_tiktoks_code(
    api: FakeEventsApi, body: dict[str, Any], mutate: Mutation, code: int
) -> None:
    mutate(body)

    response = send(api, body)

    assert code_of(response) == code
    assert api.records()[0]["accepted"] is False
    assert api.accepted_counts() == {}


ACCEPTED: list[tuple[str, Mutation]] = [
    ("value 0", _set("data.0.properties.value", 0)),
    ("integer value", _set("data.0.properties.value", 114)),
    ("single hashed string", _set("data.1.user.email", HASH)),
    ("empty match-key list", _set("data.1.user.phone", [])),
    ("IPv6 address", _set("data.0.user.ip", "2001:db8::1")),
    ("custom lower-case event name", _set("data.0.event", "purchase")),
    ("legacy event name", _set("data.1.event", "CompletePayment")),
    ("event_id of 256 characters", _set("data.0.event_id", "x" * 256)),
    ("top-level test_event_code", _set("test_event_code", "TEST12345")),
    ("undocumented device object", _set("data.0.device", {"platform": "iOS"})),
    ("no user, properties or page", lambda b: b.update(data=[event()])),
]


@pytest.mark.parametrize("mutate", [r[1] for r in ACCEPTED], ids=[r[0] for r in ACCEPTED])
def test_valid_variations_are_accepted(api: FakeEventsApi, body: dict[str, Any], mutate: Mutation) -> None:
    mutate(body)

    assert code_of(send(api, body)) == 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
FIELD_PATHS = [
    "event_source_id",
    "test_event_code",
    "data.0",
    "data.0.event_time",
    "data.0.event_id",
    "data.0.user",
    "data.1.user.email",
    "data.1.user.phone",
    "data.0.user.ip",
    "data.0.properties",
    "data.0.properties.value",
    "data.0.properties.currency",
    "data.0.properties.contents",
    "data.0.properties.contents.0",
    "data.0.properties.contents.0.quantity",
    "data.0.page",
]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(FIELD_PATHS), value=JSON_VALUES)
def test_any_json_in_any_field_gets_a_tiktok_answer(
    example_body: dict[str, Any], path: str, value: object
) -> None:
    body = copy.deepcopy(example_body)
    _set(path, value)(body)

    response = json.loads(send(FakeEventsApi(access_tokens=(TOKEN,)), body).body)

    assert response["code"] in {0, 40002, 40062}


def test_content_id_message_names_the_field(api: FakeEventsApi, body: dict[str, Any]) -> None:
    body["data"][0]["properties"]["contents"][0]["content_id"] = 42

    message = json.loads(send(api, body).body)["message"]

    assert message == "Batch.0.properties.contents.0.content_id: Not a valid string"


def test_rejection_message_never_echoes_raw_pii(api: FakeEventsApi, body: dict[str, Any]) -> None:
    body["data"][1]["user"]["email"] = ["alice@example.com"]

    response = json.loads(send(api, body).body)

    assert response["message"] == "Batch.1.user.email: PII data is not hashed"


def test_batch_of_1000_is_accepted_and_1001_is_a_batch_size_error(api: FakeEventsApi) -> None:
    full = batch(*(event(f"e-{i}") for i in range(1000)))
    assert code_of(send(api, full)) == 0

    response = json.loads(send(api, batch(*(event(f"e-{i}") for i in range(1001)))).body)
    assert (response["code"], response["message"]) == (40061, "Invalid batch size")


# --- ledger -----------------------------------------------------------------------------------------


def test_ledger_counts_every_acceptance_including_duplicates(
    api: FakeEventsApi, body: dict[str, Any], clock: Clock
) -> None:
    send(api, body)
    send(api, body)  # a retry: TikTok drops it (48 h dedup) but the relay did send it twice
    clock.now += 49 * 3600
    send(api, body)  # past the dedup window TikTok counts it again
    send(api, batch(event("order-100234"), test_event_code="TEST1"))
    send(api, body, token="wrong")  # rejected: not in the ledger

    pixel = "CXXXXXXXXXXXXXXXXXXX"
    assert api.accepted_counts() == {
        (pixel, "ViewContent", "vc-5b0e7c2a-8f41-4d3e-9a6b-1c2d3e4f5a6b", ""): 3,
        (pixel, "Purchase", "order-100234", ""): 3,
        (pixel, "Purchase", "order-100234", "TEST1"): 1,
    }
    assert api.summary() == {
        "requests": 5,
        "accepted_requests": 4,
        "faulted_requests": 0,
        "rejected_requests": 1,
        "events_accepted": 7,
        "unique_events_accepted": 3,
        "events_accepted_more_than_once": 2,
        "events_dropped_by_tiktok_dedup": 3,
    }


def test_summary_is_served_over_http(api: FakeEventsApi, body: dict[str, Any]) -> None:
    send(api, body)

    status, summary = control(api, "GET", "/summary")

    assert status == 200
    assert summary["events_accepted"] == 2


# --- control endpoints -------------------------------------------------------------------------------


def test_get_requests_lists_records_in_arrival_order(api: FakeEventsApi) -> None:
    for i in range(3):
        send(api, batch(event(f"e-{i}")))

    status, payload = control(api, "GET", "/requests")

    assert status == 200
    assert [r["body"]["data"][0]["event_id"] for r in payload["requests"]] == ["e-0", "e-1", "e-2"]


def test_delete_requests_clears_records_and_ledger(api: FakeEventsApi, body: dict[str, Any]) -> None:
    send(api, body)
    send(api, body, token=None)

    assert control(api, "DELETE", "/requests") == (200, {"cleared": 2})
    assert api.records() == []
    assert api.accepted_counts() == {}
    assert api.summary()["requests"] == 0
    assert control(api, "GET", "/requests") == (200, {"requests": []})


def test_records_returns_a_copy(api: FakeEventsApi, body: dict[str, Any]) -> None:
    send(api, body)
    api.records().clear()
    api.records()[0]["status"] = 500

    assert api.records()[0]["status"] == 200


def test_unknown_control_path_is_a_json_404(api: FakeEventsApi) -> None:
    status, payload = control(api, "GET", "/nothing-here")

    assert status == 404
    assert "error" in payload


def test_control_path_with_wrong_method_is_a_json_405(api: FakeEventsApi) -> None:
    response = api.handle("PUT", "/requests", {}, b"")

    assert response.status == 405
    assert "error" in json.loads(response.body)


# --- faults ------------------------------------------------------------------------------------------


def test_faults_default_to_none(api: FakeEventsApi) -> None:
    status, config = control(api, "GET", "/faults")

    assert status == 200
    assert config["error_rate"] == 0


def test_error_rate_1_with_codes_faults_every_request(api: FakeEventsApi, body: dict[str, Any]) -> None:
    status, config = control(api, "POST", "/faults", {"error_rate": 1, "codes": [50000]})
    assert (status, config["codes"]) == (200, [50000])

    codes = [code_of(send(api, body)) for _ in range(20)]
    codes.append(code_of(send(api, b"not json", token=None)))  # faults come before any check

    assert codes == [50000] * 21
    assert all(r["fault"] == "code" and r["accepted"] is False for r in api.records())
    assert api.accepted_counts() == {}
    assert api.summary()["faulted_requests"] == 21


def test_http_status_fault_answers_plain_text(api: FakeEventsApi, body: dict[str, Any]) -> None:
    control(api, "POST", "/faults", {"error_rate": 1, "http_status": [503]})

    response = send(api, body)

    assert response.status == 503
    assert response.body == b"Service Unavailable"
    [record] = api.records()
    assert (record["status"], record["response"], record["fault"]) == (503, "Service Unavailable", "http")


def fault_sequence(config: dict[str, Any], requests: int = 60) -> list[tuple[int, int | None]]:
    api = FakeEventsApi(access_tokens=(TOKEN,))
    control(api, "POST", "/faults", config)
    sequence = []
    for i in range(requests):
        response = send(api, batch(event(f"e-{i}")))
        sequence.append(
            (response.status, json.loads(response.body)["code"] if response.status == 200 else None)
        )
    return sequence


def test_seeded_faults_reproduce(api: FakeEventsApi) -> None:
    config = {"error_rate": 0.5, "codes": [50000, 40100], "http_status": [500, 429], "seed": 7}

    first = fault_sequence(config)

    assert first == fault_sequence(config)
    assert first != fault_sequence({**config, "seed": 8})
    outcomes = set(first)
    # Both kinds, every code and status, and clean requests all show up in 60 draws at 50 %.
    assert {(200, 0), (200, 50000), (200, 40100), (500, None), (429, None)} <= outcomes


def test_error_rate_sets_the_share_of_faulted_requests(api: FakeEventsApi) -> None:
    sequence = fault_sequence({"error_rate": 0.3, "codes": [50000], "seed": 1}, requests=1000)

    faulted = sum(1 for _, code in sequence if code != 0)

    assert 240 <= faulted <= 360


def test_permanent_event_ids_fail_every_time(api: FakeEventsApi) -> None:
    control(api, "POST", "/faults", {"permanent_event_ids": ["poison-1"], "permanent_code": 40001})

    assert [code_of(send(api, batch(event("ok-1"), event("poison-1")))) for _ in range(3)] == [40001] * 3
    assert code_of(send(api, batch(event("ok-1")))) == 0
    assert api.accepted_counts() == {("CXXXXXXXXXXXXXXXXXXX", "Purchase", "ok-1", ""): 1}


def test_permanent_content_ids_refuse_one_copy_of_an_event_and_accept_another(api: FakeEventsApi) -> None:
    control(api, "POST", "/faults", {"permanent_content_ids": ["refused"]})
    bad = {**event("order-1"), "properties": {"contents": [{"content_id": "refused"}]}}
    good = {**event("order-1"), "properties": {"contents": [{"content_id": "sku-1"}]}}

    assert code_of(send(api, batch(bad))) == 40002
    assert code_of(send(api, batch(good))) == 0
    assert api.accepted_counts() == {("CXXXXXXXXXXXXXXXXXXX", "Purchase", "order-1", ""): 1}


def test_permanent_code_defaults_to_bad_parameter(api: FakeEventsApi) -> None:
    control(api, "POST", "/faults", {"permanent_event_ids": ["poison-1"]})

    assert code_of(send(api, batch(event("poison-1")))) == 40002


def test_empty_config_resets_faults(api: FakeEventsApi, body: dict[str, Any]) -> None:
    control(api, "POST", "/faults", {"error_rate": 1, "codes": [50000], "permanent_event_ids": ["e-1"]})

    status, config = control(api, "POST", "/faults", {})

    assert status == 200
    assert config == control(api, "GET", "/faults")[1]
    assert (config["error_rate"], config["codes"], config["permanent_event_ids"]) == (0, [], [])
    assert code_of(send(api, body)) == 0
    assert code_of(send(api, batch(event("e-1")))) == 0


@pytest.mark.parametrize(
    "config",
    [
        {"error_rate": 1.5, "codes": [50000]},
        {"error_rate": -0.1, "codes": [50000]},
        {"error_rate": "0.3", "codes": [50000]},
        {"error_rate": 0.3},
        {"error_rate": 0.3, "codes": ["50000"]},
        {"error_rate": 0.3, "codes": [0]},
        {"error_rate": 0.3, "http_status": [200]},
        {"error_rate": 0.3, "http_status": [600]},
        {"latency_ms": 60_001},
        {"latency_ms": -1},
        {"seed": "one"},
        {"permanent_event_ids": "e-1"},
        {"permanent_event_ids": [""]},
        {"permanent_content_ids": "refused"},
        {"permanent_code": 0},
        {"error_rat": 0.3},
        [0.3],
    ],
)
def test_bad_fault_config_is_a_400_and_changes_nothing(api: FakeEventsApi, config: object) -> None:
    control(api, "POST", "/faults", {"error_rate": 0.5, "codes": [50000], "seed": 3})
    before = control(api, "GET", "/faults")[1]

    status, payload = control(api, "POST", "/faults", config)

    assert status == 400
    assert isinstance(payload["errors"], list)
    assert payload["errors"]
    assert control(api, "GET", "/faults")[1] == before


def test_fault_config_that_is_not_json_is_a_400(api: FakeEventsApi) -> None:
    response = api.handle("POST", "/faults", {}, b"{error_rate")

    assert response.status == 400


def test_latency_delays_responses_without_holding_the_lock(body: dict[str, Any]) -> None:
    delays: list[float] = []
    observed_summary: list[dict[str, int]] = []
    readers_finished: list[bool] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        # Another thread must be able to use the fake while this response is being delayed.
        reader = threading.Thread(target=lambda: observed_summary.append(fake.summary()))
        reader.start()
        reader.join(timeout=5)
        readers_finished.append(not reader.is_alive())

    fake = FakeEventsApi(access_tokens=(TOKEN,), sleep=sleep)
    control(fake, "POST", "/faults", {"latency_ms": 250})

    assert code_of(send(fake, body)) == 0
    assert delays == [0.25]
    assert readers_finished == [True]
    assert observed_summary[0]["accepted_requests"] == 1


def test_concurrent_requests_are_all_recorded(api: FakeEventsApi) -> None:
    control(api, "POST", "/faults", {"error_rate": 0.3, "codes": [50000], "seed": 5})

    def worker(n: int) -> None:
        for i in range(50):
            send(api, batch(event(f"w{n}-{i}")))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    summary = api.summary()
    assert summary["requests"] == len(api.records()) == 400
    assert summary["accepted_requests"] + summary["faulted_requests"] == 400
    assert summary["unique_events_accepted"] == summary["accepted_requests"]
