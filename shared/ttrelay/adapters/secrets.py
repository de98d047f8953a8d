"""Secrets Manager reads through Powertools parameters (cached per process, refreshed every 5 min)."""

from __future__ import annotations

from collections.abc import Mapping

SECRET_MAX_AGE_SECONDS = 300


class SecretFormatError(ValueError):
    """The secret exists but does not hold a JSON object (a deployment error)."""


def json_secret(secret_id: str) -> Mapping[str, object]:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    if not isinstance(value, dict):
        raise SecretFormatError(f"secret {secret_id.rsplit(':', 1)[-1]} must hold a JSON object")
    return value


def text_secret(secret_id: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_id, max_age=SECRET_MAX_AGE_SECONDS)
    return value if isinstance(value, str) else value.decode()
