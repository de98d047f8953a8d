"""`ttrelay keys create|list|revoke` against a running `ttrelay dev`, proven by what the collector accepts."""

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from support.paths import ROOT
from support.stack import TTRELAY, wait_for
from ttrelay.local.stack import LOCAL_PIXEL

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
        }
    ]
    assert created["key"] not in json.dumps(listed) and "hash" not in json.dumps(listed)

    assert keys(dev_state_file, "revoke", created["id"]) == {"revoked": created["id"]}
    wait_for(lambda: status_with(base, created["key"]) == 401, timeout=20)


def test_a_key_scoped_to_another_pixel_gets_403(base: str, dev_state_file: Path) -> None:
    created = keys(dev_state_file, "create", "--pixel", OTHER_PIXEL)
    assert isinstance(created, dict)
    wait_for(lambda: status_with(base, created["key"]) == 403, timeout=20)
    keys(dev_state_file, "revoke", created["id"])


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
