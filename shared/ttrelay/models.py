"""Pydantic contracts: the POST /events request, the queued message, and the Events API body.

The request models validate what a site may send; the queued models are what CollectFunction puts on
SQS after hashing, so nothing raw (email, phone, external_id) ever reaches the queue.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ttrelay.consent.gcm import CONSENT_MODE_STATES, CONSENT_MODE_TYPES
from ttrelay.forward.events_api import (
    EARLIEST_EVENT_TIME,
    EVENT_TIME_LIMIT,
    MAX_EVENT_ID_LENGTH,
    MAX_EVENTS_PER_REQUEST,
    PIXEL_CODE_PATTERN,
    TIKTOK_CURRENCIES,
)
from ttrelay.privacy.hashing import HASHED_USER_FIELDS
from ttrelay.privacy.pii_readings import holds_pii
from ttrelay.privacy.pii_shapes import contains_email, contains_phone, is_phone_number

# Fields that are sent to TikTok as typed (not hashed) or echoed in answers must not carry an email
# address or a phone number. The error type and message name the rule, never the value
# (docs/privacy.md, "Strict shapes").
PERSONAL_DATA_ERROR = "personal_data"


def _rule(message: str, is_personal: Callable[[str], bool]) -> AfterValidator:
    def check(value: str) -> str:
        if is_personal(value):
            raise PydanticCustomError(PERSONAL_DATA_ERROR, message)
        return value

    return AfterValidator(check)


def _is_personal_id(value: str) -> bool:
    # An id is not a phone number written as one; a bare digit run is an order number (Shopify's ids).
    return holds_pii(value, "none") or is_phone_number(value, bare_digits=False)


def _is_personal_token(value: str) -> bool:
    # Click ids and _ttp are letters, digits and a few signs: a value that is a phone number is not one.
    return holds_pii(value, "none") or is_phone_number(value)


def _is_personal_zip(value: str) -> bool:
    # A postal code has at most 9 digits (US ZIP+4, 94105-1234): ten or more in a phone shape is a number.
    return contains_email(value) or (contains_phone(value) and sum(c.isdigit() for c in value) >= 10)


def _is_personal_text(value: str) -> bool:
    return contains_email(value) or contains_phone(value)


def _shape(pattern: str, rule: str) -> AfterValidator:
    """A pattern whose error says the rule in words: pydantic's own error quotes the whole expression,
    which for BCP 47 is three lines of regex. The schema gets the pattern from `_documented`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError("string_pattern_mismatch", rule)
        return value

    return AfterValidator(check)


def _documented(pattern: str, max_length: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "maxLength": max_length, "pattern": pattern})


def _locale_with_hyphens(value: object) -> object:
    # en_US (POSIX, Java, PHP) is the same tag as BCP 47's en-US.
    return value.replace("_", "-") if isinstance(value, str) else value


EventName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_ .-]+$")]
EventId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_EVENT_ID_LENGTH, pattern=r"^[\x21-\x7e]+$"),
    _rule("an event_id holds no email address and is not a phone number", _is_personal_id),
]
# TikTok's click ids (E.C.P.<base64url>) and _ttp cookies use these characters and no others.
CLICK_ID_PATTERN = r"^[A-Za-z0-9._~+/=-]*$"
MAX_CLICK_ID_LENGTH = 512
ClickToken = Annotated[
    str,
    StringConstraints(max_length=MAX_CLICK_ID_LENGTH),
    _shape(CLICK_ID_PATTERN, "a click id or _ttp value has letters, digits and ._~+/=- only"),
    _rule("a click id or _ttp value, not an email address or a phone number", _is_personal_token),
    _documented(CLICK_ID_PATTERN, MAX_CLICK_ID_LENGTH),
]
_CLICK_ID = re.compile(CLICK_ID_PATTERN)


def is_click_token(value: str) -> bool:
    """What ClickToken accepts, for click ids that arrive outside `context` (in the page URL's query)."""
    fits = len(value) <= MAX_CLICK_ID_LENGTH and _CLICK_ID.fullmatch(value) is not None
    return fits and not _is_personal_token(value)


# BCP 47 (RFC 5646) without the irregular grandfathered tags: language, extlang, script, region,
# variants, extensions, private use; e.g. en-US, zh-Hant-TW, es-419, de-DE-1996, x-whatever.
BCP47_PATTERN = (
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?|[Xx](?:-[A-Za-z0-9]{1,8})+)$"
)
Locale = Annotated[
    str,
    StringConstraints(max_length=35),
    _shape(BCP47_PATTERN, "a locale is a BCP 47 language tag such as en-US, zh-Hant-TW or es-419"),
    BeforeValidator(_locale_with_hyphens),  # wraps the checks above: runs before them
    _rule("a locale holds no phone number", _is_personal_text),
    _documented(BCP47_PATTERN, 35),
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
ZipCode = Annotated[
    str,
    StringConstraints(max_length=32),
    _rule("a zip code holds no email address or phone number", _is_personal_zip),
]
Place = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=64),
    _rule("a city, state or country holds no email address or phone number", _is_personal_text),
]
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
    # each with a warning so a typo is not silent (ttrelay.collect.request_warnings).
    model_config = ConfigDict(extra="ignore", frozen=True)


# Consent values are judged by the consent policy, not here (DESIGN.md "Consent values are strict"): a
# value of the wrong type is a malformed signal, which refuses with a reason; it is never coerced into a
# grant and never a 400. Only sizes are checked here, so the work per request stays bounded. The schemas
# document what a page should send.
MAX_CONSENT_STRING = 16_384
MAX_USP_STRING = 16
MAX_GPP_SECTION_IDS = 64
MAX_CONSENT_KEYS = 32
MAX_CONSENT_KEY_LENGTH = 64
_CONSENT_KEYS: dict[str, object] = {
    "maxProperties": MAX_CONSENT_KEYS,
    "propertyNames": {"maxLength": MAX_CONSENT_KEY_LENGTH},
}
_CONSENT_MODE_STATE = {"enum": list(CONSENT_MODE_STATES), "type": "string"}


def _or_null(schema: dict[str, object]) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": [schema, {"type": "null"}]})


class ConsentIn(_Lenient):
    tcf: Annotated[object, _or_null({"maxLength": MAX_CONSENT_STRING, "type": "string"})] = None
    gpp: Annotated[object, _or_null({"maxLength": MAX_CONSENT_STRING, "type": "string"})] = None
    gpp_sid: Annotated[
        object,
        WithJsonSchema(
            {"items": {"minimum": 0, "type": "integer"}, "maxItems": MAX_GPP_SECTION_IDS, "type": "array"}
        ),
    ] = Field(default_factory=list)
    usp: Annotated[object, _or_null({"maxLength": MAX_USP_STRING, "type": "string"})] = None
    gpc: Annotated[object, _or_null({"type": "boolean"})] = None
    # Consent Mode types other than the four documented are ignored (GTM pages also send
    # security_storage, wait_for_update, region...).
    gcm: Annotated[
        object,
        _or_null(
            {
                "properties": dict.fromkeys(CONSENT_MODE_TYPES, _CONSENT_MODE_STATE),
                "type": "object",
                **_CONSENT_KEYS,
            }
        ),
    ] = None
    cmp: Annotated[
        object, _or_null({"additionalProperties": {"type": "boolean"}, "type": "object", **_CONSENT_KEYS})
    ] = None

    @field_validator("tcf", "gpp")
    @classmethod
    def _consent_string_size(cls, value: object) -> object:
        return _at_most_chars(value, MAX_CONSENT_STRING)

    @field_validator("usp")
    @classmethod
    def _usp_size(cls, value: object) -> object:
        return _at_most_chars(value, MAX_USP_STRING)

    @field_validator("gpp_sid")
    @classmethod
    def _section_id_count(cls, value: object) -> object:
        if isinstance(value, list) and len(value) > MAX_GPP_SECTION_IDS:
            raise PydanticCustomError("too_long", f"at most {MAX_GPP_SECTION_IDS} section ids")
        return value

    @field_validator("gcm", "cmp")
    @classmethod
    def _key_count_and_length(cls, value: object) -> object:
        # The keys are the site's text: the error names the field only, never a key.
        if isinstance(value, dict) and (
            len(value) > MAX_CONSENT_KEYS or any(len(key) > MAX_CONSENT_KEY_LENGTH for key in value)
        ):
            raise PydanticCustomError(
                "too_long", f"at most {MAX_CONSENT_KEYS} names of at most {MAX_CONSENT_KEY_LENGTH} characters"
            )
        return value


def _at_most_chars(value: object, limit: int) -> object:
    if isinstance(value, str) and len(value) > limit:
        raise PydanticCustomError("string_too_long", f"at most {limit} characters")
    return value


class ContextIn(_Lenient):
    page_url: Url | None = None
    referrer: Url | None = None
    ttclid: ClickToken | None = None
    ttp: ClickToken | None = None
    locale: Locale | None = None
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


# Where a page's snippet got the event: a mirrored `ttq.track` call, the GA4 dataLayer, or a direct
# `ttrelay.track`. Shown by the local inspector and counted in the `collected` log line; never queued.
EventSource = Literal["ttq", "dataLayer", "ttrelay", "shopify"]


class EventIn(_Strict):
    event: EventName
    event_id: EventId | None = None
    event_time: EventTime | None = None
    properties: Properties = Field(default_factory=Properties)
    source: EventSource | None = None


class CollectEnvelope(_Lenient):
    """Everything of a request but its events, judged one by one (ttrelay.collect.event_judgement)."""

    pixel_code: PixelCode | None = None
    # Read by the sender check before the envelope is validated (ttrelay.collect.senders); declared for docs.
    site_key: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None,
        description="A publishable site key (`ttrelay keys create --publishable`): admits a sandboxed page "
        "(Origin `null` or absent) as a browser. May be sent as the query `?site_key=` instead.",
    )
    consent: ConsentIn = Field(default_factory=ConsentIn)
    context: ContextIn = Field(default_factory=ContextIn)
    user: UserIn = Field(default_factory=UserIn)
    # TikTok's own cap; CollectSettings.max_events_per_request is usually lower. An empty list is a
    # decision probe (DESIGN.md): the decision for these signals, the cookie set or expired, nothing queued.
    events: tuple[object, ...] = Field(max_length=MAX_EVENTS_PER_REQUEST)


class CollectRequest(CollectEnvelope):
    """The POST /events body as documented (docs/openapi.json): the envelope with well-formed events."""

    events: tuple[EventIn, ...] = Field(max_length=MAX_EVENTS_PER_REQUEST)


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


class SharedContext(BaseModel):
    """What every event of one request has in common: the visitor and the page, queued once per message.

    Copying it into each event made a 12 KB request a 1 MB message (issue 14); the forwarder adds it to
    each event only when it builds the Events API request (QueuedEvents.api_event)."""

    model_config = ConfigDict(extra="forbid")

    user: TikTokUser = Field(default_factory=TikTokUser)
    page: TikTokPage | None = None


# A claim_id is written into PartiQL statements as a literal (adapters.dynamodb_dedup): a plain token.
CLAIM_ID = re.compile(r"[A-Za-z0-9-]{0,64}")
# SQS refuses a message over 256 KiB, counting its attributes; parking adds ours (reason, message,
# request_id: three names, ≤ 256 characters each), so the collector keeps 4 KiB for them.
SQS_MESSAGE_LIMIT = 262_144
MAX_QUEUED_MESSAGE_BYTES = SQS_MESSAGE_LIMIT - 4096


def _empty_user(user: TikTokUser) -> bool:
    """Equal to TikTokUser(): every field of it defaults to None, and it has no extras."""
    return all(value is None for value in user.__dict__.values())


# The queued models' fields whose default is not None (QueuedEvents.body checks each).
DEFAULTED_FIELDS = {
    "QueuedEvents": ("receipt", "claim_id"),
    "SharedContext": ("user",),
    "TikTokEvent": ("user", "properties", "limited_data_use"),
}
# What QueuedEvents._at_default checks, read from the table once: a `user` is at its default when empty
# (_empty_user), every other of these fields when falsy ({}, "", False).
_MESSAGE_DEFAULTED = DEFAULTED_FIELDS["QueuedEvents"]
_EVENT_DEFAULTED = tuple(name for name in DEFAULTED_FIELDS["TikTokEvent"] if name != "user")


class QueuedEvents(BaseModel):
    """The SQS message body: every accepted event of one collect request, queued whole.

    v2 (since issue 14): `shared` holds the request's visitor and page once, and each event only what is
    its own (its match keys from its properties). v1 messages, still in queues and DLQs after an upgrade,
    have no `shared` and everything in each event; both expand to the same Events API items."""

    model_config = ConfigDict(extra="forbid")

    v: Literal[1, 2]  # written by every collector; required, so that body() never leaves it out
    pixel_code: str
    received_at: float
    shared: SharedContext | None = None
    events: list[TikTokEvent] = Field(min_length=1)
    receipt: dict[str, object] = Field(default_factory=dict)
    # Owner of its events' dedup claims (ttrelay.forward.dedup, mode "message"): set once by the collector,
    # kept through redelivery, parking and redrive. Empty in messages from before it existed: the SQS message
    # id stands in.
    claim_id: str = Field(default="", pattern=f"^{CLAIM_ID.pattern}$")

    def body(self) -> str:
        """The SQS body: no None and no default (an empty `user`, `limited_data_use: false`), which
        would cost ~50 bytes per event; reading the body back restores them. Parking writes the same
        way, so a parked part of a message is never larger than the message was.

        What `exclude_defaults=True` writes, without its cost: it calls each default factory to compare
        (a TikTokUser validated per event and one for the shared user). Every default that is not None
        is checked here (DEFAULTED_FIELDS); exclude_none does the rest."""
        return self.model_dump_json(exclude_none=True, exclude=self._at_default())

    def _at_default(self) -> dict[str, Any]:
        """The fields of DEFAULTED_FIELDS that hold their default, as model_dump's `exclude` takes them."""
        left_out: dict[str, Any] = {name: True for name in _MESSAGE_DEFAULTED if not getattr(self, name)}
        if self.shared is not None and _empty_user(self.shared.user):
            left_out["shared"] = {"user"}
        per_event: dict[int, set[str]] = {}
        for index, event in enumerate(self.events):
            names = {name for name in _EVENT_DEFAULTED if not getattr(event, name)}
            if _empty_user(event.user):
                names.add("user")
            if names:
                per_event[index] = names
        if per_event:
            left_out["events"] = per_event
        return left_out

    def api_event(self, event: TikTokEvent) -> TikTokEvent:
        """`event` as a `data[]` item: the shared context with the event's own match keys added.

        The same merge the collector made per event before v2 (match_keys.user_match_keys with `user`
        first): hashed fields keep every distinct digest, the shared ones first; any other field is the
        shared one when set, else the event's."""
        shared = self.shared
        if shared is None:
            return event
        page = event.page or shared.page
        own = event.user.model_dump(exclude_none=True)
        if not own:  # the usual case: nothing of its own to merge, the shared user object is reused
            return event.model_copy(update={"user": shared.user, "page": page})
        user = shared.user.model_dump(exclude_none=True)
        for name, value in own.items():
            if name in HASHED_USER_FIELDS and name in user:
                user[name] = list(dict.fromkeys([*user[name], *value]))
            else:
                user.setdefault(name, value)
        return event.model_copy(update={"user": TikTokUser.model_validate(user), "page": page})

    def api_events(self) -> list[TikTokEvent]:
        return [self.api_event(event) for event in self.events]
