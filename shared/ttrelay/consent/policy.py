"""The consent policy document: the packaged default, deployment overrides, and the regime for a location.

An override (a JSON file, or the text of an SSM parameter that an adapter reads) is a policy document
whose top-level keys replace the default's; keys it leaves out keep the default. It must carry its own
`version`, because every consent receipt names the policy version that produced it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ttrelay.consent.iso3166 import ASSIGNED_ALPHA2
from ttrelay.consent.model import Location, Policy, Regime

_DEFAULT_POLICY_FILE = "default_policy.json"


class PolicyError(ValueError):
    """A policy document that cannot be used; the message names the field and the problem."""


@cache
def _default_text() -> str:
    return resources.files("ttrelay.consent").joinpath(_DEFAULT_POLICY_FILE).read_text(encoding="utf-8")


@cache
def default_policy() -> Policy:
    """The packaged DEFAULT POLICY of reference/consent.md section 8."""
    return _validated(json.loads(_default_text()))


def with_vendor(policy: Policy, vendor_id: int | None) -> Policy:
    """The policy with the deployment's TikTok vendor id (TikTokVendorId), when one is configured."""
    return policy if vendor_id is None else policy.model_copy(update={"vendor_id": vendor_id})


def load_policy(path: str | None = None) -> Policy:
    """The default policy, or the default overridden by the JSON document at `path`."""
    if path is None:
        return default_policy()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(f"cannot read the policy file {path}: {error.strerror or error}") from error
    return parse_policy(text)


def parse_policy(text: str) -> Policy:
    """The default policy overridden by a JSON document given as text (e.g. an SSM parameter's value)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyError(f"the policy is not valid JSON ({error.msg} at line {error.lineno})") from error
    if not isinstance(document, dict):
        raise PolicyError("a policy document must be a JSON object")
    if "version" not in document:
        raise PolicyError("a policy override must set its own 'version' (receipts record it)")
    return _validated({**json.loads(_default_text()), **document})


def _validated(document: dict[str, Any]) -> Policy:
    try:
        return Policy.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'policy'}: {problem['msg']}"
            for problem in error.errors(include_url=False, include_input=False)
        )
        raise PolicyError(f"invalid consent policy: {problems}") from error


def regime_for(location: Location, policy: Policy) -> Regime:
    """The regime of reference/consent.md 8: subdivision override, then country list, else the fallbacks."""
    table = policy.regimes
    country = (location.country or "").upper()
    if country not in ASSIGNED_ALPHA2:
        # Missing, user-assigned (XX, ZZ), reserved (EU) or invented (A1, T1) codes: location unknown.
        return table.unknown_location
    if location.subdivision:
        override = table.subdivisions.get(f"{country}-{location.subdivision.upper()}")
        if override is not None:
            return override
    for regime, codes in table.countries.items():
        if country in codes:
            return regime
    return table.other_countries
