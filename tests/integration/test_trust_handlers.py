"""Crafted requests against the real collect handler (function URL events and HTTP over loopback).

Location spoofing through function-URL events (CloudFront's marks without the origin secret, a wrong
secret, forged viewer headers, US and EU registry addresses) and who may send (origins, API keys).
"""

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.paths import ROOT
from ttrelay_dev.local.stack import (
    LOCAL_API_KEY,
    LOCAL_ORIGIN_SECRET,
    LOCAL_SITE_KEY,
    LocalStack,
    StackOptions,
)

SITE = "https://shop.example.com"
EU_IP, US_IP, EDGE_IP = "81.2.69.160", "8.8.8.8", "52.94.236.248"  # registry: GB, US, US (an AWS block)
CLOUDFRONT_MARKS = {"x-amz-cf-id": "Zk3vQm0C8x1A==", "via": "2.0 0a1b2c3d.cloudfront.net (CloudFront)"}


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("trust") / "functions.log"


@pytest.fixture(scope="module")
def stack(log_path: Path) -> Iterator[LocalStack]:
    with log_path.open("w") as log:
        options = StackOptions(
            root=ROOT,
            port=0,
            event_sources=False,
            log_output=log,
            parameter_overrides={"AllowedOrigins": SITE},
        )
        local = LocalStack(options).start()
        yield local
        local.stop()


def function_url_event(headers: dict[str, str], source_ip: str, body: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(json.loads((ROOT / "events" / "collect-granted.json").read_text()))
    event["headers"] = {"content-type": "application/json", "origin": SITE, "user-agent": "UA/1", **headers}
    event["requestContext"]["http"]["sourceIp"] = source_ip
    event["body"] = json.dumps({"events": [{"event": "Purchase"}], **body})
    return event


def invoke(stack: LocalStack, headers: dict[str, str], source_ip: str, **body: Any) -> dict[str, Any]:
    outcome = stack.invoke("CollectFunction", function_url_event(headers, source_ip, body))
    assert outcome.ok, outcome.error
    result: dict[str, Any] = outcome.result
    return result


def decision(result: dict[str, Any]) -> tuple[int, str, str]:
    body = json.loads(result["body"])
    return result["statusCode"], body["decision"]["action"], body["decision"]["regime"]


@pytest.mark.parametrize(
    ("headers", "source_ip"),
    [
        pytest.param(
            {**CLOUDFRONT_MARKS, "cloudfront-viewer-country": "GB"}, EDGE_IP, id="marks-without-secret"
        ),
        pytest.param(
            {**CLOUDFRONT_MARKS, "cloudfront-viewer-country": "GB", "x-origin-verify": "rotated-away"},
            EDGE_IP,
            id="wrong-secret",
        ),
        pytest.param(
            {"cloudfront-viewer-country": "US", "cloudfront-viewer-country-region": "CA"},
            EU_IP,
            id="forged-viewer",
        ),
        pytest.param({}, US_IP, id="us-registry-ip"),
        pytest.param({}, EU_IP, id="eu-registry-ip"),
    ],
)
def test_no_crafted_location_lets_an_unconsented_event_through(
    stack: LocalStack, headers: dict[str, str], source_ip: str
) -> None:
    result = invoke(stack, headers, source_ip)
    assert decision(result) == (202, "drop", "opt_in")
    assert not result.get("cookies")


def test_the_origin_secret_still_unlocks_cloudfronts_viewer_country(stack: LocalStack) -> None:
    headers = {**CLOUDFRONT_MARKS, "cloudfront-viewer-country": "US", "x-origin-verify": LOCAL_ORIGIN_SECRET}
    assert decision(invoke(stack, headers, EDGE_IP)) == (202, "forward", "opt_out")


def test_failed_origin_verification_is_logged_and_counted_without_values(
    stack: LocalStack, log_path: Path
) -> None:
    headers = {**CLOUDFRONT_MARKS, "cloudfront-viewer-country": "FR", "x-origin-verify": "wrong-value-123"}
    invoke(stack, headers, EDGE_IP)
    log = log_path.read_text()
    assert "origin_verification_failed" in log and "OriginVerificationFailed" in log
    assert "wrong-value-123" not in log and "0a1b2c3d" not in log


def post(stack: LocalStack, headers: dict[str, str], **body: Any) -> httpx.Response:
    payload = {"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead"}], **body}
    return httpx.post(f"{stack.base_url}/events", json=payload, headers=headers, timeout=30)


def test_an_allowed_origin_and_the_local_key_may_send(stack: LocalStack) -> None:
    assert post(stack, {"origin": SITE}).status_code == 202
    assert post(stack, {"authorization": f"Bearer {LOCAL_API_KEY}"}).status_code == 202


def test_a_foreign_origin_is_403_naming_it_and_the_setting(stack: LocalStack) -> None:
    response = post(stack, {"origin": "https://attacker.example"})
    assert response.status_code == 403
    assert response.json()["error"] == "origin_not_allowed"
    assert "https://attacker.example" in response.text and "AllowedOrigins" in response.text


@pytest.mark.parametrize(
    "headers", [{}, {"authorization": "Bearer ttr_guess"}, {"authorization": LOCAL_API_KEY}]
)
def test_without_origin_a_missing_or_wrong_key_is_401(stack: LocalStack, headers: dict[str, str]) -> None:
    response = post(stack, headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] in ("api_key_required", "invalid_api_key")


def test_a_send_beacon_from_another_site_is_refused(stack: LocalStack) -> None:
    # text/plain needs no preflight, so the Origin check is the only thing standing in the way.
    body = json.dumps({"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Purchase"}]})
    headers = {"content-type": "text/plain;charset=UTF-8", "origin": "https://other-shop.example"}
    response = httpx.post(f"{stack.base_url}/events", content=body, headers=headers)
    assert response.status_code == 403


# --- CORS: every answer names Origin in Vary, so no cache hands one origin's answer to another ------


def _varies_on_origin(response: httpx.Response) -> bool:
    return "origin" in [part.strip().lower() for part in response.headers.get("vary", "").split(",")]


@pytest.mark.parametrize("path", ["/events", "/_t/events"])
def test_a_preflight_from_the_site_is_allowed_with_the_payload_hash_header_and_varies_on_origin(
    stack: LocalStack, path: str
) -> None:
    response = httpx.options(
        f"{stack.base_url}{path}",
        headers={
            "origin": SITE,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-amz-content-sha256",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    # The CloudFront front door (OAC) needs the body's SHA-256 in this header on every POST.
    allowed = {name.strip().lower() for name in response.headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "x-amz-content-sha256"} <= allowed
    assert _varies_on_origin(response)


@pytest.mark.parametrize("path", ["/events", "/_t/events"])
def test_accepted_and_refused_answers_vary_on_origin(stack: LocalStack, path: str) -> None:
    def send(headers: dict[str, str], content: str) -> httpx.Response:
        return httpx.post(f"{stack.base_url}{path}", content=content, headers=headers, timeout=30)

    granted = json.dumps({"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead"}]})
    accepted = send({"origin": SITE, "content-type": "text/plain"}, granted)
    assert accepted.status_code == 202
    assert accepted.headers["access-control-allow-origin"] == SITE
    assert _varies_on_origin(accepted)

    # A 4xx from the site carries the CORS headers too, so the snippet can read why.
    malformed = send({"origin": SITE, "content-type": "application/json"}, "{not json")
    assert malformed.status_code == 400
    assert malformed.headers["access-control-allow-origin"] == SITE
    assert _varies_on_origin(malformed)

    foreign = send({"origin": "https://attacker.example", "content-type": "text/plain"}, granted)
    assert foreign.status_code == 403
    assert "access-control-allow-origin" not in foreign.headers
    assert _varies_on_origin(foreign)

    keyless = send({"content-type": "application/json"}, granted)
    assert keyless.status_code == 401
    assert _varies_on_origin(keyless)


# --- a sandboxed page (a Shopify custom pixel) with the local site key ------------------------------


def test_a_sandboxed_page_with_the_site_key_can_read_its_202_and_gets_no_cookie(stack: LocalStack) -> None:
    # What a custom pixel's fetch sends: Origin null, text/plain (no preflight), credentials omitted.
    body = json.dumps(
        {"site_key": LOCAL_SITE_KEY, "consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead"}]}
    )
    headers = {"origin": "null", "content-type": "text/plain;charset=UTF-8"}
    response = httpx.post(f"{stack.base_url}/events", content=body, headers=headers, timeout=30)
    assert response.status_code == 202, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert "set-cookie" not in response.headers
    assert response.json()["token"]  # the click-id token comes back in the body instead
    assert _varies_on_origin(response)


def test_a_sandboxed_page_can_read_why_it_was_refused(stack: LocalStack) -> None:
    headers = {"origin": "null", "content-type": "text/plain"}
    granted = json.dumps({"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead"}]})
    wrong = httpx.post(f"{stack.base_url}/events?site_key=ttrelay_pk_wrong", content=granted, headers=headers)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_site_key")
    assert wrong.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in wrong.headers


def test_the_site_key_never_overrides_a_foreign_origin_over_http(stack: LocalStack) -> None:
    response = post(stack, {"origin": "https://attacker.example"}, site_key=LOCAL_SITE_KEY)
    assert (response.status_code, response.json()["error"]) == (403, "origin_not_allowed")
    assert "access-control-allow-origin" not in response.headers


# --- answers in the collector's shape, and no cookie for a backend ----------------------------------


def test_a_body_too_large_for_lambda_gets_the_collector_s_413_shape(stack: LocalStack) -> None:
    body = b'{"events": [' + b" " * (10 * 1024 * 1024) + b"]}"
    response = httpx.post(
        f"{stack.base_url}/events", content=body, headers={"content-type": "application/json"}, timeout=60
    )
    assert response.status_code == 413
    answer = response.json()
    assert answer["error"] == "body_too_large" and answer["errors"][0]["msg"].startswith(
        "more than 6291456 bytes"
    )


def test_a_backend_gets_no_cookie_and_a_token_only_for_a_click_id(stack: LocalStack) -> None:
    headers = {"authorization": f"Bearer {LOCAL_API_KEY}", "content-type": "application/json"}
    plain = {"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Purchase"}]}
    response = httpx.post(f"{stack.base_url}/events", json=plain, headers=headers, timeout=30)
    assert response.status_code == 202, response.text
    assert "set-cookie" not in response.headers and response.json()["token"] is None
    relayed = {**plain, "context": {"page_url": "https://shop.example.com/?ttclid=E.C.P.backend"}}
    response = httpx.post(f"{stack.base_url}/events", json=relayed, headers=headers, timeout=30)
    assert "set-cookie" not in response.headers and response.json()["token"]
