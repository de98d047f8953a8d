"""CollectFunction: POST /events (function URL or HTTP API) → consent → hashing → SQS.

One route and its CORS preflight, so the handler routes them itself (ttrelay.collect.http_answers):
Powertools' event_handler package imports every resolver it has, AppSync's asyncio included, which
cost this function a third of its import time (bench/README.md, "Cold init"). Every metric it writes
goes out as the request is reported (ttrelay.observability.telemetry), so nothing is left to flush.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ttrelay.collect.cors import ALLOWED_METHODS
from ttrelay.collect.http_answers import COLLECT_PATH, CollectAnswers, HttpAnswer
from ttrelay.collect.http_request import HttpRoute, http_request_from, http_route
from ttrelay.collect.rejection import CollectRejected
from ttrelay.collect.use_case import collect
from ttrelay.config import collect_settings
from ttrelay.observability.telemetry import log_invocation, report_collected, report_rejected
from ttrelay.runtime import collect_deps

answers = CollectAnswers.of(collect_settings())


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    log_invocation(context.aws_request_id)
    route = http_route(event)
    return answers.lambda_result(route, answer(route, event))


def answer(route: HttpRoute, event: dict[str, Any]) -> HttpAnswer:
    if route.path != COLLECT_PATH or route.method not in ALLOWED_METHODS:
        return answers.not_served(route)
    if route.method == "OPTIONS":
        return answers.preflight(route)
    try:
        outcome = collect(http_request_from(event, route), collect_deps())
    except CollectRejected as error:  # every refusal, wherever in the use case, is answered here
        report_rejected(error)
        return answers.rejected(route, error)
    report_collected(outcome)
    return answers.accepted(route, outcome)
