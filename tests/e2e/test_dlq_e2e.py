"""The dead-letter runbook on the local stack: a permanent failure is parked with TikTok's reason,
`ttrelay dlq inspect` reports it without personal data, `ttrelay dlq redrive` delivers it once fixed."""

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from support.stack import TTRELAY, delivered_event_ids, wait_for

pytestmark = pytest.mark.e2e


def dlq(state_file: Path, *args: str) -> dict:
    result = subprocess.run(
        [TTRELAY, "dlq", *args, "--state-file", str(state_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_a_permanently_rejected_event_is_parked_inspected_and_redriven(
    base: str, dev_state_file: Path
) -> None:
    httpx.post(f"{base}/_local/tiktok/faults", json={"permanent_event_ids": ["dlq-bad-1"]})
    body = {
        "consent": {"cmp": {"marketing": True}},
        "user": {"email": "Private.Person@example.com"},
        "events": [
            {"event": "Purchase", "event_id": "dlq-bad-1"},
            {"event": "Lead", "event_id": "dlq-good-1"},
        ],
    }
    assert httpx.post(f"{base}/events", json=body, headers={"origin": base}).status_code == 202
    wait_for(lambda: httpx.get(f"{base}/_local/queue").json()["dlq"] == 1, timeout=60)
    assert "dlq-good-1" in delivered_event_ids(base)  # the good event of the same request was not held back

    summary = dlq(dev_state_file, "inspect")
    assert summary["messages"] == 1 and summary["events"] == 1
    assert summary["by_reason"] == {"code:40002": 1}
    assert summary["by_event_name"] == {"Purchase": 1}
    # The shop sees which order is parked, by its id.
    (parked,) = summary["parked"]
    assert parked["events"] == [{"event_id": "dlq-bad-1", "event": "Purchase"}]
    assert "private.person" not in json.dumps(summary).lower()
    assert httpx.get(f"{base}/_local/queue").json()["dlq"] == 1  # inspecting leaves the messages there

    httpx.post(f"{base}/_local/tiktok/faults", json={})
    assert dlq(dev_state_file, "redrive") == {"redriven": 1, "left_older_than_dedup_memory": 0}
    wait_for(lambda: "dlq-bad-1" in delivered_event_ids(base), timeout=60)
    assert delivered_event_ids(base).count("dlq-bad-1") == 1
    assert delivered_event_ids(base).count("dlq-good-1") == 1
    wait_for(lambda: httpx.get(f"{base}/_local/queue").json() == {"visible": 0, "in_flight": 0, "dlq": 0})
