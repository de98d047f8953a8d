"""Pydantic contracts: the POST /events request, the queued message, and the Events API body.

The request models validate what a site may send; the queued models are what CollectFunction puts on
SQS after hashing, so nothing raw (email, phone, external_id) ever reaches the queue.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ttrelay.events_api import (
    EARLIEST_EVENT_TIME,
    EVENT_TIME_LIMIT,
    MAX_EVENT_ID_LENGTH,
    MAX_EVENTS_PER_REQUEST,
    PIXEL_CODE_PATTERN,
    TIKTOK_CURRENCIES,
)

EventName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_ .-]+$")]
EventId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_EVENT_ID_LENGTH, pattern=r"^[\x21-\x7e]+$")
]
PixelCode = Annotated[str, StringConstraints(pattern=f"^{PIXEL_CODE_PATTERN}$")]
ShortText = Annotated[str, StringConstraints(max_length=512)]
Url = Annotated[str, StringConstraints(max_length=4096)]
# Milliseconds (13 digits) are rejected, not guessed.
EventTime = Annotated[int, Field(ge=EARLIEST_EVENT_TIME, lt=EVENT_TIME_LIMIT, strict=True)]
# Every string and list has a bound, so the work per request is bounded too (docs/privacy.md, limits).
# Amounts: finite, and at most 10^12 in the currency's unit (a large order even in IDR or VND).
MAX_AMOUNT = 1e12
MAX_QUANTITY = 1_000_000
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
ContentId = Annotated[str, StringConstraints(min_length=1, max_length=256)]
# A visitor has a few addresses or numbers, not dozens; 254 is the longest usable address (RFC 5321).
MAX_IDENTIFIER_VALUES = 10
Email = Annotated[str, StringConstraints(max_length=254)]
Phone = Annotated[str, StringConstraints(max_length=64)]
ExternalId = Annotated[str, StringConstraints(max_length=256)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Lenient(BaseModel):
    # Newer snippets may add fields; old relays ignore them rather than reject the event.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ConsentIn(_Lenient):
    tcf: Annotated[str, StringConstraints(max_length=16_384)] | None = None
    gpp: Annotated[str, StringConstraints(max_length=16_384)] | None = None
    gpp_sid: list[Annotated[int, Field(ge=0, le=1000)]] = Field(default_factory=list, max_length=64)
    usp: Annotated[str, StringConstraints(max_length=16)] | None = None
    gpc: bool | None = None
    gcm: (
        dict[
            Literal["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage"],
            Literal["granted", "denied"],
        ]
        | None
    ) = None
    cmp: dict[Annotated[str, StringConstraints(max_length=64)], bool] | None = Field(
        default=None, max_length=32
    )


class ContextIn(_Lenient):
    page_url: Url | None = None
    referrer: Url | None = None
    ttclid: ShortText | None = None
    ttp: ShortText | None = None
    locale: Annotated[str, StringConstraints(max_length=35)] | None = None
    token: Annotated[str, StringConstraints(max_length=2048)] | None = None
    # The visitor's IP and user agent, as a keyed backend relays them; ignored from browsers.
    ip: Annotated[str, StringConstraints(max_length=64)] | None = None
    user_agent: Annotated[str, StringConstraints(max_length=1024)] | None = None


class UserIn(_Strict):
    """Raw identifiers; hashed before anything leaves the collector. Never echoed in errors."""

    email: Email | Annotated[list[Email], Field(max_length=MAX_IDENTIFIER_VALUES)] | None = None
    phone: Phone | Annotated[list[Phone], Field(max_length=MAX_IDENTIFIER_VALUES)] | None = None
    external_id: ExternalId | Annotated[list[ExternalId], Field(max_length=MAX_IDENTIFIER_VALUES)] | None = (
        None
    )


class Content(_Strict):
    content_id: ContentId
    content_name: ShortText | None = None
    content_category: ShortText | None = None
    brand: ShortText | None = None
    price: Amount | None = None
    quantity: Quantity | None = None

    @field_validator("content_id", mode="before")
    @classmethod
    def _id_as_string(cls, value: object) -> object:
        # TikTok rejects numeric content_id (40002 "Not a valid string"); SKUs typed as numbers are common.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Properties(_Strict):
    value: Amount | None = None
    currency: str | None = None  # bounded by the validator: one of TikTok's codes
    content_type: Literal["product", "product_group"] | None = None
    contents: list[Content] | None = Field(default=None, max_length=200)
    content_ids: list[ContentId] | None = Field(default=None, max_length=200)
    num_items: Quantity | None = None
    order_id: ShortText | None = None
    shop_id: ShortText | None = None
    description: ShortText | None = None
    search_string: ShortText | None = None
    query: ShortText | None = None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        if value is not None and value not in TIKTOK_CURRENCIES:
            raise ValueError("currency is not one TikTok accepts (ISO 4217, upper case)")
        return value


class EventIn(_Strict):
    event: EventName
    event_id: EventId | None = None
    event_time: EventTime | None = None
    properties: Properties = Field(default_factory=Properties)


class CollectRequest(_Lenient):
    pixel_code: PixelCode | None = None
    consent: ConsentIn = Field(default_factory=ConsentIn)
    context: ContextIn = Field(default_factory=ContextIn)
    user: UserIn = Field(default_factory=UserIn)
    # TikTok's own cap; CollectSettings.max_events_per_request is usually lower.
    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


# ---- what goes on the queue and to TikTok -------------------------------------------------------


class TikTokUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: list[str] | None = None
    phone: list[str] | None = None
    external_id: list[str] | None = None
    ttclid: str | None = None
    ttp: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    locale: str | None = None


class TikTokPage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    referrer: str | None = None


class TikTokEvent(BaseModel):
    """One `data[]` item of an Events API 2.0 request."""

    model_config = ConfigDict(extra="forbid")

    event: str
    event_time: int
    event_id: str
    user: TikTokUser = Field(default_factory=TikTokUser)
    properties: dict[str, object] = Field(default_factory=dict)
    page: TikTokPage | None = None
    limited_data_use: bool = False


class QueuedEvents(BaseModel):
    """The SQS message body: every accepted event of one collect request, queued whole."""

    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = 1
    pixel_code: str
    received_at: float
    events: list[TikTokEvent] = Field(min_length=1)
    receipt: dict[str, object] = Field(default_factory=dict)
