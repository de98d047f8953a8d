"""`ttrelay dlq inspect`: per reason, TikTok's message and request ids, never an event body."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from ttrelay.adapters import aws
from ttrelay.forward.dlq import ParkedMessage, summarise
from ttrelay_dev.cli import main

PIXEL = "CAAAAAAAAAAAAAAAAAAA"
SHA = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"
BODY = json.dumps(
    {
        "v": 1,
        "pixel_code": PIXEL,
        "received_at": 1795000000.5,
        "events": [
            {"event": "Purchase", "event_id": "e1", "event_time": 1795000000, "user": {"email": [SHA]}}
        ],
        "receipt": {},
    }
)


def parked(reason: str | None, message: str = "", request_id: str = "") -> ParkedMessage:
    attributes = {"reason": reason, "message": message, "request_id": request_id}
    return ParkedMessage(BODY, {k: v for k, v in attributes.items() if v}, sent_at_ms=1)


def test_each_reason_lists_up_to_three_distinct_messages_and_request_ids() -> None:
    messages = [parked("code:40001", "Access token is invalid", f"req-{n}") for n in range(5)] + [
        parked("code:40002", "Invalid pixel code", "req-a"),
        parked("code:40002", "Invalid value for content_id", "req-b"),
        parked("code:40002", "Invalid pixel code", "req-c"),
        parked(None),  # moved by SQS after maxReceiveCount: no attributes of ours
    ]
    detail = summarise(messages).as_dict()["by_reason_detail"]
    assert detail == {
        "code:40001": {
            "count": 5,
            "messages": ["Access token is invalid"],
            "request_ids": ["req-0", "req-1", "req-2"],
        },
        "code:40002": {
            "count": 3,
            "messages": ["Invalid pixel code", "Invalid value for content_id"],
            "request_ids": ["req-a", "req-b", "req-c"],
        },
        "max_receive_count_exceeded": {"count": 1, "messages": [], "request_ids": []},
    }
    assert list(detail) == ["code:40001", "code:40002", "max_receive_count_exceeded"]  # most common first


@pytest.fixture
def aws_mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws._client.cache_clear()  # the CLI's process-wide clients must be made inside the mock
    with mock_aws():
        yield
    aws._client.cache_clear()


def test_inspect_prints_the_detail_without_bodies(aws_mock: None, capsys: pytest.CaptureFixture[str]) -> None:
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    attributes = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in {
            "reason": "code:40001",
            "message": "Access token is invalid",
            "request_id": "r1",
        }.items()
    }
    sqs.send_message(QueueUrl=dlq, MessageBody=BODY, MessageAttributes=attributes)
    assert main(["dlq", "inspect", "--dlq-url", dlq]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out)
    assert summary["by_reason_detail"] == {
        "code:40001": {"count": 1, "messages": ["Access token is invalid"], "request_ids": ["r1"]}
    }
    # Which events are parked (so a shop knows which orders), never their data: no hashed email.
    assert summary["parked"] == [
        {
            "message_id": summary["parked"][0]["message_id"],
            "reason": "code:40001",
            "pixel": PIXEL,
            "events": [{"event_id": "e1", "event": "Purchase"}],
        }
    ]
    assert summary["parked"][0]["message_id"]
    assert SHA not in out and "received_at" not in out


def test_request_ids_shared_by_messages_of_one_tiktok_request_are_listed_once() -> None:
    # The forwarder parks every message of a refused request with that request's id.
    messages = [parked("code:40002", "Invalid pixel code", ids) for ids in ("r1", "r1", "r2", "r1")]
    summary = summarise(messages).as_dict()
    assert summary["tiktok_request_ids"] == ["r1", "r2"]
    assert [entry["events"] for entry in summary["parked"]] == [[{"event_id": "e1", "event": "Purchase"}]] * 4


def test_an_unreadable_parked_body_is_listed_without_events() -> None:
    summary = summarise([ParkedMessage("{not json", {"reason": "malformed_message"}, 1, "m-1")]).as_dict()
    unreadable = {"message_id": "m-1", "reason": "malformed_message", "pixel": "(unreadable)"}
    assert summary["parked"] == [unreadable]


def test_a_redriven_message_from_before_claim_ids_keeps_its_sqs_message_id_as_its_claim() -> None:
    from ttrelay.forward.dlq import with_claim_id

    old = json.dumps({"v": 1, "pixel_code": "C1", "received_at": 1.0, "events": [{"event": "Lead"}]})
    message_id = "5fea7756-0ea4-451a-a703-a558b933e274"
    assert json.loads(with_claim_id(old, message_id))["claim_id"] == message_id
    current = json.dumps({"v": 1, "claim_id": "abc123"})
    assert with_claim_id(current, message_id) == current  # its own claim_id stays
    assert with_claim_id("{not json", message_id) == "{not json"  # parked again as malformed, unchanged
    assert "claim_id" not in with_claim_id(old, "id with spaces")  # never an id the model would refuse
