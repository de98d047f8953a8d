"""POST /events fuzzed from the OpenAPI document against a real `ttrelay dev`: no 5xx, only documented
statuses and bodies, and nothing the strict fake Events API refuses ever reaches the queue.

The stack is this module's own (not the session's `base`): other e2e tests count fake requests and expect
an empty DLQ, and fuzzing must not disturb them, nor be disturbed by them.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from support.stack import dev_process, fake_requests, wait_for
from ttrelay_dev.cli.openapi_document import openapi_document
from ttrelay_dev.local.stack import LOCAL_API_KEY, LOCAL_ORIGIN_SECRET, LOCAL_PIXEL

pytestmark = pytest.mark.e2e

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def document_for_this_stack() -> dict[str, Any]:
    """The generated document (the models as they are now), with pixel_code narrowed to the stack's one
    pixel: any other well-formed code is a 403, and fuzzing should mostly reach consent and the queue."""
    document = openapi_document()
    properties = document["components"]["schemas"]["CollectRequest"]["properties"]
    properties["pixel_code"] = {"anyOf": [{"const": LOCAL_PIXEL}, {"type": "null"}]}
    return document


schema = schemathesis.openapi.from_dict(document_for_this_stack())
# The coverage phase also sends other methods to /events: the local front answers each with 405 and
# `Allow: POST, OPTIONS` (TRACE, which http.server does not implement, would get 501).
schema.config.phases.coverage.unexpected_methods = {"get", "put", "delete", "patch"}


@dataclass
class FuzzRun:
    base: str
    dlq_before: int
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # "<media type> <status> <error code>"
    media_types: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzRun]:
    log = tmp_path_factory.mktemp("schemathesis") / "ttrelay-dev.log"
    # Short visibility timeout and batching window so the queue drains within the test.
    with dev_process(
        log, "--visibility-timeout", "3", "--parameter-overrides", "ForwardBatchWindowSeconds=1"
    ) as base:
        yield FuzzRun(base=base, dlq_before=queue_state(base)["dlq"])


def queue_state(base: str) -> dict[str, int]:
    return dict(httpx.get(f"{base}/_local/queue", timeout=10).json())


def sender_headers(base: str, media_type: str | None) -> dict[str, str]:
    """Both kinds of sender: text/plain as a browser's sendBeacon posts it (admitted by Origin), JSON as a
    backend posts it (admitted by its API key, and allowed to set the visitor's IP and user agent)."""
    sender = {"Origin": base} if media_type == "text/plain" else {"Authorization": f"Bearer {LOCAL_API_KEY}"}
    # A US visitor via CloudFront (opt-out regime), so most consented events are forwarded, not dropped.
    return {**sender, "x-origin-verify": LOCAL_ORIGIN_SECRET, "cloudfront-viewer-country": "US"}


@schema.parametrize()
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here reproduces
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_collect_answers_only_as_documented_and_never_with_a_5xx(case: Any, fuzz_run: FuzzRun) -> None:
    headers = sender_headers(fuzz_run.base, case.media_type)
    if "Origin" not in headers and case.headers:
        # The generated Origin would make a backend's request a browser's (and a 403): drop it.
        case.headers = {name: value for name, value in case.headers.items() if name.lower() != "origin"}
    response = case.call_and_validate(base_url=fuzz_run.base, headers=headers, checks=CHECKS, timeout=30)
    fuzz_run.statuses[response.status_code] += 1
    error = response.json().get("error", "") if response.status_code >= 400 else ""
    fuzz_run.outcomes[f"{case.media_type} {response.status_code} {error}"] += 1
    fuzz_run.media_types[case.media_type] += 1


def test_nothing_the_fake_events_api_refuses_was_queued(fuzz_run: FuzzRun) -> None:
    if not fuzz_run.statuses:
        pytest.skip("runs after test_collect_answers_only_as_documented_and_never_with_a_5xx in this module")
    assert {"application/json", "text/plain"} <= set(fuzz_run.media_types), fuzz_run.media_types
    assert fuzz_run.statuses[202] > 0, fuzz_run.statuses
    wait_for(lambda: _drained(queue_state(fuzz_run.base)), timeout=60)

    received = fake_requests(fuzz_run.base)
    delivered = sum(len(r["body"]["data"]) for r in received)
    # Shown with -s or on failure: how much of the pipeline the run exercised.
    print(f"{fuzz_run.statuses.total()} requests {dict(fuzz_run.statuses)}; {dict(fuzz_run.media_types)};")
    print(f"{len(received)} Events API requests carrying {delivered} events; {dict(fuzz_run.outcomes)}")
    refused = [(r["response"], r["body"]) for r in received if not _accepted(r["response"])]
    assert refused == [], f"the fake Events API refused what the collector queued: {refused[:3]}"
    assert received, "no event reached the fake Events API: the run did not exercise forwarding"
    assert queue_state(fuzz_run.base)["dlq"] == fuzz_run.dlq_before


def _accepted(response: object) -> bool:
    return isinstance(response, dict) and response.get("code") == 0


def _drained(state: dict[str, int]) -> bool:
    return state["visible"] == 0 and state["in_flight"] == 0
