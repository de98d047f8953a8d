"""`ttrelay status`: the pure summary, the SQS/CloudWatch readings on moto, and the command end to end."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer
from ttrelay.adapters import aws
from ttrelay.adapters.stack_status import read_status
from ttrelay.observability.status import OLD_MESSAGE_SECONDS, QueueDepth, StatusReadings, summarise
from ttrelay_dev.cli import main
from ttrelay_dev.local.stack import worker_env

REGION = "us-east-1"
NOW = dt.datetime.now(dt.UTC)
OUTPUTS = {"CollectFunctionUrl": "https://abc.lambda-url.us-east-1.on.aws/"}


def readings(**changes: Any) -> StatusReadings:
    values: dict[str, Any] = {
        "outputs": OUTPUTS,
        "queue": QueueDepth(visible=0, in_flight=0),
        "dlq": QueueDepth(visible=0, in_flight=0),
        "oldest_message_age_seconds": None,
        "configuration_errors": 0.0,
    }
    return StatusReadings(**{**values, **changes})


# --- the pure summary -----------------------------------------------------------------------------------


def test_a_healthy_relay_needs_no_attention() -> None:
    summary = summarise(readings())
    assert summary["attention"] == []
    # An empty queue has no oldest message, even when CloudWatch has no datapoint to say so.
    assert summary["queue"] == {
        "messages": 0,
        "visible": 0,
        "in_flight": 0,
        "delayed": 0,
        "oldest_message_age_seconds": 0,
    }
    assert summary["outputs"] == OUTPUTS
    assert summary["configuration_errors_last_60_min"] == 0


def test_what_could_not_be_read_is_unknown_never_zero() -> None:
    summary = summarise(
        readings(queue=QueueDepth(3, 1), dlq=None, oldest_message_age_seconds=None, configuration_errors=None)
    )
    assert summary["queue"]["oldest_message_age_seconds"] == "unknown"  # type: ignore[index]
    assert summary["dlq"] == {"messages": "unknown"}
    assert summary["configuration_errors_last_60_min"] == "unknown"
    assert summary["attention"] == []


def test_dead_letters_configuration_errors_and_old_messages_each_ask_for_attention() -> None:
    summary = summarise(
        readings(
            queue=QueueDepth(visible=40, in_flight=10, delayed=1),
            dlq=QueueDepth(visible=2, in_flight=1),
            oldest_message_age_seconds=float(OLD_MESSAGE_SECONDS + 120),
            configuration_errors=4.0,
        )
    )
    attention = summary["attention"]
    assert isinstance(attention, list) and len(attention) == 3
    assert "3 message(s) in the dead-letter queue" in attention[0] and "ttrelay dlq inspect" in attention[0]
    assert "4 time(s)" in attention[1] and "access token" in attention[1]
    assert "17 min old" in attention[2]
    assert summary["queue"]["messages"] == 51  # type: ignore[index]


def test_tc_strings_unused_for_want_of_a_vendor_id_ask_for_attention() -> None:
    summary = summarise(readings(tcf_vendor_unconfigured=12.0))

    assert summary["tcf_vendor_unconfigured_last_60_min"] == 12
    (attention,) = summary["attention"]  # type: ignore[misc]
    assert "12 request(s)" in attention and "TikTokVendorId" in attention
    assert summarise(readings(tcf_vendor_unconfigured=0.0))["attention"] == []
    assert summarise(readings())["tcf_vendor_unconfigured_last_60_min"] == "unknown"


def test_a_young_oldest_message_is_normal() -> None:
    summary = summarise(readings(queue=QueueDepth(5, 0), oldest_message_age_seconds=42.7))
    assert summary["queue"]["oldest_message_age_seconds"] == 42  # type: ignore[index]
    assert summary["attention"] == []


# --- readings from SQS and CloudWatch (moto) -------------------------------------------------------------


@pytest.fixture
def aws_mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws._client.cache_clear()  # the CLI's process-wide clients must be made inside the mock
    with mock_aws():
        yield
    aws._client.cache_clear()


def _relay_queues() -> dict[str, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="ttrelay-EventsQueue-X")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="ttrelay-EventsDLQ-X")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{n}")
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=300)  # one in flight
    sqs.send_message(QueueUrl=dlq, MessageBody="parked", MessageAttributes=_reason("code:40001"))
    return {"EventsQueueUrl": queue, "EventsDLQUrl": dlq}


def _reason(reason: str) -> dict[str, Any]:
    return {"reason": {"DataType": "String", "StringValue": reason}}


def _metrics(age_seconds: float, configuration_errors: int, tcf_vendor_unconfigured: int = 0) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    cloudwatch.put_metric_data(  # what SQS publishes for the events queue
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": "ttrelay-EventsQueue-X"}],
                "Value": value,
                "Timestamp": NOW - dt.timedelta(minutes=minutes),
            }
            for value, minutes in ((9999.0, 10), (age_seconds, 1))  # the latest datapoint counts
        ],
    )
    cloudwatch.put_metric_data(  # what the forwarder's Powertools metrics publish on a config error
        Namespace="ttrelay",
        MetricData=[
            {
                "MetricName": "EventsApiConfigurationError",
                "Dimensions": [{"Name": "service", "Value": "ttrelay-forward"}],
                "Value": 1,
                "Timestamp": NOW - dt.timedelta(minutes=minutes),
            }
            for minutes in [5] * configuration_errors + [90]  # the one 90 minutes ago is out of the window
        ],
    )
    cloudwatch.put_metric_data(  # the collector's service-wide count (TcfVendorUnconfigured)
        Namespace="ttrelay",
        MetricData=[
            {
                "MetricName": "TcfVendorUnconfigured",
                "Dimensions": [{"Name": "service", "Value": "ttrelay-collect"}],
                "Value": 1,
                "Timestamp": NOW - dt.timedelta(minutes=minutes),
            }
            for minutes in [3] * tcf_vendor_unconfigured + [90]
        ],
    )


def test_readings_come_from_queue_attributes_and_cloudwatch(aws_mock: None) -> None:
    outputs = _relay_queues()
    _metrics(age_seconds=75.0, configuration_errors=2, tcf_vendor_unconfigured=4)
    status = read_status(
        outputs, boto3.client("sqs", region_name=REGION), boto3.client("cloudwatch", region_name=REGION), NOW
    )
    assert status.queue == QueueDepth(visible=2, in_flight=1, delayed=0)
    assert status.dlq == QueueDepth(visible=1, in_flight=0, delayed=0)
    assert status.oldest_message_age_seconds == 75.0
    assert status.configuration_errors == 2.0
    assert status.tcf_vendor_unconfigured == 4.0


def test_without_datapoints_the_age_is_unknown_and_errors_are_none(aws_mock: None) -> None:
    outputs = _relay_queues()
    status = read_status(
        outputs, boto3.client("sqs", region_name=REGION), boto3.client("cloudwatch", region_name=REGION), NOW
    )
    assert status.oldest_message_age_seconds is None
    assert status.configuration_errors == 0.0  # the metric is only written when an error happens
    assert status.tcf_vendor_unconfigured == 0.0


def test_a_queue_that_cannot_be_read_is_unknown(aws_mock: None) -> None:
    missing = f"https://sqs.{REGION}.amazonaws.com/123456789012/gone"
    status = read_status({"EventsQueueUrl": missing}, boto3.client("sqs", region_name=REGION), None, NOW)
    assert status.queue is None and status.dlq is None
    assert status.oldest_message_age_seconds is None and status.configuration_errors is None
    assert status.tcf_vendor_unconfigured is None


# --- the command -----------------------------------------------------------------------------------------


def _stack_with_outputs(outputs: dict[str, str]) -> None:
    """A CloudFormation stack whose outputs are the relay's queue URLs, as `sam deploy` leaves them."""
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="ttrelay", TemplateBody=json.dumps(template)
    )


def test_status_of_a_deployed_stack(aws_mock: None, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = _relay_queues()
    _stack_with_outputs(outputs)
    _metrics(age_seconds=1200.0, configuration_errors=3)
    assert main(["status", "--stack-name", "ttrelay"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["stack"] == "ttrelay"
    assert printed["outputs"] == outputs
    assert printed["queue"]["messages"] == 3 and printed["queue"]["oldest_message_age_seconds"] == 1200
    assert printed["dlq"]["messages"] == 1
    assert printed["configuration_errors_last_60_min"] == 3
    assert len(printed["attention"]) == 3


def test_status_of_a_missing_stack_exits_2(aws_mock: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--stack-name", "nope"]) == 2
    assert "cannot read stack 'nope'" in capsys.readouterr().err


def test_status_of_the_local_stack_reads_its_moto_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"  # type: ignore[attr-defined]
        for key, value in worker_env(endpoint).items():  # restored after the test: status sets them
            monkeypatch.setenv(key, value)
        aws._client.cache_clear()
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
        queue = sqs.create_queue(QueueName="EventsQueue")["QueueUrl"]
        dlq = sqs.create_queue(QueueName="EventsDLQ")["QueueUrl"]
        sqs.send_message(QueueUrl=dlq, MessageBody="parked")
        state = {
            "moto_endpoint": endpoint,
            "queues": {"EventsQueue": queue, "EventsDLQ": dlq},
            "functions": {"CollectFunction": {"environment": {"API_KEYS_SECRET_ARN": "arn:keys"}}},
        }
        (tmp_path / "state.json").write_text(json.dumps(state))
        assert main(["status", "--state-file", str(tmp_path / "state.json")]) == 0
    finally:
        server.stop()
        aws._client.cache_clear()
    printed = json.loads(capsys.readouterr().out)
    assert printed["stack"] == "local"
    assert printed["queue"]["messages"] == 0 and printed["queue"]["oldest_message_age_seconds"] == 0
    assert printed["dlq"]["messages"] == 1
    assert printed["configuration_errors_last_60_min"] == "unknown"  # no CloudWatch locally


def test_status_without_a_stack_or_a_local_stack_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--state-file", str(tmp_path / "none.json")]) == 2
    assert "no local stack running" in capsys.readouterr().err
