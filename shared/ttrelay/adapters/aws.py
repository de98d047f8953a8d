"""One boto3 client per service per process, created on first use (boto3 is heavy at import)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient


@cache
def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Standard retry mode: throttling and 5xx from AWS are retried with backoff by botocore itself.
    # A pool as wide as the dedup store's parallel claims, so they do not queue for connections.
    config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=16)
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


def stack_outputs(stack_name: str) -> dict[str, str]:
    """A deployed stack's outputs (queue URLs, secret ARNs), for the operator CLI."""
    import boto3

    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


def cloudwatch() -> Any:
    """CloudWatch metrics, for `ttrelay status` (no type stubs are installed for it)."""
    return _client("cloudwatch")
