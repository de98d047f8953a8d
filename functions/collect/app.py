"""CollectFunction: POST /events (function URL or HTTP API) → consent → hashing → SQS."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.typing import LambdaContext
from ttrelay.collect.cookie import COOKIE_NAME
from ttrelay.collect.http_request import http_request_from
from ttrelay.collect.rejection import CollectRejected
from ttrelay.collect.responses import CollectError
from ttrelay.collect.senders import SANDBOXED_ORIGIN
from ttrelay.collect.use_case import collect
from ttrelay.config import collect_settings
from ttrelay.observability.telemetry import log_invocation, metrics, report_collected, report_rejected
from ttrelay.runtime import collect_deps

settings = collect_settings()
cors = (
    CORSConfig(
        allow_origin=settings.allowed_origins[0],
        extra_origins=list(settings.allowed_origins[1:]),
        # Through the CloudFront front door (OAC) a POST must carry its body's SHA-256 (docs/deploy.md).
        allow_headers=["X-Amz-Content-Sha256"],
        allow_credentials=True,
        max_age=600,
    )
    if settings.allowed_origins
    else None
)
# Behind CloudFront the collector lives under a path such as /_t/events.
app = APIGatewayHttpResolver(cors=cors, strip_prefixes=["/_t"])


@app.post("/events")
def post_events() -> Response[str]:
    outcome = collect(http_request_from(app.current_event), collect_deps())
    report_collected(outcome)
    cookies = [_click_id_cookie(outcome.token)] if outcome.token else []
    if outcome.clear_cookie:
        cookies = [_click_id_cookie("", max_age=0)]
    if outcome.sandboxed or outcome.backend:
        cookies = []  # neither a sandboxed page nor a backend has a cookie jar of ours
    return Response(
        202,
        content_types.APPLICATION_JSON,
        json.dumps(outcome.body()),
        cookies=cookies,
        headers=_readable_by_sandboxed_pages(),
    )


@app.exception_handler(CollectRejected)
def rejected(error: CollectRejected) -> Response[str]:
    report_rejected(error)
    body = CollectError.model_validate({"error": error.error, "errors": error.errors})
    return Response(
        error.status,
        content_types.APPLICATION_JSON,
        body.model_dump_json(exclude_unset=True),
        headers={**error.headers, **_readable_by_sandboxed_pages()},
    )


def _readable_by_sandboxed_pages() -> dict[str, str]:
    """A sandboxed page (Origin `null`, e.g. a Shopify custom pixel) may read the answer to its POST, 4xx
    included: `*`, never with credentials, so no cookie of ours is sent or set that way."""
    if app.current_event.headers.get("origin") == SANDBOXED_ORIGIN:
        return {"Access-Control-Allow-Origin": "*"}
    return {}


def _click_id_cookie(value: str, max_age: int = settings.cookie_max_age_days * 86_400) -> Cookie:
    return Cookie(
        name=COOKIE_NAME,
        value=value,
        path="/",
        domain=settings.cookie_domain or None,
        secure=True,
        http_only=True,
        same_site=SameSite.LAX_MODE,
        max_age=max_age,
    )


def _vary_on_origin(response: dict[str, Any]) -> dict[str, Any]:
    """Every answer depends on the request's Origin (CORS headers, admission), so no cache in between
    may hand one origin's answer to another."""
    headers = response.setdefault("headers", {})
    name = next((key for key in headers if key.lower() == "vary"), "Vary")
    varies = [part.strip() for part in str(headers.get(name, "")).split(",") if part.strip()]
    if "origin" not in {part.lower() for part in varies}:
        headers[name] = ", ".join([*varies, "Origin"])
    return response


@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    log_invocation(context.aws_request_id)
    return _vary_on_origin(app.resolve(event, context))
