"""LogLevel=DEBUG must not put a secret, a token or a queued body into the functions' logs.

Both real handlers run in Lambda-like workers that set up logging as Lambda's runtime does (a handler on
the root logger at the application log level, which the template sets to DEBUG for LogLevel=DEBUG), and
call moto's server and the fake Events API over real HTTP with the real boto3 and httpx. Everything the
functions write is then scanned for every secret value, the access token, the raw identifiers and the
queued message body.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.paths import ROOT
from ttrelay_dev.local.stack import LOCAL_ACCESS_TOKEN, LocalStack, StackOptions

RAW_EMAIL = "Debug.Person@Example.com"
RAW_PHONE = "+1 415-555-0199"
RAW_EXTERNAL_ID = "crm-debug-4711"


@pytest.fixture(scope="module")
def debug_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, Path]]:
    path = tmp_path_factory.mktemp("debug") / "functions.log"
    with path.open("w") as log:
        options = StackOptions(
            root=ROOT, port=0, event_sources=False, log_output=log, parameter_overrides={"LogLevel": "DEBUG"}
        )
        local = LocalStack(options).start()
        try:
            yield local, path
        finally:
            local.stop()


def secret_values(stack: LocalStack) -> list[str]:
    """Every value of every secret the stack holds (JSON secrets: each string value, keys excluded)."""
    client = stack.clients()["secretsmanager"]
    values: list[str] = []
    for secret in client.list_secrets()["SecretList"]:
        text = client.get_secret_value(SecretId=secret["ARN"])["SecretString"]
        try:
            document = json.loads(text)
        except ValueError:
            document = text
        if isinstance(document, dict):
            values += [v for v in _strings(document) if len(v) >= 8 and v != "active_kid"]
        elif isinstance(document, str) and len(document) >= 8:
            values.append(document)
    return values


# A key record's scope and name are not secret: pixel codes and hosts appear in every log line by design.
NOT_SECRET_FIELDS = {"id", "label", "kind", "pixels", "hosts"}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_SECRET_FIELDS:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_debug_logs_hold_no_secret_token_raw_identifier_or_queued_body(
    debug_stack: tuple[LocalStack, Path],
) -> None:
    stack, log_path = debug_stack
    body = {
        "consent": {"cmp": {"marketing": True}},
        "user": {"email": RAW_EMAIL, "phone": RAW_PHONE, "external_id": RAW_EXTERNAL_ID},
        "context": {"page_url": "https://shop.example.com/thanks"},
        "events": [
            {"event": "Purchase", "event_id": "debug-1", "properties": {"value": 3, "currency": "EUR"}}
        ],
    }
    response = httpx.post(
        f"{stack.base_url}/events", json=body, headers={"origin": stack.base_url}, timeout=30
    )
    assert response.status_code == 202, response.text

    sqs = stack.clients()["sqs"]
    assert stack.provisioned is not None
    url = stack.provisioned.queue_urls["EventsQueue"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
            "awsRegion": "us-east-1",
        }
        for m in messages
    ]
    outcome = stack.invoke("ForwardFunction", {"Records": records})
    assert outcome.ok, outcome.error
    assert [r for r in stack.fake.records() if r["accepted"]], "the event was not delivered"

    written = log_path.read_text()
    levels = {json.loads(line).get("level") for line in written.splitlines() if line.startswith("{")}
    assert "DEBUG" in levels, "the functions did not log at DEBUG: the test would prove nothing"
    forbidden = {
        "the access token": LOCAL_ACCESS_TOKEN,
        "the raw email": RAW_EMAIL,
        "the lower-cased email": RAW_EMAIL.lower(),
        "the raw phone": RAW_PHONE,
        "the raw external id": RAW_EXTERNAL_ID,
        **{f"secret value {i}": value for i, value in enumerate(secret_values(stack))},
        **{f"queued body {i}": record["body"] for i, record in enumerate(records)},
        # A body would show in part too: its claim id is a random token nothing else prints.
        **{f"claim id {i}": json.loads(r["body"])["claim_id"] for i, r in enumerate(records)},
    }
    leaked = [name for name, value in forbidden.items() if value in written]
    assert not leaked, f"found in the DEBUG log: {leaked}"
