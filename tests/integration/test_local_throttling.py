"""The local front answers 429 once a function's reserved concurrency is in use, as Lambda and API Gateway do.

A real worker process runs a handler that holds its invocation until the test releases it, so the one
reserved slot is provably busy when the second request arrives.
"""

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.stack import wait_for
from ttrelay_dev.local.fake_events_api import FakeEventsApi
from ttrelay_dev.local.http_front import LocalFront
from ttrelay_dev.local.invoker import FunctionRunner
from ttrelay_dev.local.provision import FunctionSpec

HELD_HANDLER = """
import os, pathlib, time

def handler(event, context):
    gate = pathlib.Path(os.environ["GATE_DIR"])
    (gate / "started").touch()
    deadline = time.monotonic() + 30
    while not (gate / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return {"statusCode": 202, "headers": {"content-type": "application/json"}, "body": "{\\"accepted\\": 1}"}
"""


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text(HELD_HANDLER)
    return tmp_path


@pytest.fixture
def events_url(gate: Path) -> Iterator[str]:
    spec = FunctionSpec(
        "CollectFunction",
        gate / "code",
        "app.handler",
        {"GATE_DIR": str(gate)},
        timeout=30,
        memory_mb=128,
        reserved_concurrency=1,
    )
    runner = FunctionRunner(spec, dict(os.environ), concurrency=2)
    front = LocalFront("127.0.0.1", 0, runner, FakeEventsApi(access_tokens=("t",)), dict, gate)
    front.start()
    yield f"http://127.0.0.1:{front.server_address[1]}/events"
    front.stop()
    runner.close()


def test_a_request_beyond_reserved_concurrency_gets_429(gate: Path, events_url: str) -> None:
    # Given one invocation holding the only reserved slot
    first: list[httpx.Response] = []
    holder = threading.Thread(target=lambda: first.append(httpx.post(events_url, content=b"{}", timeout=60)))
    holder.start()
    wait_for((gate / "started").exists, timeout=30, interval=0.05)

    # When a second request arrives
    throttled = httpx.post(events_url, content=b"{}", timeout=10)

    # Then it is refused without running the handler, and the held one still completes
    assert throttled.status_code == 429
    assert throttled.json() == {
        "error": "throttled",
        "message": "CollectFunction is at its reserved concurrency (1)",
        "limit": 1,
    }
    (gate / "release").touch()
    holder.join(timeout=30)
    assert first[0].status_code == 202

    # And once the slot is free, requests are admitted again
    assert httpx.post(events_url, content=b"{}", timeout=30).status_code == 202
