"""The AWS region of the operator commands (`status`, `dlq`, `keys` against a deployed stack).

The order is the AWS CLI's: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`; then, as
a convenience for a stack deployed from this repository, samconfig.toml's `region`. boto3 itself reads
only AWS_DEFAULT_REGION and the profile, so the two ends are added here.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

SAMCONFIG = Path("samconfig.toml")
FALLBACKS = "AWS_REGION, AWS_DEFAULT_REGION, the profile's region (aws configure), samconfig.toml's region"
SOURCES = f"--region, {FALLBACKS}"


def resolve_region(option: str | None, samconfig: Path = SAMCONFIG) -> str:
    """The region to use, or LookupError naming every place it can come from."""
    found = option or os.environ.get("AWS_REGION") or _boto3_region() or _samconfig_region(samconfig)
    if not found:
        raise LookupError(f"no AWS region: set one of {SOURCES}")
    return found


def use_region(option: str | None) -> str:
    """Resolve the region and make it the one of every boto3 client this process creates from now on."""
    region = resolve_region(option)
    os.environ["AWS_DEFAULT_REGION"] = region
    return region


def _boto3_region() -> str | None:
    """AWS_DEFAULT_REGION, else the region of the profile (AWS_PROFILE or default) in ~/.aws/config."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        region: str | None = boto3.session.Session().region_name
    except ProfileNotFound as error:  # AWS_PROFILE names a profile ~/.aws/config lacks
        raise LookupError(str(error)) from error
    return region


def _samconfig_region(path: Path) -> str | None:
    """`region` of the config environment `make deploy` used (CONFIG_ENV, default `default`): its deploy
    parameters first, then its global parameters, as `sam deploy` reads them."""
    try:
        config = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    section = config.get(os.environ.get("CONFIG_ENV") or "default", {})
    for command in ("deploy", "global"):
        region = section.get(command, {}).get("parameters", {}).get("region")
        if isinstance(region, str) and region:
            return region
    return None
