"""SSM Parameter Store reads through Powertools parameters (used for the consent policy override)."""

from __future__ import annotations


def parameter_text(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_parameter(name, max_age=300)
    return value if isinstance(value, str) else str(value)
