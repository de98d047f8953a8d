"""Local stack helpers shared by the integration and end-to-end tests."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from support.paths import ROOT

TTRELAY = str(Path(sys.executable).parent / "ttrelay")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@contextmanager
def dev_process(log_path: Path, *extra_args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`ttrelay dev` as a user runs it, in its own process; yields the base URL once it serves.
    Its state file sits beside the log (`state.json`), not where a developer's `make dev` keeps its own."""
    port = free_port()
    state_file = log_path.parent / "state.json"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [TTRELAY, "dev", "--port", str(port), "--state-file", str(state_file), *extra_args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        base = f"http://127.0.0.1:{port}"
        try:

            def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"ttrelay dev exited:\n{log_path.read_text()[-3000:]}")
                try:
                    return httpx.get(f"{base}/_local/queue", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(ready, timeout=90, interval=0.3)
            yield base
        finally:
            stop_process(process, timeout=20)


def stop_process(process: subprocess.Popen[Any], timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def fake_requests(base: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{base}/_local/tiktok/requests").json()["requests"])


def delivered_event_ids(base: str) -> list[str]:
    return [
        event["event_id"]
        for record in fake_requests(base)
        if _accepted(record)
        for event in record["body"]["data"]
    ]


def delivered_items(base: str, event_id: str) -> list[dict[str, Any]]:
    """Every `data[]` item with this event_id in a request TikTok accepted, in the stack at `base`."""
    return [
        item
        for record in fake_requests(base)
        if _accepted(record)
        for item in record["body"]["data"]
        if item["event_id"] == event_id
    ]


def _accepted(record: dict[str, Any]) -> bool:
    response = record["response"]
    return isinstance(response, dict) and response.get("code") == 0


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())
