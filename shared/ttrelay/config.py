"""Typed settings, read once from the environment (the domain never reads os.environ).

Each field comes from the environment variable of its name, compared case-insensitively (Lambda sets
EVENTS_QUEUE_URL for `events_queue_url`), as pydantic-settings would read it. A plain pydantic model does
the validation: pydantic-settings cost a cold start about as much as boto3 itself, for one dict lookup.
Lists arrive as comma-separated text (the template's CommaDelimitedList parameters).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ttrelay.forward.dedup import DEDUP_TTL_HOURS, MIN_DEDUP_TTL_HOURS, DedupMode
from ttrelay.privacy.person_names import DEFAULT_PERSON_NAME_PARTS

TIKTOK_BASE_URL = "https://business-api.tiktok.com"
_TEST_EVENT_CODE = re.compile(r"[A-Za-z0-9_-]*")  # template.yaml TestEventCode's AllowedPattern


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback  # 127.0.0.0/8 and ::1
    except ValueError:
        return False


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


class CommonSettings(BaseModel):
    """Settings both functions read."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    pixel_codes: tuple[str, ...] = ()

    _csv = field_validator("pixel_codes", mode="before")(_split_csv)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings from the environment (or `environ`): each field from the variable of its name."""
        by_name = {key.lower(): value for key, value in (os.environ if environ is None else environ).items()}
        return cls.model_validate({name: by_name[name] for name in cls.model_fields if name in by_name})


class CollectSettings(CommonSettings):
    events_queue_url: str
    cookie_keys_secret_arn: str
    # Browser origins that may post; empty admits no browser (DESIGN.md "Who may send").
    allowed_origins: tuple[str, ...] = ()
    # Backend API keys (hashed, scoped to pixels); empty: no backend may send.
    api_keys_secret_arn: str = ""
    api_keys_cache_seconds: int = Field(default=300, ge=1, le=3600)
    # Off: an IP-registry country may only tighten the consent rules (docs/consent.md, location).
    trust_ip_country: bool = False
    cookie_domain: str = ""
    cookie_max_age_days: int = Field(default=30, ge=1, le=400)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_events_per_request: int = Field(default=50, ge=1, le=1000)
    default_phone_region: str = ""
    origin_verify_secret_arn: str = ""
    origin_verify_header_name: str = "x-origin-verify"
    tiktok_vendor_id: int | None = None
    policy_file: str = ""
    consent_policy_ssm_parameter: str = ""
    # event_time window around the server clock (docs/privacy.md); TikTok's own is UNCONFIRMED.
    event_time_max_future_seconds: int = Field(default=300, ge=0, le=86_400)
    event_time_max_age_seconds: int = Field(default=7 * 86_400, ge=60, le=90 * 86_400)
    # Page URL query parameters (docs/privacy.md): extra personal name parts, or an allowlist.
    url_param_mode: Literal["denylist", "allowlist"] = "denylist"
    url_pii_params: tuple[str, ...] = ()
    url_allowed_params: tuple[str, ...] = ()
    # Parts of a name that say it holds a person's name, for URL parameters and custom properties
    # (ttrelay.privacy.person_names, docs/privacy.md); the whole list, replacing the default.
    person_name_parts: tuple[str, ...] = DEFAULT_PERSON_NAME_PARTS

    _csv_url_params = field_validator(
        "url_pii_params", "url_allowed_params", "person_name_parts", mode="before"
    )(_split_csv)

    @field_validator("tiktok_vendor_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    _csv_origins = field_validator("allowed_origins", mode="before")(_split_csv)

    @field_validator("allowed_origins")
    @classmethod
    def _exact_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # A wildcard would let any site beacon conversions into the pixel: origins are listed one by one.
        for origin in value:
            if "*" in origin or not origin.startswith(("https://", "http://")):
                raise ValueError(
                    f"AllowedOrigins takes exact origins like https://www.example.com, not {origin!r}"
                )
        return tuple(origin.rstrip("/") for origin in value)


class ForwardSettings(CommonSettings):
    dedup_table_name: str
    access_token_secret_arn: str
    events_api_base_url: str = TIKTOK_BASE_URL
    test_event_code: str = ""
    # Shadow mode per pixel (docs/deploy.md): `PIXEL=CODE` pairs. A listed pixel's requests carry its own
    # code, so a new pixel can be checked in TikTok's Test Events while the others stay live; the others
    # get test_event_code. `PIXEL=` (no code) keeps that pixel live even when test_event_code is set.
    test_event_codes: dict[str, str] = Field(default_factory=dict)
    events_api_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    max_events_per_request: int = Field(default=1000, ge=1, le=1000)
    # Who owns a dedup claim (ttrelay.forward.dedup; docs/delivery.md has the measurements behind it).
    dedup_mode: DedupMode = DedupMode.MESSAGE
    claim_lease_seconds: int = Field(default=120, ge=5)
    # TikTok dedups for 48 h; the table remembers longer: as long as a message can wait for a redrive, and
    # never less than a message can wait in the queue (MIN_DEDUP_TTL_HOURS).
    dedup_ttl_hours: int = Field(default=DEDUP_TTL_HOURS, ge=MIN_DEDUP_TTL_HOURS)
    events_dlq_url: str = ""
    # Extra Events API requests one rejected batch may spend on halving (docs/delivery.md): 20 isolates a
    # single bad event in 1,000 (two requests per halving, ten halvings); past it the rest is parked.
    max_bisect_requests: int = Field(default=20, ge=0, le=200)
    # The queue's maxReceiveCount (template MaxReceiveCount): bisection parks capped events on the last one.
    max_receive_count: int = Field(default=0, ge=0)

    @field_validator("test_event_codes", mode="before")
    @classmethod
    def _pixel_code_pairs(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            pixel, sep, code = (part.strip() for part in item.partition("="))
            # The same characters the TestEventCode parameter allows: the code goes into a JSON body.
            if not sep or not pixel or not _TEST_EVENT_CODE.fullmatch(code):
                raise ValueError(f"TestEventCodes takes PIXEL=CODE pairs separated by commas, not {item!r}")
            pairs[pixel] = code
        return pairs

    @field_validator("events_api_base_url")
    @classmethod
    def _https_unless_loopback(cls, value: str) -> str:
        # The access token travels in a request header: plain http only to a fake on this machine.
        url = urlsplit(value)
        if url.scheme == "https" or (url.scheme == "http" and _is_loopback(url.hostname or "")):
            return value
        raise ValueError("events_api_base_url must be https (plain http only for a loopback host)")

    @model_validator(mode="after")
    def _lease_outlives_a_request(self) -> ForwardSettings:
        if self.claim_lease_seconds <= self.events_api_timeout_seconds + 1:
            raise ValueError("claim_lease_seconds must exceed events_api_timeout_seconds by more than 1 s")
        return self


@lru_cache(maxsize=1)
def collect_settings() -> CollectSettings:
    return CollectSettings.from_environment()


@lru_cache(maxsize=1)
def forward_settings() -> ForwardSettings:
    return ForwardSettings.from_environment()
