"""Raw PII in every free-text spot of a request never shows up anywhere the local stack exposes: the
collector's answers, what the Events API received, the dead-letter queue, the dev log.

Values are unique to this test, and looked for as sent, lower-cased and percent-decoded.
"""

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
import httpx
import pytest
from support.stack import delivered_event_ids, fake_requests, wait_for

pytestmark = pytest.mark.e2e

EMAIL = "Pii.Scan.Person@Example.com"
PATH_EMAIL = "pii.scan.path@example.net"
PARAM_EMAIL = "pii.scan.param@example.org"
PHONE = "+44 20 7946 0321"
FIRST_NAME = "Scanfirstname"
# Issue 14's reproductions: each value in an encoding or a place the scrubber must read through.
PATH_PHONE = "+14155550177"
NBSP_PHONE = "+1\u00a0415\u00a0555\u00a00188"
ENCODED_EMAIL = "pii.scan.encoded@example.com"
BASE64_EMAIL = "pii.scan.base64@example.com"
BASE64 = base64.urlsafe_b64encode(BASE64_EMAIL.encode()).decode().rstrip("=")
NAMES = ["Scancustomer", "Scanrecipient", "Scanfirst", "Scanlast", "Scangiven"]
RAW = [
    EMAIL, PATH_EMAIL, PARAM_EMAIL, PHONE, "442079460321", "7946 0321", FIRST_NAME,
    PATH_PHONE, "14155550177", "4155550188", ENCODED_EMAIL, BASE64_EMAIL, BASE64, *NAMES,
]  # fmt: skip


def post(base: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"origin": base, "authorization": "Bearer ttrelay-local-dev-key"}
    return httpx.post(f"{base}/events", json=body, headers=headers, timeout=30)


def pii_body(*event_ids: str, **extra: Any) -> dict[str, Any]:
    free_text = f"Gift for {EMAIL}, call {PHONE}"
    properties = {
        "value": 10,
        "currency": "EUR",
        "description": free_text,
        "search_string": EMAIL,
        "query": PHONE,
        "contents": [
            {"content_id": "SKU-1", "content_name": free_text, "brand": EMAIL, "content_category": PHONE}
        ],
        "note": f"call {NBSP_PHONE}",
        "landing_url": f"https://shop.example.com/p?e={ENCODED_EMAIL.replace('@', '%40')}&utm_source=tt",
        "forwarded": ENCODED_EMAIL.replace("@", "%2540"),
        "customer_name": NAMES[0],
    }
    context = {
        "page_url": f"https://shop.example.com/u/{PATH_EMAIL}/orders/{PATH_PHONE}/thanks"
        f"?customer_email={PARAM_EMAIL}&billing_phone=%2B442079460321&fname={FIRST_NAME}&ref={BASE64}"
        f"&recipient={NAMES[1]}&first={NAMES[2]}&last={NAMES[3]}&givenname={NAMES[4]}"
        "&order=1001&ttclid=E.C.P.pii",
        "referrer": f"https://shop.example.com/checkout?ref={PARAM_EMAIL.replace('@', '%40')}&step=2",
    }
    events = [{"event": "Purchase", "event_id": event_id, "properties": properties} for event_id in event_ids]
    return {
        "consent": {"cmp": {"marketing": True}},
        "context": context,
        "user": {"email": EMAIL},
        "events": events,
        **extra,
    }


def dlq_messages(state_file: Path) -> list[dict[str, Any]]:
    state = json.loads(state_file.read_text())
    sqs = boto3.client(
        "sqs",
        endpoint_url=state["moto_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    url = state["queues"]["EventsDLQ"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", []
    )
    for message in messages:  # leave the DLQ as the other tests expect it: empty
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def assert_no_raw_pii(where: str, text: str) -> None:
    for shown in (text.lower(), unquote(text).lower(), unquote(unquote(text)).lower()):
        for raw in RAW:
            assert raw.lower() not in shown, f"{raw!r} found in {where}"


def test_raw_pii_in_free_text_urls_and_identifiers_is_never_exposed(
    base: str, dev_log: Path, dev_state_file: Path
) -> None:
    httpx.delete(f"{base}/_local/tiktok/requests")
    httpx.post(f"{base}/_local/tiktok/faults", json={"permanent_event_ids": ["pii-scan-bad"]})
    try:
        accepted = post(base, pii_body("pii-scan-good", "pii-scan-bad"))
        assert accepted.status_code == 202, accepted.text
        # Refused requests carrying the same values: an over-long field and an event far in the future.
        too_long = post(base, pii_body("pii-scan-x", user={"email": EMAIL + "x" * 300}))
        future = post(
            base, pii_body("pii-scan-y") | {"events": [{"event": "Lead", "event_time": 4_000_000_000}]}
        )
        # Raw addresses where only shapes are allowed: an envelope field is a 400, an event_id a rejection.
        in_envelope = [
            post(base, pii_body("pii-scan-z", **extra))
            for extra in (
                {"user": {"email": EMAIL, "city": EMAIL}},
                {"context": {"ttclid": EMAIL}},
                {"context": {"ttp": EMAIL}},
                {"context": {"locale": EMAIL}},
            )
        ]
        as_event_id = post(base, pii_body("pii-scan-id-ok", EMAIL))
        assert (too_long.status_code, future.status_code) == (400, 400)
        assert [answer.status_code for answer in in_envelope] == [400] * 4
        assert as_event_id.status_code == 202 and as_event_id.json()["rejected"][0]["index"] == 1
        wait_for(lambda: "pii-scan-good" in delivered_event_ids(base), timeout=60)
        wait_for(lambda: httpx.get(f"{base}/_local/queue").json()["dlq"] == 1, timeout=60)
        parked = dlq_messages(dev_state_file)
    finally:
        httpx.post(f"{base}/_local/tiktok/faults", json={})

    delivered = [r for r in fake_requests(base) if "pii-scan" in json.dumps(r["body"])]
    assert delivered and any("pii-scan-bad" in json.dumps(m["Body"]) for m in parked)
    event = next(e for r in delivered for e in r["body"]["data"] if e["event_id"] == "pii-scan-good")
    assert event["page"]["url"] == (
        "https://shop.example.com/u/redacted/orders/redacted/thanks?order=1001&ttclid=E.C.P.pii"
    )
    assert event["properties"]["description"] == "Gift for [redacted] call [redacted]"
    assert event["properties"]["landing_url"] == "https://shop.example.com/p?utm_source=tt"
    assert "customer_name" not in event["properties"]

    assert dev_log.stat().st_size > 0  # the stack's own output and the functions' log lines are there
    for where, text in [
        (
            "the collector's answers",
            accepted.text
            + too_long.text
            + future.text
            + as_event_id.text
            + "".join(answer.text for answer in in_envelope)
            + json.dumps(dict(accepted.headers)),
        ),
        ("the Events API's requests", json.dumps(delivered)),
        ("the dead-letter queue", json.dumps(parked)),
        ("the queue state", httpx.get(f"{base}/_local/queue").text),
        ("the dev log", dev_log.read_text()),
    ]:
        assert_no_raw_pii(where, text)
