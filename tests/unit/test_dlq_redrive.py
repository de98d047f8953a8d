"""`ttrelay dlq redrive` never resends an event TikTok accepted: the dedup table remembers longer than a
message can wait in the queues, and what is older still is left in the DLQ, said so, unless asked."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError
from support.fakes import MemoryDeadLetters, ScriptedEventsApi
from support.paths import ROOT
from ttrelay.adapters import aws
from ttrelay.config import ForwardSettings
from ttrelay.forward.dedup import DEDUP_TTL_HOURS, MIN_DEDUP_TTL_HOURS, InMemoryDedupStore
from ttrelay.forward.dlq import REDRIVE_MARGIN_SECONDS, outlived_dedup_memory
from ttrelay.forward.use_case import Forwarder, InboundMessage
from ttrelay_dev.cli import main
from ttrelay_dev.local.template import Resolver, load_template

DAY = 24 * 3600
TTL = DEDUP_TTL_HOURS * 3600


def body(received_at: float, event_id: str = "e1") -> str:
    event = {"event": "Purchase", "event_id": event_id, "event_time": int(received_at), "user": {}}
    return json.dumps({"v": 1, "pixel_code": "C1", "received_at": received_at, "events": [event]})


def test_the_dedup_memory_outlasts_a_messages_whole_life_in_the_queue_and_the_dlq() -> None:
    template = load_template(ROOT / "template.yaml")
    resources, parameter = template["Resources"], template["Parameters"]["DedupTtlHours"]
    queue = resources["EventsQueue"]["Properties"]["MessageRetentionPeriod"]
    dlq = resources["EventsDLQ"]["Properties"]["MessageRetentionPeriod"]
    # The longest a message lives: in the queue until parked, then a parked copy for the DLQ's retention.
    assert queue + dlq <= TTL - REDRIVE_MARGIN_SECONDS
    assert parameter["Default"] == DEDUP_TTL_HOURS
    # Never shorter than a message's stay in the queue, with the redrive's day to spare (TikTok: 48 h).
    assert parameter["MinValue"] == MIN_DEDUP_TTL_HOURS and queue + DAY <= MIN_DEDUP_TTL_HOURS * 3600
    defaults = ForwardSettings(dedup_table_name="t", access_token_secret_arn="s")
    assert defaults.dedup_ttl_hours == DEDUP_TTL_HOURS
    # The forwarder gets the parameter, and redrive reads it from the stack's outputs.
    variable = resources["ForwardFunction"]["Properties"]["Environment"]["Variables"]["DEDUP_TTL_HOURS"]
    output = template["Outputs"]["DedupTtlHours"]["Value"]
    resolver = Resolver.for_template(template, {"DedupTtlHours": "500"})
    assert resolver.resolve(variable) == resolver.resolve(output) == "500"


def test_at_the_least_dedup_memory_a_late_delivery_from_the_queue_still_finds_a_confirmation() -> None:
    # A browser's copy is confirmed at once; the back end's copy of the same order sits in EventsQueue
    # through a forwarder outage (a disabled trigger, a broken deploy) until the queue's retention ends.
    # Even at the lowest DedupTtlHours the stack accepts, that copy must be a duplicate, not a resend:
    # TikTok's own dedup lasts 48 h only and would count it again.
    template = load_template(ROOT / "template.yaml")
    retention = template["Resources"]["EventsQueue"]["Properties"]["MessageRetentionPeriod"]
    shortest = template["Parameters"]["DedupTtlHours"]["MinValue"]
    settings = ForwardSettings(dedup_table_name="t", access_token_secret_arn="s", dedup_ttl_hours=shortest)
    dedup = InMemoryDedupStore(ttl_seconds=settings.dedup_ttl_hours * 3600)
    api, confirmed_at = ScriptedEventsApi(), 1_795_000_000.0

    def forwarded_at(now: float, message: InboundMessage) -> Any:
        fwd = Forwarder(dedup, api, MemoryDeadLetters(), owner="w", clock=lambda: now, max_receive_count=14)
        return fwd.forward([message])

    forwarded_at(confirmed_at, InboundMessage("m-browser", queued_body("order-1", "c-browser", confirmed_at)))
    late = InboundMessage("m-backend", queued_body("order-1", "c-backend", confirmed_at + 60))
    report = forwarded_at(confirmed_at + 60 + retention, late)
    assert (report.duplicates, report.delivered, len(api.requests)) == (1, 0, 1)
    with pytest.raises(ValidationError):  # and the forwarder refuses a shorter memory than the template
        ForwardSettings(dedup_table_name="t", access_token_secret_arn="s", dedup_ttl_hours=shortest - 1)


def queued_body(event_id: str, claim_id: str, received_at: float) -> str:
    event = {"event": "Purchase", "event_id": event_id, "event_time": int(received_at), "user": {}}
    envelope = {"v": 1, "pixel_code": "C1", "received_at": received_at, "claim_id": claim_id}
    return json.dumps({**envelope, "events": [event], "receipt": {}})


def test_a_message_is_too_old_to_redrive_once_the_table_may_have_forgotten_its_confirmations() -> None:
    received = 1_795_000_000.0
    at_dlq_expiry = received + 18 * DAY  # 4 days queued, then 14 parked
    assert not outlived_dedup_memory(body(received), at_dlq_expiry, TTL)
    assert outlived_dedup_memory(body(received), received + 72 * 3600, 72 * 3600)
    assert not outlived_dedup_memory(body(received), received + 47 * 3600, 72 * 3600)
    assert not outlived_dedup_memory("{not json", at_dlq_expiry, 3600)  # nothing to resend: parked again


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, str]]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws._client.cache_clear()  # the CLI's process-wide clients must be made inside the mock
    with mock_aws():
        sqs = boto3.client("sqs")
        urls = [sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("dlq", "events")]
        yield sqs, urls[0], urls[1]
    aws._client.cache_clear()


def drained(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [message["Body"] for message in messages]
    return bodies


def test_redrive_leaves_what_the_table_may_have_forgotten_in_the_dlq_and_says_so(
    queues: tuple[Any, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, dlq, events = queues
    now = time.time()
    sqs.send_message(QueueUrl=dlq, MessageBody=body(now - 3600, "young"))
    sqs.send_message(QueueUrl=dlq, MessageBody=body(now - 3 * DAY, "old"))
    args = ["dlq", "redrive", "--dlq-url", dlq, "--queue-url", events, "--dedup-ttl-hours", "72"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"redriven": 1, "left_older_than_dedup_memory": 1}
    assert "left 1 message(s) in the DLQ" in err and "--include-expired" in err
    assert [json.loads(b)["events"][0]["event_id"] for b in drained(sqs, events)] == ["young"]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert int(attributes["ApproximateNumberOfMessagesNotVisible"]) == 1  # left, visible again in 60 s


def test_include_expired_redrives_old_messages_too(
    queues: tuple[Any, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, dlq, events = queues
    sqs.send_message(QueueUrl=dlq, MessageBody=body(time.time() - 30 * DAY, "old"))
    args = ["dlq", "redrive", "--dlq-url", dlq, "--queue-url", events, "--include-expired"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == {"redriven": 1, "left_older_than_dedup_memory": 0}
    assert len(drained(sqs, events)) == 1
