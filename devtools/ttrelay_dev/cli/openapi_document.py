"""The OpenAPI 3.1 document of POST /events, generated from the pydantic models (docs/openapi.json).

Generated, never hand-edited: the request schema is `CollectRequest`'s and the responses are the models the
collector builds its bodies with (ttrelay.collect.responses), so the document cannot drift from the code
without tests/integration/test_openapi.py noticing.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import models_json_schema
from ttrelay import __version__
from ttrelay.collect.responses import CollectAccepted, CollectError
from ttrelay.config import CollectSettings
from ttrelay.models import MAX_QUEUED_MESSAGE_BYTES, CollectRequest

# OpenAPI keeps shared schemas under components/schemas; pydantic's $defs are moved there.
REF_TEMPLATE = "#/components/schemas/{model}"
API_KEY_SCHEME = "backendApiKey"
SITE_KEY_SCHEME = "siteKey"
# sendBeacon cannot send application/json cross-origin without a preflight, so text/plain carries JSON too.
REQUEST_MEDIA_TYPES = ("application/json", "text/plain")

_MAX_BODY_BYTES = CollectSettings.model_fields["max_body_bytes"].default
ERROR_STATUSES = {
    "400": "Invalid JSON, or no usable event (`invalid_json`, `invalid_request`), or a query and body "
    "`site_key` that differ (`site_key_mismatch`).",
    "401": "No `Origin` and no valid API key (`api_key_required`, `invalid_api_key`), or a site key that is "
    "unknown or revoked (`invalid_site_key`).",
    "403": "Origin not in AllowedOrigins (a sandboxed page's Origin `null` without a site key too), pixel "
    "not allowed, or a page host outside the site key's hosts (`origin_not_allowed`, `pixel_not_allowed`, "
    "`host_not_allowed`).",
    "413": f"Body larger than MaxBodyBytes ({_MAX_BODY_BYTES} bytes by default) (`body_too_large`), or "
    f"accepted events that would make a queued message over {MAX_QUEUED_MESSAGE_BYTES} bytes, what SQS "
    "takes with room for delivery attributes (`message_too_large`): send fewer events per request.",
    "415": "Content-Type is neither application/json nor text/plain (`unsupported_media_type`).",
}


# Two kinds of 429: a site key over its rate limit (the collector's error model, with Retry-After), or
# throttling before ttrelay runs (Lambda reserved concurrency, API Gateway limits), whose body is the
# platform's, e.g. {"message": "Too Many Requests"}.
def _throttled(error_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": "A site key over its rate limit (`throttled`, with Retry-After), or throttled by "
        "Lambda or API Gateway before the collector runs (the platform's body, not the error model); retry "
        "later with backoff.",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait (site key rate limit)",
                "schema": {"type": "integer"},
            }
        },
        "content": {"application/json": {"schema": {"anyOf": [error_schema, {"type": "object"}]}}},
    }


_BEARER_CHALLENGE = {
    "WWW-Authenticate": {"description": 'Bearer realm="ttrelay"', "schema": {"type": "string"}}
}


def openapi_document() -> dict[str, Any]:
    refs, definitions = models_json_schema(
        [(CollectRequest, "validation"), (CollectAccepted, "serialization"), (CollectError, "serialization")],
        ref_template=REF_TEMPLATE,
    )
    request_schema = refs[(CollectRequest, "validation")]
    accepted_schema = refs[(CollectAccepted, "serialization")]
    error_schema = refs[(CollectError, "serialization")]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ttrelay collector",
            "version": __version__,
            "description": "Website conversion events in; consent decided, PII hashed, queued for TikTok's "
            "Events API 2.0. Generated from ttrelay's models by `ttrelay openapi`.",
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "the local stack (`ttrelay dev`)"}],
        "paths": {"/events": {"post": _collect_operation(request_schema, accepted_schema, error_schema)}},
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                API_KEY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A backend's API key (stored hashed, scoped to pixels, rotatable). "
                    "Only requests without `Origin` need it; browsers are admitted by their Origin. "
                    "Only a keyed backend may set the visitor's `context.ip` and `context.user_agent`.",
                },
                SITE_KEY_SCHEME: {
                    "type": "apiKey",
                    "in": "query",
                    "name": "site_key",
                    "description": "A publishable site key (public, scoped to pixels and optionally page "
                    "hosts, rate-limited) for a sandboxed page whose Origin is `null` or absent, e.g. a "
                    "Shopify custom pixel; it may be sent as the body's `site_key` instead. It admits the "
                    "request as a browser (IP and user agent from the request) and never overrides a "
                    "foreign Origin. Answers to Origin `null` carry `Access-Control-Allow-Origin: *` and no "
                    "cookie; the click-id token is in the body.",
                },
            },
        },
    }


def _collect_operation(
    request_schema: dict[str, Any], accepted_schema: dict[str, Any], error_schema: dict[str, Any]
) -> dict[str, Any]:
    return {
        "operationId": "collectEvents",
        "summary": "Collect website conversion events",
        "parameters": [
            {
                "name": "Origin",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "Sent by browsers; must be one of AllowedOrigins (else 403), or `null` "
                "from a sandboxed page with a site key. A request without it is a backend's and needs the "
                "API key, unless it carries a site key.",
            }
        ],
        # An empty requirement: a browser request is admitted by Origin alone.
        "security": [{API_KEY_SCHEME: []}, {SITE_KEY_SCHEME: []}, {}],
        "requestBody": {
            "required": True,
            "content": {media_type: {"schema": request_schema} for media_type in REQUEST_MEDIA_TYPES},
        },
        "responses": {
            "202": {
                "description": "Judged: accepted events are queued whole, the others dropped or rejected.",
                "headers": {
                    "Set-Cookie": {
                        "description": "The signed click-id cookie, when consent allows storage.",
                        "schema": {"type": "string"},
                    }
                },
                "content": {"application/json": {"schema": accepted_schema}},
            },
            **{
                status: {
                    "description": description,
                    "content": {"application/json": {"schema": error_schema}},
                    **({"headers": _BEARER_CHALLENGE} if status == "401" else {}),
                }
                for status, description in ERROR_STATUSES.items()
            },
            "429": _throttled(error_schema),
        },
    }


def render(document: dict[str, Any]) -> str:
    """Stable text (sorted keys, 2-space indent, trailing newline), so a regenerated file diffs cleanly."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
