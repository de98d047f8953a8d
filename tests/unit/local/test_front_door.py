"""The local front door refuses what CloudFront's origin access control to a Lambda URL refuses:
a POST or PUT through /_t/ whose x-amz-content-sha256 is not its exact body's lower-case hex SHA-256."""

import hashlib
import json

import pytest
from ttrelay_dev.local.front_door import SIGNATURE_MISMATCH, origin_access_refusal

EVENTS = [{"event": "Purchase", "event_id": "o-1", "properties": {"query": "Grüße 日本 💡"}}]
BODY = json.dumps({"events": EVENTS}, ensure_ascii=False).encode()  # UTF-8, as the snippet sends
DIGEST = hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize(
    "claimed",
    [
        None,  # the snippet without payloadHash, or a sendBeacon
        hashlib.sha256(BODY + b" ").hexdigest(),  # another body's hash
        DIGEST.upper(),  # Lambda compares the lower-case hex it computes
        "",
    ],
)
def test_a_post_through_the_front_door_without_its_bodys_hash_gets_lambdas_403(claimed: str | None) -> None:
    # When a POST reaches /_t/events without the right hash
    reply = origin_access_refusal("POST", "/_t/events", claimed, BODY)

    # Then it is refused as Lambda refuses an unmatched signature, before the collector runs
    assert reply is not None
    assert reply.status == 403
    assert json.loads(reply.body) == {"message": SIGNATURE_MISMATCH}
    assert ("x-amzn-errortype", "InvalidSignatureException") in reply.headers


def test_the_right_hash_goes_through_for_post_and_put() -> None:
    assert origin_access_refusal("POST", "/_t/events", DIGEST, BODY) is None
    assert origin_access_refusal("PUT", "/_t/events", DIGEST, BODY) is None
    assert origin_access_refusal("PUT", "/_t/events", None, BODY) is not None


def test_preflights_and_the_open_path_are_not_checked() -> None:
    # The browser's CORS preflight carries no body, and /events stands for the HTTP API back ends use.
    assert origin_access_refusal("OPTIONS", "/_t/events", None, b"") is None
    assert origin_access_refusal("GET", "/_t/events", None, b"") is None
    assert origin_access_refusal("POST", "/events", None, BODY) is None
