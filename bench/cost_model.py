"""Dollars per million events, from this run's measured figures and AWS's published us-east-1 prices.

What is measured here: CPU per request/event of both handlers, Events API requests per event, DynamoDB
write units, item reads and API calls per event (in both dedup modes), and the bytes both handlers write
to stdout. What is not (no AWS from this machine), and is therefore an assumption named below: network
latency of SQS, DynamoDB and the Events API inside Lambda, and Lambda's own START/END/REPORT log lines.
Lambda bills wall time, so those latencies are added to the measured CPU time.

The total is the default dedup mode's (``message``: the forward figures without a mode in their name);
``lease_mode`` is the same model with the ``.lease`` figures, to compare the two.
"""

from __future__ import annotations

import math
from typing import Any

# us-east-1 list prices (public AWS pricing pages as quoted by several pricing guides, read 2026-11-26).
PRICES = {
    "lambda_arm_gb_second": 0.0000133334,
    "lambda_per_million_requests": 0.20,
    "sqs_standard_per_million_requests": 0.40,  # per 64 KB chunk; our messages are far smaller
    "dynamodb_on_demand_per_million_wru": 0.625,  # after the November 2024 price cut
    "dynamodb_on_demand_per_million_rru": 0.125,  # the same cut; a strongly consistent read is one unit
    "http_api_per_million_requests": 1.00,  # only when the HTTP API route is used (function URLs are free)
    "cloudwatch_logs_per_gb_ingested": 0.50,
}
PRICES_DATE = "2026-11-26"

# Assumptions (not measurable here; change them to match your own CloudWatch figures).
ASSUMED = {
    "memory_gb": 0.25,  # template.yaml MemorySize 256 (CPU share ~1/7 vCPU: measured CPU times stretch)
    "cpu_stretch_at_256mb": 1769 / 256,  # Lambda gives a full vCPU at 1,769 MB; less memory, less CPU
    "sqs_send_ms": 10.0,
    "events_api_request_ms": 200.0,
    # One DynamoDB call, sequential: most are batches (25 INSERTs, 25 puts), slower than a single write.
    "dynamodb_call_ms": 10.0,
    # Lambda's START, END and REPORT lines per invocation (~280 bytes, arm64 python3.13): the template's
    # PlatformLogLevel WARN (default) keeps them out of CloudWatch Logs; set 280 here for INFO.
    "platform_log_bytes_per_invocation": 0,
    "events_per_collect_request": 1,  # the worst case: one request per event
    "messages_per_forward_batch": 100,  # ForwardBatchSize default
    "sqs_requests_per_message_consumed": 0.2,  # ReceiveMessage and DeleteMessageBatch, 10 per call
}

DEFAULT_MODE = "forward.dynamodb(moto).100x1"  # the figures of the default dedup mode (message)
LEASE_MODE = "forward.dynamodb(moto).lease.100x1"
FORWARD_LOGS = "forward.memory.100x1.handler.log_bytes_per_batch"  # the handler's stdout per batch


def per_million_events(figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    default = _model(figures, DEFAULT_MODE)
    lease = _model(figures, LEASE_MODE)
    return {
        "usd_per_million_events": default["usd_per_million_events"],
        "usd_per_million_events_with_http_api": default["usd_per_million_events_with_http_api"],
        "dedup_mode": "message",
        "breakdown_usd": default["breakdown_usd"],
        "billed_ms": default["billed_ms"],
        "log_bytes": default["log_bytes"],
        "dynamodb_per_event": default["dynamodb_per_event"],
        "lease_mode": lease,
        "prices": PRICES,
        "prices_date": PRICES_DATE,
        "assumptions": ASSUMED,
    }


def _model(figures: dict[str, dict[str, Any]], forward: str) -> dict[str, Any]:
    def value(key: str) -> float:
        return float(figures[key]["value"])

    a = ASSUMED
    events = 1_000_000
    requests = events / a["events_per_collect_request"]
    batch = a["messages_per_forward_batch"]  # events per forward invocation (messages of one event)
    batches = events / batch
    # Lambda bills duration rounded up to the millisecond.
    collect_ms = math.ceil(
        value("warm_collect.handler.1_event.cpu_per_event.mean") * a["cpu_stretch_at_256mb"]
        + a["sqs_send_ms"]
    )
    calls_per_event = value(f"{forward}.dynamodb_calls_per_event")
    forward_ms = math.ceil(
        value(f"{forward}.cpu_per_event") * batch * a["cpu_stretch_at_256mb"]
        + a["events_api_request_ms"] / value(f"{forward}.events_per_api_request") * batch
        # Sequential calls, as measured: the claims (one BatchExecuteStatement per 25 events, a BatchGetItem
        # only for keys that existed), then a receipt per confirmed request (message) or a BatchWriteItem
        # of delivered marks per 25 events (lease).
        + calls_per_event * batch * a["dynamodb_call_ms"]
    )
    writes = value(f"{forward}.dedup_writes_per_event") * events  # write units (1 KB each)
    reads = value(f"{forward}.dedup_reads_per_event") * events
    collect_log = value("warm_collect.handler.1_event.log_bytes_per_request")
    forward_log = value(FORWARD_LOGS)
    platform_log = a["platform_log_bytes_per_invocation"]
    log_bytes = requests * (collect_log + platform_log) + batches * (forward_log + platform_log)
    lines = {
        "collect_lambda": requests * PRICES["lambda_per_million_requests"] / 1e6
        + requests * collect_ms / 1000 * a["memory_gb"] * PRICES["lambda_arm_gb_second"],
        "forward_lambda": batches * PRICES["lambda_per_million_requests"] / 1e6
        + batches * forward_ms / 1000 * a["memory_gb"] * PRICES["lambda_arm_gb_second"],
        "sqs": (requests + events * a["sqs_requests_per_message_consumed"])
        * PRICES["sqs_standard_per_million_requests"]
        / 1e6,
        "dynamodb": writes * PRICES["dynamodb_on_demand_per_million_wru"] / 1e6
        + reads * PRICES["dynamodb_on_demand_per_million_rru"] / 1e6,
        "cloudwatch_logs": log_bytes / 1e9 * PRICES["cloudwatch_logs_per_gb_ingested"],
    }
    total = sum(lines.values())
    return {
        "forward_figures": forward,
        "usd_per_million_events": round(total, 2),
        "usd_per_million_events_with_http_api": round(
            total + requests * PRICES["http_api_per_million_requests"] / 1e6, 2
        ),
        "breakdown_usd": {name: round(cost, 3) for name, cost in lines.items()},
        "billed_ms": {"collect_per_request": collect_ms, "forward_per_batch": forward_ms},
        "log_bytes": {
            "collect_per_request": {"handler_stdout": collect_log, "platform_assumed": platform_log},
            "forward_per_batch": {"handler_stdout": forward_log, "platform_assumed": platform_log},
        },
        "dynamodb_per_event": {
            "write_units": writes / events,
            "item_reads": reads / events,
            "api_calls": calls_per_event,
        },
    }
