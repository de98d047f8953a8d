"""Both real handlers in Lambda-like workers, against moto's server and the fake Events API over HTTP.

The stack's resources come from template.yaml; no event source runs here, so each test drives the
forwarder itself with the exact SQS records the collector produced.
"""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.paths import ROOT
from support.stack import wait_for
from ttrelay_dev.local.stack import LocalStack, StackOptions

SHA = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"


@pytest.fixture(scope="module")
def function_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the functions' output (log lines, EMF) goes."""
    return tmp_path_factory.mktemp("stack") / "functions.log"


@pytest.fixture(scope="module")
def stack(function_log: Path) -> Iterator[LocalStack]:
    log = function_log.open("w")
    local = LocalStack(StackOptions(root=ROOT, port=0, event_sources=False, log_output=log)).start()
    yield local
    local.stop()
    log.close()


@pytest.fixture(autouse=True)
def clean_fake(stack: LocalStack) -> None:
    stack.fake.clear()
    httpx.post(f"{stack.base_url}/_local/tiktok/faults", json={})


def collect(stack: LocalStack, body: dict[str, Any], **headers: str) -> httpx.Response:
    # The stack's own origin is an allowed browser origin (DESIGN.md "Who may send").
    headers = {"origin": stack.base_url, **headers}
    return httpx.post(f"{stack.base_url}/events", json=body, headers=headers, timeout=30)


def take_records(stack: LocalStack, queue: str = "EventsQueue") -> list[dict[str, Any]]:
    """The queue's messages as the event source mapping would hand them to the forwarder."""
    sqs = stack.clients()["sqs"]
    assert stack.provisioned is not None
    url = stack.provisioned.queue_urls[queue]
    messages = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=1,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": m.get("MessageAttributes", {}),
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
            "awsRegion": "us-east-1",
        }
        for m in messages
    ]


def forward(stack: LocalStack, records: list[dict[str, Any]]) -> dict[str, Any]:
    outcome = stack.invoke("ForwardFunction", {"Records": records})
    assert outcome.ok, outcome.error
    return dict(outcome.result)


def granted(event_id: str, **user: str) -> dict[str, Any]:
    return {
        "consent": {"cmp": {"marketing": True}},
        "user": user,
        "events": [
            {"event": "Purchase", "event_id": event_id, "properties": {"value": 9.5, "currency": "EUR"}}
        ],
    }


def test_collect_queues_one_hashed_message_and_forward_delivers_it_once(stack: LocalStack) -> None:
    response = collect(stack, granted("int-1", email="Jane.Doe@Example.com"))
    assert response.status_code == 202, response.text
    assert "ttrelay=" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]
    records = take_records(stack)
    assert len(records) == 1
    assert "Jane.Doe" not in records[0]["body"] and "jane.doe" not in records[0]["body"]
    queued = json.loads(records[0]["body"])
    assert queued["v"] == 2 and queued["shared"]["user"]["email"] == [SHA]  # the request's user, once
    assert queued["receipt"]["action"] == "forward"

    assert forward(stack, records) == {"batchItemFailures": []}
    assert forward(stack, records) == {"batchItemFailures": []}  # a redelivery: deduplicated, not resent
    delivered = [r for r in stack.fake.records() if r["accepted"]]
    assert len(delivered) == 1
    body = delivered[0]["body"]
    assert body["event_source"] == "web" and body["event_source_id"] == "CTTRELAYLOCALDEV0001"
    assert body["data"][0]["event_id"] == "int-1" and body["data"][0]["user"]["email"] == [SHA]


def test_the_seeds_pixel_calls_reach_the_events_api_in_its_shape_with_rejects_and_warnings_answered(
    stack: LocalStack,
) -> None:
    # ViewContent (seed line 173) and the advanced-matching Purchase (seed line 461, GTM placeholders
    # filled in) as ttrelay.js posts them, beside an unusable event and a mistyped name.
    hashed_email = hashlib.sha256(b"jane.doe@example.com").hexdigest()
    body = {
        "consent": {"cmp": {"marketing": True}},
        "context": {"page_url": "https://shop.example.com/p/PROD001", "locale": "en-US"},
        "events": [
            {
                "event": "ViewContent",
                "event_id": "seed-173",
                "properties": {"content_id": ["PROD001"], "content_type": "product",
                               "content_name": "Super Gadget Pro", "value": 199.99, "currency": "USD"},
            },
            {
                "event": "Purchase",
                "event_id": "seed-461",
                "properties": {"content_id": ["SKU-4711"], "content_type": "product", "value": 59.97,
                               "currency": "usd", "order_id": "ORD-1001", "email": hashed_email,
                               "phone_number": "+1 415-555-0132", "first_name": "Jane", "last_name": "Doe"},
            },
            {"event": "Purchase", "event_id": "seed-bad", "event_time": 1795000000123},
            {"event": "purchase", "event_id": "seed-case", "properties": {"currency": "XYZ"}},
        ],
    }  # fmt: skip
    response = collect(stack, body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["accepted"], answer["dropped"]) == (3, 0)
    assert answer["rejected"] == [
        {
            "index": 2,
            "event_id": "seed-bad",
            "errors": [
                {
                    "loc": "events.2.event_time",
                    "type": "less_than",
                    "msg": "Input should be less than 10000000000",
                }
            ],
        }
    ]
    assert [(w["index"], w["loc"]) for w in answer["warnings"]] == [
        (3, "events.3.event"),
        (3, "events.3.properties.currency"),
    ]
    assert forward(stack, take_records(stack)) == {"batchItemFailures": []}
    (delivered,) = [r for r in stack.fake.records() if r["accepted"]]
    data = {item["event_id"]: item for item in delivered["body"]["data"]}
    view = data["seed-173"]
    assert view["properties"] == {
        "contents": [{"content_id": "PROD001", "content_name": "Super Gadget Pro"}],
        "content_type": "product",
        "value": 199.99,
        "currency": "USD",
    }
    purchase = data["seed-461"]
    assert purchase["properties"] == {
        "contents": [{"content_id": "SKU-4711"}],
        "content_type": "product",
        "value": 59.97,
        "currency": "USD",
        "order_id": "ORD-1001",
    }
    user = purchase["user"]
    assert user["email"] == [hashed_email]
    assert user["phone"] == [hashlib.sha256(b"+14155550132").hexdigest()]
    assert user["first_name"] == [hashlib.sha256(b"jane").hexdigest()]
    assert user["last_name"] == [hashlib.sha256(b"doe").hexdigest()]
    assert "email" not in view["user"]  # match keys belong to the event that carried them
    assert data["seed-case"]["event"] == "purchase"  # sent as the custom event it is


def test_retryable_failures_are_reported_per_message_and_retried_later(stack: LocalStack) -> None:
    collect(stack, granted("int-retry-1"))
    collect(stack, granted("int-retry-2"))
    records = take_records(stack)
    httpx.post(f"{stack.base_url}/_local/tiktok/faults", json={"error_rate": 1, "codes": [50000]})
    failures = forward(stack, records)["batchItemFailures"]
    assert sorted(f["itemIdentifier"] for f in failures) == sorted(r["messageId"] for r in records)
    httpx.post(f"{stack.base_url}/_local/tiktok/faults", json={})
    assert forward(stack, records) == {"batchItemFailures": []}
    accepted = [e["event_id"] for r in stack.fake.records() if r["accepted"] for e in r["body"]["data"]]
    assert sorted(accepted) == ["int-retry-1", "int-retry-2"]


def test_a_failed_message_comes_back_after_its_retry_delay_not_the_queues_timeout(stack: LocalStack) -> None:
    collect(stack, granted("int-soon-1"))
    sqs = stack.clients()["sqs"]
    assert stack.provisioned is not None
    url = stack.provisioned.queue_urls["EventsQueue"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "VisibilityTimeout"])
    assert int(queue["Attributes"]["VisibilityTimeout"]) >= 60  # the template's 360 s, not the delay
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, AttributeNames=["All"])["Messages"]
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue["Attributes"]["QueueArn"],
        "awsRegion": "us-east-1",
    }
    httpx.post(f"{stack.base_url}/_local/tiktok/faults", json={"error_rate": 1, "codes": [50000]})
    assert forward(stack, [record])["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    # A fault on the first delivery comes back after 1-2 s (ttrelay.forward.redelivery), not the queue's.
    again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, AttributeNames=["All"]).get("Messages", [])
    assert [m["MessageId"] for m in again] == [message["MessageId"]]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"])


def test_permanent_failures_go_to_the_dlq_with_tiktoks_reason(stack: LocalStack) -> None:
    collect(stack, granted("int-perm-1"))
    records = take_records(stack)
    httpx.post(f"{stack.base_url}/_local/tiktok/faults", json={"permanent_event_ids": ["int-perm-1"]})
    assert forward(stack, records) == {"batchItemFailures": []}  # not retried forever
    parked = take_records(stack, "EventsDLQ")
    assert len(parked) == 1
    assert parked[0]["messageAttributes"]["reason"]["StringValue"] == "code:40002"
    assert json.loads(parked[0]["body"])["events"][0]["event_id"] == "int-perm-1"


def test_a_denied_event_is_never_queued(stack: LocalStack) -> None:
    response = collect(
        stack, {"user": {"email": "a@b.co"}, "events": [{"event": "Purchase", "event_id": "int-deny"}]}
    )
    assert response.status_code == 202
    assert response.json()["decision"]["action"] == "drop"
    assert "set-cookie" not in response.headers
    assert take_records(stack) == []


def log_lines(function_log: Path, message: str, after: int) -> list[dict[str, Any]]:
    """The functions' log lines with this message, written after the first `after` characters."""
    text = function_log.read_text()[after:]
    lines = (json.loads(line) for line in text.splitlines() if line.startswith("{"))
    return [line for line in lines if line.get("message") == message]


def test_the_collectors_log_lines_name_fields_never_the_senders_keys(
    stack: LocalStack, function_log: Path
) -> None:
    jane, start = "jane.doe@example.com", len(function_log.read_text())
    refused = collect(stack, {"user": {jane: "x"}, "events": [{"event": "Lead"}]})
    assert refused.status_code == 400, refused.text
    event = {"event": "Lead", "event_id": "paths-1", "properties": {"jane_doe": {"a": 1}}}
    body = {"consent": {"cmp": {"marketing": True}}, jane: 1, "user": {"email": "jane.example.com"}}
    accepted = collect(stack, {**body, "events": [event]})
    assert accepted.status_code == 202, accepted.text
    assert len(take_records(stack)) == 1

    (line,) = wait_for(lambda: log_lines(function_log, "collected", start))
    assert line["warning_paths"] == ["<key>", "user.email", "events.0.properties.<key>"]
    assert [line["error_paths"] for line in log_lines(function_log, "rejected", start)] == [["user.<key>"]]
    for text in (function_log.read_text()[start:], refused.text, accepted.text):
        assert "jane" not in text


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"{broken", {"content-type": "application/json"}, 400),
        (b"a=b", {"content-type": "application/x-www-form-urlencoded"}, 415),
        (json.dumps({"events": {}}).encode(), {"content-type": "application/json"}, 400),
    ],
)
def test_bad_input_gets_a_json_4xx_over_http(
    stack: LocalStack, content: bytes, headers: dict[str, str], status: int
) -> None:
    headers = {"origin": stack.base_url, **headers}
    response = httpx.post(f"{stack.base_url}/events", content=content, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]
    assert take_records(stack) == []


@pytest.mark.parametrize(
    "name", ["collect-granted", "collect-granted-httpapi", "collect-denied-opt-in", "forward-batch"]
)
def test_sample_events_give_their_expected_response(stack: LocalStack, name: str) -> None:
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    expected = json.loads((ROOT / "events" / "expected" / f"{name}.json").read_text())
    function = "ForwardFunction" if name.startswith("forward") else "CollectFunction"
    outcome = stack.invoke(function, event)
    assert outcome.ok, outcome.error
    if function == "ForwardFunction":
        assert outcome.result == expected
        return
    assert outcome.result["statusCode"] == expected["statusCode"]
    _assert_subset(json.loads(outcome.result["body"]), expected["body"])
    assert bool(outcome.result.get("cookies")) is expected["sets_cookie"]
    take_records(stack)


def _assert_subset(actual: Any, expected: Any, path: str = "") -> None:
    if isinstance(expected, dict):
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} missing"
            _assert_subset(actual[key], value, f"{path}.{key}")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def test_function_environment_comes_from_the_template(stack: LocalStack) -> None:
    assert stack.provisioned is not None
    env = stack.provisioned.functions["ForwardFunction"].environment
    assert env["DEDUP_TABLE_NAME"] and env["EVENTS_DLQ_URL"].endswith("EventsDLQ")
    assert env["EVENTS_API_BASE_URL"] == f"{stack.base_url}/_local/tiktok"
    mapping = stack.provisioned.mappings[0]
    assert mapping.function == "ForwardFunction" and mapping.report_batch_item_failures
    assert Path(stack.provisioned.functions["CollectFunction"].code_dir).name == "collect"


def test_a_decision_probe_after_withdrawal_expires_the_cookie_over_http(stack: LocalStack) -> None:
    granted_response = collect(stack, granted("int-probe-1"))
    cookie = granted_response.headers["set-cookie"].split(";")[0]
    take_records(stack)
    response = collect(stack, {"consent": {"cmp": {"marketing": False}}, "events": []}, cookie=cookie)
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 0,
        "dropped": 0,
        "decision": {"action": "drop", "regime": "opt_in", "reason": "deny:cmp:marketing"},
        "token": None,
    }
    assert (
        response.headers["set-cookie"].startswith("ttrelay=;")
        and "Max-Age=0" in response.headers["set-cookie"]
    )
    assert take_records(stack) == []


def test_withdrawn_consent_expires_the_cookie(stack: LocalStack) -> None:
    granted_response = collect(stack, granted("int-cookie-1"))
    cookie = granted_response.headers["set-cookie"].split(";")[0]
    denied = {
        "consent": {"cmp": {"marketing": False}},
        "events": [{"event": "Lead", "event_id": "int-cookie-2"}],
    }
    response = collect(stack, denied, cookie=cookie)
    assert response.json()["decision"]["action"] == "drop"
    assert (
        response.headers["set-cookie"].startswith("ttrelay=;")
        and "Max-Age=0" in response.headers["set-cookie"]
    )
    take_records(stack)
