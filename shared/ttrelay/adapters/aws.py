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
    outputs = _stack(stack_name).get("Outputs", [])
    return {output["OutputKey"]: output["OutputValue"] for output in outputs}


def stack_parameters(stack_name: str) -> dict[str, str]:
    """A deployed stack's parameter values (PixelCodes...), for the operator CLI."""
    parameters = _stack(stack_name).get("Parameters", [])
    return {item["ParameterKey"]: item.get("ParameterValue", "") for item in parameters}


def _stack(stack_name: str) -> Any:
    import boto3

    return boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]


def cloudwatch() -> Any:
    """CloudWatch metrics, for `ttrelay status` (no type stubs are installed for it)."""
    return _client("cloudwatch")
