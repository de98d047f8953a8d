"""`ttrelay invoke`, the container-free `sam local invoke`: alone, and against a running `ttrelay dev`."""

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from support.paths import ROOT
from support.stack import TTRELAY, wait_for

pytestmark = pytest.mark.e2e


def invoke(*args: str) -> dict:
    result = subprocess.run(
        [TTRELAY, "invoke", *args], cwd=ROOT, capture_output=True, text=True, timeout=180, check=True
    )
    return json.loads(result.stdout)


def test_invoke_without_a_running_stack_uses_a_private_one() -> None:
    result = invoke(
        "CollectFunction", "--event", "events/collect-granted.json", "--state-file", "/nonexistent"
    )
    assert result["statusCode"] == 202
    assert json.loads(result["body"])["decision"]["action"] == "forward"


def test_invoke_prints_the_functions_logs_without_powertools_empty_metrics_warning() -> None:
    result = subprocess.run(
        [TTRELAY, "invoke", "CollectFunction", "--event", "events/collect-granted.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    assert '"message":"collected"' in result.stderr  # the function's own log lines still show
    assert "No application metrics to publish" not in result.stderr
    assert "Warning" not in result.stderr


def test_invoke_uses_the_running_stacks_resources(base: str, dev_state_file: Path) -> None:
    httpx.delete(f"{base}/_local/tiktok/requests")
    result = invoke(
        "ForwardFunction", "--event", "events/forward-batch.json", "--state-file", str(dev_state_file)
    )
    assert result == {"batchItemFailures": []}
    # The running stack's fake Events API received the sample batch.
    received = wait_for(lambda: httpx.get(f"{base}/_local/tiktok/requests").json()["requests"], timeout=30)
    sent = sorted(e["event_id"] for e in received[0]["body"]["data"])
    assert sent == ["sample-atc-5002", "sample-order-5001"]


def test_unknown_function_is_a_clear_error() -> None:
    result = subprocess.run(
        [TTRELAY, "invoke", "NoSuchFunction", "--event", "events/forward-batch.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 2 and "NoSuchFunction" in result.stderr
