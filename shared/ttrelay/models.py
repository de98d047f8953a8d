"""Pydantic contracts: the POST /events request, the queued message, and the Events API body.

The request models validate what a site may send; the queued models are what CollectFunction puts on
SQS after hashing, so nothing raw (email, phone, external_id) ever reaches the queue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

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
# Advanced-matching extras (reference §2 `user`): names and zip are hashed, city/state/country are not.
PersonName = Annotated[str, StringConstraints(max_length=128)]
ZipCode = Annotated[str, StringConstraints(max_length=32)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
MAX_CONTENTS = 200

# Custom properties (docs/events.md): a bounded number of named scalars or short lists of them, so a
# request stays small to check and nothing nested can hide personal data from the redaction.
MAX_CUSTOM_PROPERTIES = 50
MAX_CUSTOM_LIST_ITEMS = 20
CUSTOM_PROPERTY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
CUSTOM_PROPERTY_NAME_RULE = "a custom property name is a letter or _ then letters, digits, _ or -, at most 64"
CustomScalar = bool | int | Annotated[float, Field(allow_inf_nan=False)] | ShortText
CustomValue = CustomScalar | Annotated[list[CustomScalar], Field(max_length=MAX_CUSTOM_LIST_ITEMS)]


def _number_as_string(value: object) -> object:
    # TikTok rejects numeric ids (40002 "content_id: Not a valid string"); SKUs typed as numbers are common.
    if isinstance(value, list):
        return [_number_as_string(item) for item in value]
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class _Strict(BaseModel):
    # An unknown key is an error; its path shows `<key>`, never the key (ttrelay.field_paths).
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Lenient(BaseModel):
    # Newer snippets may add fields; old relays ignore them rather than reject the event, and answer
    # each with a warning so a typo is not silent (ttrelay.request_warnings).
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


class MatchKeys(_Strict):
    """Advanced-matching keys, as `ttq.identify` names them and as sites put them into `ttq.track`.

    Raw (or already SHA-256 hex); hashed before anything leaves the collector and never echoed in errors.
    Reference §2 `user` and §7a: the pixel says `phone_number`, the Events API `phone`; both are taken.
    """

    email: Email | Annotated[list[Email], Field(max_length=MAX_IDENTIFIER_VALUES)] | None = None
    phone: Phone | Annotated[list[Phone], Field(max_length=MAX_IDENTIFIER_VALUES)] | None = None
    phone_number: Phone | Annotated[list[Phone], Field(max_length=MAX_IDENTIFIER_VALUES)] | None = None
    external_id: ExternalId | Annotated[list[ExternalId], Field(max_length=MAX_IDENTIFIER_VALUES)] | None = (
        None
    )
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    zip_code: ZipCode | None = None
    city: Place | None = None
    state: Place | None = None
    country: Place | None = None


class UserIn(MatchKeys):
    """The request's `user`: `ttq.identify`'s fields plus the optional advanced-matching ones."""


class Content(_Strict):
    content_id: ContentId
    content_name: ShortText | None = None
    content_category: ShortText | None = None
    brand: ShortText | None = None
    price: Amount | None = None
    quantity: Quantity | None = None

    _id_as_string = field_validator("content_id", mode="before")(_number_as_string)


class Properties(MatchKeys):
    """`ttq.track`'s second argument, taken as the pixel takes it; pixel_params maps it to the API's shape.

    Declared keys are the Events API's (§2) and the pixel's classic ones (§7a); any other key is a custom
    property within bounds. Numeric strings count as numbers for value, price and quantity, as TikTok's
    server-side tag does (`makeNumber`, tiktok/gtm-template-eapi template.tpl).
    """

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        json_schema_extra={"propertyNames": {"pattern": f"^{CUSTOM_PROPERTY_NAME.pattern}$"}},
    )
    __pydantic_extra__: dict[str, CustomValue] = Field(init=False)

    value: Amount | None = None
    currency: str | None = None  # bounded by the validator: one of TikTok's codes
    content_type: Literal["product", "product_group"] | None = None
    contents: list[Content] | None = Field(default=None, max_length=MAX_CONTENTS)
    content_ids: list[ContentId] | None = Field(default=None, max_length=MAX_CONTENTS)
    num_items: Quantity | None = None
    order_id: ShortText | None = None
    shop_id: ShortText | None = None
    description: ShortText | None = None
    search_string: ShortText | None = None
    query: ShortText | None = None
    # The pixel's classic single-item parameters (reference §7a): content_id may also be a list of ids.
    content_id: ContentId | Annotated[list[ContentId], Field(max_length=MAX_CONTENTS)] | None = None
    content_name: ShortText | None = None
    content_category: ShortText | None = None
    brand: ShortText | None = None
    price: Amount | None = None
    quantity: Quantity | None = None

    _ids_as_strings = field_validator("content_id", "content_ids", "order_id", "shop_id", mode="before")(
        _number_as_string
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _known_currency(cls, value: object) -> object:
        # The pixel takes `usd`; the Events API wants TikTok's upper-case codes (reference §2).
        if not isinstance(value, str):
            return value
        code = value.strip().upper()
        if code not in TIKTOK_CURRENCIES:
            raise ValueError("currency is not one TikTok accepts (ISO 4217, e.g. USD)")
        return code

    @field_validator("content_type", mode="before")
    @classmethod
    def _content_type_lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _custom_properties_within_bounds(self) -> Properties:
        extra = self.model_extra or {}
        if len(extra) > MAX_CUSTOM_PROPERTIES:
            raise ValueError(f"at most {MAX_CUSTOM_PROPERTIES} custom properties")
        if not all(CUSTOM_PROPERTY_NAME.fullmatch(name) for name in extra):
            # The name itself is not echoed: it is the site's text and could be anything.
            raise PydanticCustomError("custom_property_name", CUSTOM_PROPERTY_NAME_RULE)
        return self

    @property
    def custom(self) -> dict[str, object]:
        return dict(self.model_extra or {})


class EventIn(_Strict):
    event: EventName
    event_id: EventId | None = None
    event_time: EventTime | None = None
    properties: Properties = Field(default_factory=Properties)


class CollectEnvelope(_Lenient):
    """Everything of a request but its events, which are judged one by one (ttrelay.event_judgement)."""

    pixel_code: PixelCode | None = None
    consent: ConsentIn = Field(default_factory=ConsentIn)
    context: ContextIn = Field(default_factory=ContextIn)
    user: UserIn = Field(default_factory=UserIn)
    # TikTok's own cap; CollectSettings.max_events_per_request is usually lower.
    events: Sequence[object] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


class CollectRequest(CollectEnvelope):
    """The POST /events body as documented (docs/openapi.json): the envelope with well-formed events."""

    events: Sequence[EventIn] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


# ---- what goes on the queue and to TikTok -------------------------------------------------------


class TikTokUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: list[str] | None = None
    phone: list[str] | None = None
    external_id: list[str] | None = None
    # Hashed like the others and sent as arrays too (reference §3, step 4).
    first_name: list[str] | None = None
    last_name: list[str] | None = None
    zip_code: list[str] | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
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


# A claim_id is written into PartiQL statements as a literal (adapters.dynamodb_dedup): a plain token.
CLAIM_ID = re.compile(r"[A-Za-z0-9-]{0,64}")


class QueuedEvents(BaseModel):
    """The SQS message body: every accepted event of one collect request, queued whole."""

    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = 1
    pixel_code: str
    received_at: float
    events: list[TikTokEvent] = Field(min_length=1)
    receipt: dict[str, object] = Field(default_factory=dict)
    # Owner of its events' dedup claims (ttrelay.dedup, mode "message"): set once by the collector, kept
    # through redelivery, parking and redrive. Empty in messages from before it existed: the SQS message
    # id stands in.
    claim_id: str = Field(default="", pattern=f"^{CLAIM_ID.pattern}$")
