"""Typed settings, read once from the environment (the domain never reads os.environ)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TIKTOK_BASE_URL = "https://business-api.tiktok.com"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


class CommonSettings(BaseSettings):
    """Settings both functions read."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    pixel_codes: Annotated[tuple[str, ...], NoDecode] = ()

    _csv = field_validator("pixel_codes", mode="before")(_split_csv)


class CollectSettings(CommonSettings):
    events_queue_url: str
    cookie_keys_secret_arn: str
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
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

    @field_validator("tiktok_vendor_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    _csv_origins = field_validator("allowed_origins", mode="before")(_split_csv)


class ForwardSettings(CommonSettings):
    dedup_table_name: str
    access_token_secret_arn: str
    events_api_base_url: str = TIKTOK_BASE_URL
    test_event_code: str = ""
    events_api_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    max_events_per_request: int = Field(default=1000, ge=1, le=1000)
    claim_lease_seconds: int = Field(default=120, ge=5)
    dedup_ttl_hours: int = Field(default=72, ge=48)  # TikTok dedups for 48 h; we keep keys longer
    events_dlq_url: str = ""
    # Only the local chaos harness sets this: the share of forwarder checkpoints that crash the process.
    local_crash_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    local_crash_log: str = ""

    @model_validator(mode="after")
    def _lease_outlives_a_request(self) -> ForwardSettings:
        if self.claim_lease_seconds <= self.events_api_timeout_seconds + 1:
            raise ValueError("claim_lease_seconds must exceed events_api_timeout_seconds by more than 1 s")
        return self


@lru_cache(maxsize=1)
def collect_settings() -> CollectSettings:
    return CollectSettings()  # filled from the environment


@lru_cache(maxsize=1)
def forward_settings() -> ForwardSettings:
    return ForwardSettings()
