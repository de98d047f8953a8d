"""The front door's origin access control, as the local stack emulates it (`FrontDoor=cloudfront`).

Deployed, CloudFront signs each request to the AWS_IAM function URL with SigV4, taking the payload hash
from the viewer's `x-amz-content-sha256` header (it does not compute one), and Lambda checks that hash
against the body it received. So a POST or PUT whose header is missing or is not the lower-case hex
SHA-256 of its exact body is refused with 403 before the collector runs. Locally, `/_t/` stands for the
front door; `/events` stays the open way in (the HTTP API that back ends keep using).
"""

from __future__ import annotations

import hashlib
import json

from ttrelay_dev.local.function_url import HttpReply

FRONT_DOOR_PREFIX = "/_t/"
PAYLOAD_HASH_HEADER = "x-amz-content-sha256"
# Lambda does not accept unsigned payloads through origin access control for these methods.
SIGNED_BODY_METHODS = frozenset({"POST", "PUT"})
# What Lambda answers, through CloudFront, when the signed payload hash does not match the body.
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


def origin_access_refusal(method: str, path: str, claimed_hash: str | None, body: bytes) -> HttpReply | None:
    """The 403 a request through the front door gets for a missing or wrong body hash; None if it passes."""
    if not path.startswith(FRONT_DOOR_PREFIX) or method not in SIGNED_BODY_METHODS:
        return None
    if claimed_hash == hashlib.sha256(body).hexdigest():
        return None
    return HttpReply(
        403,
        [
            ("content-type", "application/json"),
            ("x-amzn-errortype", "InvalidSignatureException"),
            ("x-cache", "Error from cloudfront"),
        ],
        json.dumps({"message": SIGNATURE_MISMATCH}).encode(),
    )
