"""The consent domain's values: signals in, where the visitor is, the policy, the decision and its receipt.

Field meanings follow reference/consent.md section 8. Everything is frozen: a decision is computed once per
request and then only read (response body, queued message, log line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from ttrelay.consent.iso3166 import ASSIGNED_ALPHA2
from ttrelay.consent.signal_values import SignalName, set_aside_malformed

Regime = Literal["opt_in", "opt_out", "notice"]
Action = Literal["forward", "limited", "drop"]
ConsentModeValue = Literal["granted", "denied"]
LocationSource = Literal["cloudfront", "cloudfront_unverified", "ip", "none"]
# The reason a TC string that meets every other condition gives when no vendor id is configured: it can
# refuse but never grant (reference/consent.md 1.9, 8). Receipts list it even when another signal grants.
TCF_VENDOR_UNCONFIGURED = "tcf_vendor_unconfigured"

# ISO 3166-2 subdivision suffixes are one to three letters or digits (`QC`, `CA`, `75`, `BY`).
_SUBDIVISION_KEY = re.compile(r"^([A-Z]{2})-([A-Z0-9]{1,3})$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConsentSignals(_Frozen):
    """The consent signals of one request, as sent; nothing here is decoded yet.

    A signal sent with a value of the wrong type is not kept: it is named in `malformed`, which the
    policy counts as a refusal (ttrelay.consent.signal_values). The strict types below are a backstop.
    """

    tcf: StrictStr | None = None
    gpp: StrictStr | None = None
    gpp_sid: tuple[StrictInt, ...] = ()
    usp: StrictStr | None = None
    gpc: StrictBool = False
    gcm: dict[str, ConsentModeValue] | None = None
    cmp: dict[str, StrictBool] | None = None
    malformed: tuple[SignalName, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _set_aside_malformed(cls, data: object) -> object:
        if not isinstance(data, Mapping):
            return data
        kept = set_aside_malformed(data)
        # JSON null means "not sent" for every signal.
        return {name: value for name, value in kept.items() if value is not None}

    @field_validator("tcf", "gpp", "usp", mode="before")
    @classmethod
    def _blank_means_absent(cls, value: object) -> object:
        # `__tcfapi` hands out tcString "" where GDPR does not apply; a page forwarding it has sent no
        # string, not a malformed one. Anything non-blank is kept verbatim for strict decoding.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("cmp", mode="before")
    @classmethod
    def _normalise_categories(cls, value: object) -> object:
        """Category names compare case-insensitively; if two spellings disagree, refusal wins."""
        if not isinstance(value, dict):
            return value
        merged: dict[str, object] = {}
        for key, granted in value.items():
            name = str(key).strip().lower()
            merged[name] = granted if name not in merged else (merged[name] is True and granted is True)
        return merged


class Location(_Frozen):
    """Where the visitor is and how we know; `country` upper case, `subdivision` the ISO 3166-2 suffix."""

    country: str | None = None
    subdivision: str | None = None
    source: LocationSource = "none"

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        normalised = dict(data)
        country = _upper_or_none(normalised.get("country"))
        subdivision = _upper_or_none(normalised.get("subdivision"))
        # Accept a full ISO 3166-2 code (`CA-QC`) as well as the suffix CloudFront sends (`QC`).
        if (
            isinstance(country, str)
            and isinstance(subdivision, str)
            and subdivision.startswith(f"{country}-")
        ):
            subdivision = subdivision[len(country) + 1 :] or None
        normalised["country"], normalised["subdivision"] = country, subdivision
        return normalised


def _upper_or_none(value: object) -> object:
    if isinstance(value, str):
        return value.strip().upper() or None
    return value


class ConsentDecision(_Frozen):
    """What to do with the request's events; `limited_data_use` is true exactly when `action` is limited."""

    action: Action
    regime: Regime
    reason: str
    limited_data_use: bool

    @model_validator(mode="after")
    def _limited_flag_matches_action(self) -> ConsentDecision:
        if self.limited_data_use != (self.action == "limited"):
            raise ValueError("limited_data_use must be true exactly when action is 'limited'")
        return self


class ConsentReceipt(_Frozen):
    """An audit record of one decision: which policy, which signals, what came out. No raw strings, no PII."""

    policy_version: str
    decided_at: int
    regime: Regime
    action: Action
    reason: str
    limited_data_use: bool
    signals_present: tuple[SignalName, ...]
    # Which source said what: the request (body and Sec-GPC) and the CMP's cookies; both are always read.
    signal_sources: dict[Literal["request", "cookies"], tuple[SignalName, ...]] = Field(default_factory=dict)
    # More than one when an IP-registry location was only allowed to tighten the rules.
    regimes_considered: tuple[Regime, ...] = ()
    tcf_cmp_id: int | None = None
    tcf_policy_version: int | None = None
    gpp_section_ids: tuple[int, ...] = ()
    # Why a signal neither granted nor refused, e.g. `tcf_vendor_unconfigured` even when another grants.
    undecided: tuple[str, ...] = ()
    location: Location


class RegimeTable(_Frozen):
    """Which regime applies where: country lists per regime, then subdivision overrides (`CA-QC`)."""

    countries: dict[Regime, tuple[str, ...]]
    subdivisions: dict[str, Regime] = Field(default_factory=dict)
    other_countries: Regime = "notice"
    unknown_location: Regime = "opt_in"

    @field_validator("countries")
    @classmethod
    def _assigned_codes_listed_once(
        cls, value: dict[Regime, tuple[str, ...]]
    ) -> dict[Regime, tuple[str, ...]]:
        seen: set[str] = set()
        normalised: dict[Regime, tuple[str, ...]] = {}
        for regime, codes in value.items():
            upper = tuple(code.strip().upper() for code in codes)
            for code in upper:
                if code not in ASSIGNED_ALPHA2:
                    raise ValueError(f"{code!r} is not an assigned ISO 3166-1 alpha-2 code (Greece is GR)")
                if code in seen:
                    raise ValueError(f"{code} is listed under more than one regime")
                seen.add(code)
            normalised[regime] = upper
        return normalised

    @field_validator("subdivisions")
    @classmethod
    def _iso_3166_2_keys(cls, value: dict[str, Regime]) -> dict[str, Regime]:
        normalised: dict[str, Regime] = {}
        for key, regime in value.items():
            upper = key.strip().upper()
            match = _SUBDIVISION_KEY.match(upper)
            if match is None or match.group(1) not in ASSIGNED_ALPHA2:
                raise ValueError(f"{key!r} is not an ISO 3166-2 code such as 'CA-QC'")
            normalised[upper] = regime
        return normalised


class Policy(_Frozen):
    """The consent policy document (reference/consent.md 8); `version` goes into every receipt."""

    version: str = Field(min_length=1, max_length=64)
    description: str = ""
    regimes: RegimeTable
    required_purposes: tuple[Annotated[int, Field(ge=1, le=24)], ...] = Field(
        default=(1, 3, 4, 7), min_length=1
    )
    # TikTok's own TCF vendor id is not confirmed (reference/consent.md 1.9): no default, and without one
    # a TC string can refuse but never grant.
    vendor_id: int | None = Field(default=None, ge=1, le=65535)
    tcf_max_age_days: int = Field(default=390, ge=1)
    us_opt_out_action: Literal["limited", "drop"] = "limited"

    @field_validator("required_purposes")
    @classmethod
    def _sorted_unique(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(sorted(set(value)))
