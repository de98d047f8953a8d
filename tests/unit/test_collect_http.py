"""The collector's HTTP edge: which route a Lambda event is, CORS, and the answers it gets that the use case
never sees (preflight, 404, 405), in the collector's one error shape."""

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from support.paths import ROOT
from ttrelay.collect.cors import CorsPolicy
from ttrelay.collect.http_answers import CollectAnswers, HttpAnswer
from ttrelay.collect.http_request import HttpRoute, http_request_from, http_route
from ttrelay.collect.rejection import CollectRejected
from ttrelay.config import CollectSettings

SITE = "https://shop.example.com"


def event(
    method: str, path: str, headers: dict[str, str] | None = None, stage: str = "$default", **extra: Any
) -> dict[str, Any]:
    """A function URL / HTTP API event (payload 2.0) as Lambda hands it over."""
    return {
        "version": "2.0",
        "rawPath": path,
        "headers": headers or {},
        "requestContext": {"stage": stage, "http": {"method": method, "sourceIp": "203.0.113.9"}},
        **extra,
    }


def to(method: str, path: str, origin: str | None) -> HttpRoute:
    """A route as http_route reads it, from a request with this Origin (or none)."""
    return HttpRoute(method, path, {} if origin is None else {"origin": origin})


def answers() -> CollectAnswers:
    settings = CollectSettings.model_validate(
        {
            "events_queue_url": "https://sqs.example/q",
            "cookie_keys_secret_arn": "arn:secret",
            "allowed_origins": [SITE, "https://www.shop.example.com"],
        }
    )
    return CollectAnswers.of(settings)


# --- routes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "stage", "served"),
    [
        ("/events", "$default", "/events"),
        ("/_t/events", "$default", "/events"),  # through the CloudFront front door
        ("/_t", "$default", "/"),
        ("/_tevents", "$default", "/_tevents"),  # only a whole path segment is the prefix
        ("/prod/events", "prod", "/events"),  # an HTTP API's named stage
        ("/events/", "$default", "/events/"),
    ],
)
def test_the_route_takes_off_the_stage_and_the_front_door_prefix(path: str, stage: str, served: str) -> None:
    route = http_route(event("post", path, {"Origin": SITE}, stage=stage))
    assert (route.method, route.path, route.origin) == ("POST", served, SITE)


def test_the_request_reads_a_base64_body_lower_cases_header_names_and_joins_cookies() -> None:
    raw = event(
        "POST",
        "/events",
        {"Content-Type": "text/plain", "User-Agent": "ua"},
        body="eyJhIjogMX0=",
        isBase64Encoded=True,
        cookies=["ttrelay=abc", "euconsent-v2=CQ"],
        queryStringParameters={"site_key": "k"},
    )
    request = http_request_from(raw, http_route(raw))
    assert request.body == b'{"a": 1}'
    assert request.headers == {"content-type": "text/plain", "user-agent": "ua"}
    assert request.cookies == {"ttrelay": "abc", "euconsent-v2": "CQ"}
    assert (request.source_ip, request.user_agent, dict(request.query)) == (
        "203.0.113.9",
        "ua",
        {"site_key": "k"},
    )


# --- CORS ------------------------------------------------------------------------------------------


def test_cors_names_only_the_sites_own_origins_exactly_as_sent() -> None:
    cors = CorsPolicy.of([SITE])
    assert cors.headers_for(SITE) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Headers": (
            "Authorization,Content-Type,X-Amz-Content-Sha256,X-Amz-Date,X-Amz-Security-Token,X-Api-Key"
        ),
        "Access-Control-Max-Age": "600",
    }
    for other in ("https://attacker.example", f"{SITE}/", f"{SITE},https://x.example", "null", "*", None):
        assert cors.headers_for(other) == {}


def test_a_preflight_from_the_site_may_post_with_the_payload_hash_and_nobody_else_is_named() -> None:
    collect = answers()
    allowed = collect.lambda_result(route := to("OPTIONS", "/events", SITE), collect.preflight(route))
    assert allowed["statusCode"] == 204 and allowed["body"] == ""
    assert allowed["headers"]["Access-Control-Allow-Origin"] == SITE
    assert allowed["headers"]["Access-Control-Allow-Methods"] == "OPTIONS,POST"
    assert "X-Amz-Content-Sha256" in allowed["headers"]["Access-Control-Allow-Headers"]
    foreign = to("OPTIONS", "/events", "https://attacker.example")
    refused = collect.lambda_result(foreign, collect.preflight(foreign))
    assert "Access-Control-Allow-Origin" not in refused["headers"]
    assert refused["headers"]["Vary"] == "Origin"


def test_a_sandboxed_page_may_read_its_refusal_without_credentials() -> None:
    collect = answers()
    route = to("POST", "/events", "null")
    error = CollectRejected(401, "invalid_site_key", [{"loc": "site_key", "msg": "unknown"}])
    result = collect.lambda_result(route, collect.rejected(route, error))
    assert result["statusCode"] == 401
    assert result["headers"]["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in result["headers"]
    assert json.loads(result["body"]) == {
        "error": "invalid_site_key",
        "errors": [{"loc": "site_key", "msg": "unknown"}],
    }


# --- what the use case never sees ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH"])
def test_another_method_on_events_is_405_allowing_post_and_options(method: str) -> None:
    collect = answers()
    route = to(method, "/events", SITE)
    result = collect.lambda_result(route, collect.not_served(route))
    assert result["statusCode"] == 405
    assert result["headers"]["Allow"] == "OPTIONS, POST"
    assert result["headers"]["Access-Control-Allow-Origin"] == SITE  # so the page can read why
    body = json.loads(result["body"])
    assert body["error"] == "method_not_allowed" and body["errors"][0]["msg"].startswith(method)


@pytest.mark.parametrize("path", ["/", "/events/", "/Events", "/other", "/_t"])
def test_another_path_is_404_in_the_collectors_error_shape(path: str) -> None:
    collect = answers()
    route = to("POST", path, None)
    result = collect.lambda_result(route, collect.not_served(route))
    assert (result["statusCode"], json.loads(result["body"])["error"]) == (404, "not_found")
    assert result["headers"] == {"Content-Type": "application/json", "Vary": "Origin"}


def test_every_answer_varies_on_origin_and_sets_no_cookie_unless_told() -> None:
    collect = answers()
    route = to("POST", "/events", SITE)
    for answer in (
        collect.not_served(route),
        collect.preflight(route),
        collect.rejected(route, CollectRejected(400, "invalid_json")),
        HttpAnswer(202, "{}"),
    ):
        result = collect.lambda_result(route, answer)
        assert result["headers"]["Vary"] == "Origin" and result["cookies"] == []


# --- the handler, as Lambda imports it -------------------------------------------------------------

_HANDLER_SCRIPT = """
import json, sys
import app
heavy = ("asyncio", "aws_lambda_powertools.event_handler", "boto3")
imported = sorted(name for name in heavy if name in sys.modules)
class Context:
    aws_request_id = "test"
results = {}
requests = [("preflight", "OPTIONS", "/_t/events"), ("get", "GET", "/events"), ("other", "POST", "/x")]
for name, method, path in requests:
    event = {"rawPath": path, "headers": {"origin": "https://shop.example.com"},
             "requestContext": {"stage": "$default", "http": {"method": method}}}
    results[name] = app.handler(event, Context())
print("@@" + json.dumps({"imported": imported, "results": results}))
"""


def test_the_collect_handler_answers_without_powertools_event_handler_asyncio_or_boto3_imported() -> None:
    """Cold start: Powertools' event_handler package imports every resolver (AppSync's asyncio too), and
    boto3 is needed only by the first request that queues; importing the handler pays for neither."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / "collect"), str(ROOT / "shared")]),
        "EVENTS_QUEUE_URL": "https://sqs.example/q",
        "COOKIE_KEYS_SECRET_ARN": "arn:secret",
        "ALLOWED_ORIGINS": "https://shop.example.com",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", _HANDLER_SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("@@")]
    report = json.loads(line[2:])
    assert report["imported"] == []
    statuses = {name: result["statusCode"] for name, result in report["results"].items()}
    assert statuses == {"preflight": 204, "get": 405, "other": 404}
