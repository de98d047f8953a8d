"""Which relay an operator command acts on: a deployed stack's outputs, or the running local stack.

`ttrelay dlq`, `keys` and `status` share this, so "--stack-name, else the local stack" means the same in
each of them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def deployed_outputs(stack_name: str) -> dict[str, str]:
    """The stack's CloudFormation outputs (queue URLs, secret ARNs), read with your AWS credentials."""
    from botocore.exceptions import BotoCoreError, ClientError
    from ttrelay.adapters.aws import stack_outputs

    try:
        return stack_outputs(stack_name)
    except (ClientError, BotoCoreError) as error:  # no such stack, no credentials, no region
        raise LookupError(f"cannot read stack {stack_name!r}: {error}") from error


def local_outputs(state_file: Path) -> dict[str, str]:
    """The running local stack (`make dev`) in the shape of a deployed stack's outputs.

    Points boto3 at the local stack's moto server (environment variables, read by every client made
    after this call), since its queues and secrets live there.
    """
    if not state_file.is_file():
        raise LookupError(
            f"no --stack-name given, and no local stack running ({state_file} not found; make dev)"
        )
    state = json.loads(state_file.read_text())
    from ttrelay_dev.local.stack import worker_env

    os.environ.update(worker_env(state["moto_endpoint"]))
    queues, functions = state["queues"], state["functions"]
    forward = functions.get("ForwardFunction", {})
    return {
        "EventsQueueUrl": queues["EventsQueue"],
        "EventsDLQUrl": queues["EventsDLQ"],
        "ApiKeysSecretArn": functions["CollectFunction"]["environment"].get("API_KEYS_SECRET_ARN", ""),
        "DedupTtlHours": forward.get("environment", {}).get("DEDUP_TTL_HOURS", ""),
    }
