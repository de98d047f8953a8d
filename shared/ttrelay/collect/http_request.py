"""Lambda HTTP events (function URL and HTTP API, payload format 2.0) to what the collector reads.

The event is read as the dict Lambda hands over: the collector needs six of its fields, and reading
them directly costs less than wrapping the event in an object first (the warm path's budget is 0.5 ms).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ttrelay.collect.use_case import HttpRequest
from ttrelay.consent.cmp_cookies import parse_cookie_header

# Behind CloudFront the collector lives under a path such as /_t/events (docs/deploy.md).
FRONT_DOOR_PREFIX: Final = "/_t"
DEFAULT_STAGE: Final = "$default"


@dataclass(frozen=True, slots=True)
class HttpRoute:
    """The method and the collector's own path (stage and front-door prefix taken off), and the headers
    with lower-case names, read once for the route and the request."""

    method: str
    path: str
    headers: Mapping[str, str]

    @property
    def origin(self) -> str | None:
        return self.headers.get("origin")


def http_route(event: Mapping[str, Any]) -> HttpRoute:
    context = event.get("requestContext") or {}
    path = str(event.get("rawPath") or "/")
    stage = context.get("stage") or DEFAULT_STAGE
    if stage != DEFAULT_STAGE and path.startswith(f"/{stage}"):  # an HTTP API's named stage
        path = path[len(stage) + 1 :] or "/"
    if path == FRONT_DOOR_PREFIX:
        path = "/"
    elif path.startswith(f"{FRONT_DOOR_PREFIX}/"):
        path = path[len(FRONT_DOOR_PREFIX) :]
    method = str((context.get("http") or {}).get("method") or "").upper()
    # Header names in lower case (payload 2.0 sends them so; a test event may not).
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    return HttpRoute(method, path, headers)


def http_request_from(event: Mapping[str, Any], route: HttpRoute) -> HttpRequest:
    """The request `route` (http_route of the same event) routed to the collector."""
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    headers = route.headers
    http = (event.get("requestContext") or {}).get("http") or {}
    return HttpRequest(
        body=body,
        headers=headers,
        # Lenient parsing: CMP cookies hold characters a strict cookie parser rejects.
        cookies=parse_cookie_header("; ".join(event.get("cookies") or ())),
        source_ip=http.get("sourceIp") or None,
        user_agent=http.get("userAgent") or headers.get("user-agent"),
        # Repeated parameters arrive comma-joined, so `?site_key=a&site_key=b` is no key at all.
        query=event.get("queryStringParameters") or {},
    )
