"""The README's promises about methods on `make dev`, checked with curl as a user would type it."""

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.e2e


def curl(*args: str) -> tuple[str, dict[str, str], str]:
    """Status line, headers (lower-case names) and body of `curl -s -i ARGS`."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    result = subprocess.run(
        ["curl", "-s", "-i", *args], capture_output=True, text=True, timeout=30, check=True
    )
    head, _, body = result.stdout.replace("\r\n", "\n").partition("\n\n")
    status, *lines = head.splitlines()
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)
    }
    return status, headers, body


def test_curl_head_on_the_demo_answers_200_with_headers_and_no_body(base: str) -> None:
    status, headers, body = curl("-I", f"{base}/demo/")
    assert status.startswith("HTTP/1.1 200 ")
    assert headers["content-type"] == "text/html"
    assert int(headers["content-length"]) > 0
    assert body == ""


def test_curl_get_on_the_collector_answers_405_allowing_post_and_options(base: str) -> None:
    status, headers, body = curl(f"{base}/events")
    assert status.startswith("HTTP/1.1 405 ")
    assert headers["allow"] == "POST, OPTIONS"
    assert body == '{"error": "method_not_allowed"}'
