"""Which relay an operator command acts on: a deployed stack's outputs, or the running local stack.

`ttrelay dlq`, `keys` and `status` share this, so "--stack-name, else the local stack" means the same in
each of them, and so does the region a deployed stack is looked for in (ttrelay_dev.cli.region).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ttrelay_dev.cli.region import FALLBACKS, use_region


def add_region_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help=f"the stack's AWS region (else, in this order: {FALLBACKS})")


def deployed_outputs(stack_name: str, region: str | None) -> dict[str, str]:
    """The stack's CloudFormation outputs (queue URLs, secret ARNs), read with your AWS credentials."""
    return _read_stack("stack_outputs", stack_name, region)


def deployed_pixels(stack_name: str, region: str | None) -> tuple[str, ...]:
    """The pixel codes the stack serves: its PixelCodes parameter."""
    return _pixels(_read_stack("stack_parameters", stack_name, region).get("PixelCodes", ""))


def local_pixels(state_file: Path) -> tuple[str, ...]:
    """The pixel codes the running local stack serves: its collector's PIXEL_CODES."""
    return _pixels(_collect_environment(_local_state(state_file)).get("PIXEL_CODES", ""))


def local_outputs(state_file: Path) -> dict[str, str]:
    """The running local stack (`make dev`) in the shape of a deployed stack's outputs.

    Points boto3 at the local stack's moto server (environment variables, read by every client made
    after this call), since its queues and secrets live there.
    """
    state = _local_state(state_file)
    from ttrelay_dev.local.stack import worker_env

    os.environ.update(worker_env(state["moto_endpoint"]))
    queues, functions = state["queues"], state["functions"]
    forward = functions.get("ForwardFunction", {})
    return {
        "EventsQueueUrl": queues["EventsQueue"],
        "EventsDLQUrl": queues["EventsDLQ"],
        "ApiKeysSecretArn": _collect_environment(state).get("API_KEYS_SECRET_ARN", ""),
        "DedupTtlHours": forward.get("environment", {}).get("DEDUP_TTL_HOURS", ""),
    }


def _read_stack(reader: str, stack_name: str, region: str | None) -> dict[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError
    from ttrelay.adapters import aws

    used = use_region(region)
    try:
        values: dict[str, str] = getattr(aws, reader)(stack_name)
    except (ClientError, BotoCoreError) as error:  # no such stack, no credentials
        raise LookupError(f"cannot read stack {stack_name!r} in {used}: {error}") from error
    return values


def _local_state(state_file: Path) -> dict[str, Any]:
    if not state_file.is_file():
        raise LookupError(
            f"no --stack-name given, and no local stack running ({state_file} not found; make dev)"
        )
    state: dict[str, Any] = json.loads(state_file.read_text())
    return state


def _collect_environment(state: dict[str, Any]) -> dict[str, str]:
    environment: dict[str, str] = state["functions"]["CollectFunction"]["environment"]
    return environment


def _pixels(csv: str) -> tuple[str, ...]:
    return tuple(code.strip() for code in csv.split(",") if code.strip())
