"""`ttrelay keys create|list|revoke` against a running `ttrelay dev`, proven by what the collector accepts:
backend API keys, and publishable site keys as a sandboxed page (a Shopify custom pixel) sends them."""

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from support.paths import ROOT
from support.stack import TTRELAY, fake_requests, wait_for
from ttrelay_dev.local.stack import LOCAL_PIXEL, LOCAL_SITE_KEY

pytestmark = pytest.mark.e2e
OTHER_PIXEL = "COTHERPIXEL000000000"


def keys(state_file: Path, *args: str) -> dict | list:
    result = subprocess.run(
        [TTRELAY, "keys", *args, "--state-file", str(state_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def status_with(base: str, key: str) -> int:
    body = {"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead", "event_id": "keys-e2e"}]}
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(f"{base}/events", json=body, headers=headers, timeout=30).status_code


def test_a_created_key_sends_is_listed_without_secrets_and_stops_working_when_revoked(
    base: str, dev_state_file: Path
) -> None:
    created = keys(dev_state_file, "create", "--pixel", LOCAL_PIXEL, "--label", "orders backend")
    assert isinstance(created, dict) and created["key"].startswith("ttr_")
    # The collector reads keys through its secret cache (1 s locally, 5 min deployed).
    wait_for(lambda: status_with(base, created["key"]) == 202, timeout=20)

    listed = keys(dev_state_file, "list")
    assert isinstance(listed, list)
    mine = [entry for entry in listed if entry["id"] == created["id"]]
    assert mine == [
        {
            "id": created["id"],
            "pixels": [LOCAL_PIXEL],
            "label": "orders backend",
            "created_at": mine[0]["created_at"],
            "kind": "backend",
        }
    ]
    assert created["key"] not in json.dumps(listed) and "hash" not in json.dumps(listed)

    assert keys(dev_state_file, "revoke", created["id"]) == {"revoked": created["id"]}
    wait_for(lambda: status_with(base, created["key"]) == 401, timeout=20)


def test_a_key_for_a_pixel_the_stack_does_not_serve_is_refused_and_the_403_says_why(
    base: str, dev_state_file: Path
) -> None:
    before = keys(dev_state_file, "list")
    result = subprocess.run(
        [TTRELAY, "keys", "create", "--pixel", OTHER_PIXEL, "--state-file", str(dev_state_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert f"does not serve pixel {OTHER_PIXEL} (it serves {LOCAL_PIXEL})" in result.stderr
    assert keys(dev_state_file, "list") == before  # nothing was stored
    # What a key would have got: the collector's 403 says why, without telling scope from service.
    body = {"pixel_code": OTHER_PIXEL, "events": [{"event": "Lead", "event_id": "keys-e2e-unserved"}]}
    response = httpx.post(
        f"{base}/events", json=body, headers={"authorization": "Bearer ttrelay-local-dev-key"}
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "pixel_not_allowed",
        "errors": [
            {
                "loc": "pixel_code",
                "msg": "this pixel is not one the relay serves (PixelCodes), or not one of this API key's "
                "pixels (ttrelay keys list)",
            }
        ],
    }


def test_revoking_an_unknown_key_is_an_error(dev_state_file: Path) -> None:
    result = subprocess.run(
        [TTRELAY, "keys", "revoke", "k-nope", "--state-file", str(dev_state_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "k-nope" in result.stderr


# --- publishable site keys ------------------------------------------------------------------------------

SANDBOX_UA = "Mozilla/5.0 (a custom pixel's sandbox)"


def sandboxed_post(base: str, body: dict, query: str = "") -> httpx.Response:
    """What a Shopify custom pixel sends: Origin null, text/plain (no preflight), no cookies."""
    headers = {"origin": "null", "content-type": "text/plain;charset=UTF-8", "user-agent": SANDBOX_UA}
    return httpx.post(f"{base}/events{query}", content=json.dumps(body), headers=headers, timeout=30)


def site_key_status(base: str, key: str, page_url: str = "https://shop.example.com/thanks") -> int:
    body = {
        "site_key": key,
        "consent": {"cmp": {"marketing": True}},
        "context": {"page_url": page_url},
        "events": [{"event": "Lead", "event_id": "keys-e2e-site"}],
    }
    return sandboxed_post(base, body).status_code


def test_the_local_site_key_admits_a_sandboxed_page_whose_ip_and_agent_reach_tiktok(base: str) -> None:
    body = {
        "consent": {"cmp": {"marketing": True}},
        # A page cannot set the visitor's ip or user agent: these are ignored, the request's are sent.
        "context": {
            "page_url": "https://any-shop.example/thanks",
            "ip": "203.0.113.9",
            "user_agent": "Forged/1",
        },
        "events": [{"event": "Purchase", "event_id": "keys-e2e-sandboxed-1"}],
    }
    response = sandboxed_post(base, body, query=f"?site_key={LOCAL_SITE_KEY}")
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1 and response.json()["token"]
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers and "set-cookie" not in response.headers

    def delivered() -> dict | None:
        events = [e for r in fake_requests(base) for e in r["body"].get("data", [])]
        return next((e for e in events if e["event_id"] == "keys-e2e-sandboxed-1"), None)

    event = wait_for(delivered, timeout=60)
    assert (event["user"]["ip"], event["user"]["user_agent"]) == ("127.0.0.1", SANDBOX_UA)


def test_a_created_site_key_is_scoped_to_its_hosts_listed_and_stops_working_when_revoked(
    base: str, dev_state_file: Path
) -> None:
    created = keys(
        dev_state_file, "create", "--publishable", "--pixel", LOCAL_PIXEL, "--host", "shop.example.com"
    )
    assert isinstance(created, dict) and created["key"].startswith("ttrelay_pk_")
    wait_for(lambda: site_key_status(base, created["key"]) == 202, timeout=20)
    assert site_key_status(base, created["key"], page_url="https://elsewhere.example/") == 403

    listed = keys(dev_state_file, "list")
    assert isinstance(listed, list)
    (mine,) = [entry for entry in listed if entry["id"] == created["id"]]
    assert (mine["kind"], mine["pixels"], mine["hosts"], mine["rate_limit"]) == (
        "publishable",
        [LOCAL_PIXEL],
        ["shop.example.com"],
        100,
    )
    assert created["key"] not in json.dumps(listed) and "hash" not in json.dumps(listed)

    keys(dev_state_file, "revoke", created["id"])
    wait_for(lambda: site_key_status(base, created["key"]) == 401, timeout=20)
    # The local stack's own site key is untouched.
    assert site_key_status(base, LOCAL_SITE_KEY) == 202


def test_a_site_key_over_its_rate_limit_gets_429_with_retry_after(base: str, dev_state_file: Path) -> None:
    created = keys(dev_state_file, "create", "--publishable", "--pixel", LOCAL_PIXEL, "--rate-limit", "1")
    assert isinstance(created, dict)
    wait_for(lambda: site_key_status(base, created["key"]) in (202, 429), timeout=20)
    # One request per second per collector instance: a quick burst meets the limit in every worker.
    answers = [sandboxed_post(base, {"site_key": created["key"], "events": []}) for _ in range(8)]
    throttled = [answer for answer in answers if answer.status_code == 429]
    assert throttled, [answer.status_code for answer in answers]
    assert throttled[0].json()["error"] == "throttled" and throttled[0].headers["retry-after"] == "1"
    keys(dev_state_file, "revoke", created["id"])
