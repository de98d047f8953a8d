"""Dollars per million events, from this run's measured figures and AWS's published us-east-1 prices.

What is measured here: CPU per request/event of both handlers, Events API requests per event, DynamoDB
item writes and calls per event. What is not (no AWS from this machine), and is therefore an assumption
named below: network latency of SQS, DynamoDB and the Events API inside Lambda, log volume per request.
Lambda bills wall time, so those latencies are added to the measured CPU time.
"""

from __future__ import annotations

from typing import Any

# us-east-1 list prices (public AWS pricing pages as quoted by several pricing guides, read 2026-11-26).
PRICES = {
    "lambda_arm_gb_second": 0.0000133334,
    "lambda_per_million_requests": 0.20,
    "sqs_standard_per_million_requests": 0.40,  # per 64 KB chunk; our messages are far smaller
    "dynamodb_on_demand_per_million_wru": 0.625,  # after the November 2024 price cut
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
    "dynamodb_call_ms": 6.0,
    "parallel_claims": 16,
    "events_per_collect_request": 1,  # the worst case: one request per event
    "messages_per_forward_batch": 100,  # ForwardBatchSize default
    "sqs_requests_per_message_consumed": 0.2,  # ReceiveMessage and DeleteMessageBatch, 10 per call
}


def per_million_events(figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def value(key: str) -> float:
        return float(figures[key]["value"])

    a = ASSUMED
    events = 1_000_000
    requests = events / a["events_per_collect_request"]
    collect_s = (
        value("warm_collect.handler.1_event.cpu_per_event.mean") * a["cpu_stretch_at_256mb"]
        + a["sqs_send_ms"]
    ) / 1000
    batches = events / a["messages_per_forward_batch"]
    claim_wall_ms = a["messages_per_forward_batch"] / a["parallel_claims"] * a["dynamodb_call_ms"]
    forward_s_per_batch = (
        value("forward.dynamodb(moto).100x1.cpu_per_event")
        * a["messages_per_forward_batch"]
        * a["cpu_stretch_at_256mb"]
        + a["events_api_request_ms"]
        / value("forward.dynamodb(moto).100x1.events_per_api_request")
        * a["messages_per_forward_batch"]
        + claim_wall_ms
        + a["dynamodb_call_ms"]
        * a["messages_per_forward_batch"]
        / 25  # delivered marks, 25 per BatchWriteItem
    ) / 1000
    writes = value("forward.dynamodb(moto).100x1.dedup_writes_per_event") * events
    lines = {
        "collect_lambda": requests * PRICES["lambda_per_million_requests"] / 1e6
        + requests * collect_s * a["memory_gb"] * PRICES["lambda_arm_gb_second"],
        "forward_lambda": batches * PRICES["lambda_per_million_requests"] / 1e6
        + batches * forward_s_per_batch * a["memory_gb"] * PRICES["lambda_arm_gb_second"],
        "sqs": (requests + events * a["sqs_requests_per_message_consumed"])
        * PRICES["sqs_standard_per_million_requests"]
        / 1e6,
        "dynamodb": writes * PRICES["dynamodb_on_demand_per_million_wru"] / 1e6,
        "cloudwatch_logs": requests
        * value("warm_collect.handler.1_event.log_bytes_per_request")
        / 1e9
        * PRICES["cloudwatch_logs_per_gb_ingested"],
    }
    total = sum(lines.values())
    return {
        "usd_per_million_events": round(total, 2),
        "usd_per_million_events_with_http_api": round(
            total + requests * PRICES["http_api_per_million_requests"] / 1e6, 2
        ),
        "breakdown_usd": {name: round(cost, 3) for name, cost in lines.items()},
        "billed_seconds": {
            "collect_per_request": round(collect_s, 4),
            "forward_per_batch": round(forward_s_per_batch, 3),
        },
        "prices": PRICES,
        "prices_date": PRICES_DATE,
        "assumptions": ASSUMED,
    }
