"""Lambda HTTP events (function URL and HTTP API, payload 2.0) to the collector's `HttpRequest`."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from ttrelay.collect.use_case import HttpRequest
from ttrelay.consent.cmp_cookies import parse_cookie_header

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


def http_request_from(event: APIGatewayProxyEventV2) -> HttpRequest:
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    # The event's own dict: Powertools' `event.headers` builds a case-insensitive copy on every access.
    headers = {name.lower(): value for name, value in (event.raw_event.get("headers") or {}).items()}
    http = event.request_context.http
    return HttpRequest(
        body=body,
        headers=headers,
        # Lenient parsing: CMP cookies hold characters a strict cookie parser rejects.
        cookies=parse_cookie_header("; ".join(event.cookies or [])),
        source_ip=http.source_ip or None,
        user_agent=http.user_agent or headers.get("user-agent"),
        # Repeated parameters arrive comma-joined, so `?site_key=a&site_key=b` is no key at all.
        query=event.query_string_parameters or {},
    )
