"""Secrets Manager: the functions read through Powertools parameters (cached per process, refreshed every
5 min); the operator CLI reads and writes uncached."""

from __future__ import annotations

import json
from collections.abc import Mapping

SECRET_MAX_AGE_SECONDS = 300


class SecretFormatError(ValueError):
    """The secret exists but does not hold a JSON object (a deployment error)."""


def json_secret(secret_id: str, max_age: int = SECRET_MAX_AGE_SECONDS) -> Mapping[str, object]:
    from aws_lambda_powertools.utilities import parameters

    return _json_object(secret_id, parameters.get_secret(secret_id, transform="json", max_age=max_age))


def text_secret(secret_id: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_id, max_age=SECRET_MAX_AGE_SECONDS)
    return value if isinstance(value, str) else value.decode()


def read_json_secret_now(secret_id: str) -> dict[str, object]:
    """The secret's current value, bypassing the cache (for read-modify-write by the operator CLI)."""
    import boto3

    text = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    return _json_object(secret_id, json.loads(text))


def put_json_secret(secret_id: str, value: Mapping[str, object]) -> None:
    import boto3

    boto3.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))


def _json_object(secret_id: str, value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise SecretFormatError(f"secret {secret_id.rsplit(':', 1)[-1]} must hold a JSON object")
    return value
