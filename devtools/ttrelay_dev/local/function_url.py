"""HTTP request ⇄ Lambda function URL event (payload format 2.0), as the function URL service does it."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
)
URL_ID = "local0ttrelay0collect0url0"


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def function_url_event(
    method: str, path: str, query: str, headers: Iterable[tuple[str, str]], body: bytes, source_ip: str
) -> dict[str, Any]:
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[key] = (
            f"{joined[key]},{value}" if key in joined else value
        )  # repeated headers are comma-joined
    content_type = joined.get("content-type", "")
    is_text = not body or content_type.startswith(_TEXT_TYPES)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": URL_ID,
            "domainName": f"{URL_ID}.lambda-url.us-east-1.on.aws",
            "domainPrefix": URL_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body.decode("utf-8", errors="replace") if is_text else base64.b64encode(body).decode(),
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True))
    return event


def http_reply(result: Any) -> HttpReply:
    """A function URL's translation of a handler result into an HTTP response."""
    if not (isinstance(result, Mapping) and "statusCode" in result):
        # A bare value is returned as a JSON 200, as function URLs do.
        return HttpReply(200, [("content-type", "application/json")], json.dumps(result).encode())
    headers = [(name, str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(value)) for value in values)
    headers.extend(("set-cookie", cookie) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return HttpReply(int(result["statusCode"]), headers, body)


def error_reply(status: int, message: str) -> HttpReply:
    return HttpReply(
        status, [("content-type", "application/json")], json.dumps({"Message": message}).encode()
    )
