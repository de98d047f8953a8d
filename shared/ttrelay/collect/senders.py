"""Who may send events (DESIGN.md "Who may send").

A browser request carries `Origin`, which must be one of the site's `AllowedOrigins` (an empty list admits
no browser). A request without `Origin` comes from a backend and must present an API key
(`Authorization: Bearer <key>`). A sandboxed page (a Shopify custom pixel: Origin `null` or absent)
presents a publishable site key instead, in the body's `site_key` or the query's `?site_key=`; it is
admitted as a browser, never as a backend, and never in place of a foreign Origin.

Both kinds of key live in one secret as SHA-256 digests, each scoped to pixel codes; several can be active
at once so a sender can rotate without downtime. Keys are long random strings, so an unsalted SHA-256 is
enough to make a leaked secret useless (no dictionary to try), and comparing digests in constant time leaks
nothing about a stored one. A site key is public by design: its scope, hosts and rate limit are what
protect the pixel, so its errors may say what the scope is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ttrelay.collect.rejection import CollectRejected

API_KEY_PREFIX = "ttr_"
SITE_KEY_PREFIX = "ttrelay_pk_"
ALL_PIXELS = "*"
# Requests per second one collector instance takes for a site key unless its record says otherwise.
DEFAULT_SITE_KEY_RATE_LIMIT = 100
SANDBOXED_ORIGIN = "null"  # what a sandboxed iframe (allow-scripts without allow-same-origin) sends
_KEY_BYTES = 32
_SITE_KEY_BYTES = 24
_MAX_PRESENTED_KEY = 200  # longer is no key of ours: refused without hashing it
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
KeyKind = Literal["backend", "publishable"]


class ApiKeyRecord(BaseModel):
    """One stored key, backend or publishable: never the key itself, only its digest and what it may do."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1, max_length=64)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    pixels: tuple[str, ...] = Field(min_length=1)
    label: str = ""
    created_at: int = 0
    kind: KeyKind = "backend"  # records written before site keys existed are backend keys
    # Publishable keys only: page hosts the events must come from (empty: any), requests per second.
    hosts: tuple[str, ...] = ()
    rate_limit: int = Field(default=DEFAULT_SITE_KEY_RATE_LIMIT, ge=1, le=1_000_000)

    @field_validator("hosts")
    @classmethod
    def _plain_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(page_host(host) for host in value)

    def allows(self, pixel_code: str) -> bool:
        return ALL_PIXELS in self.pixels or pixel_code in self.pixels

    def listing(self) -> dict[str, object]:
        """What `ttrelay keys list` shows: never the digest; hosts and limit only where they apply."""
        shown = self.model_dump(mode="json", exclude={"hash"})
        if self.kind == "backend":
            del shown["hosts"], shown["rate_limit"]
        return shown


class ApiKeysDocument(BaseModel):
    """The API-keys secret: `{"keys": [ApiKeyRecord, ...]}`, backend and publishable keys together."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    keys: tuple[ApiKeyRecord, ...] = ()


class ApiKeysError(ValueError):
    """The API-keys secret is unusable (a deployment error, never a caller's)."""


@dataclass(frozen=True, slots=True)
class ApiKeyRing:
    records: tuple[ApiKeyRecord, ...] = ()

    @classmethod
    def from_secret(cls, secret: Mapping[str, object]) -> ApiKeyRing:
        try:
            return cls(ApiKeysDocument.model_validate(secret).keys)
        except ValidationError as exc:
            raise ApiKeysError(
                f"the API-keys secret is not a valid key list ({exc.error_count()} errors)"
            ) from None

    def match(self, presented: str, kind: KeyKind = "backend") -> ApiKeyRecord | None:
        """The record of this kind whose digest is the presented key's: a site key never opens the
        backend door, and a backend key pasted into page code is not a site key."""
        if len(presented) > _MAX_PRESENTED_KEY:
            return None
        digest = api_key_digest(presented)
        found = None
        # Every record is compared, so the time taken does not depend on which one matched.
        for record in self.records:
            if hmac.compare_digest(record.hash, digest) and record.kind == kind:
                found = record
        return found


def add_api_key(
    document: ApiKeysDocument, pixels: tuple[str, ...], label: str, now: int
) -> tuple[ApiKeysDocument, ApiKeyRecord, str]:
    """A new backend key for `pixels` (or ALL_PIXELS): the document with its digest added, its record, and
    the key itself, which exists nowhere else once shown."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)
    record = ApiKeyRecord(
        id=f"k-{secrets.token_hex(4)}", hash=api_key_digest(key), pixels=pixels, label=label, created_at=now
    )
    return ApiKeysDocument(keys=(*document.keys, record)), record, key


def add_site_key(
    document: ApiKeysDocument,
    pixels: tuple[str, ...],
    hosts: tuple[str, ...],
    rate_limit: int,
    label: str,
    now: int,
) -> tuple[ApiKeysDocument, ApiKeyRecord, str]:
    """A new publishable site key, like add_api_key; `hosts` as page_host accepts them (ValueError else)."""
    key = SITE_KEY_PREFIX + secrets.token_urlsafe(_SITE_KEY_BYTES)
    record = ApiKeyRecord(
        id=f"pk-{secrets.token_hex(4)}",
        hash=api_key_digest(key),
        pixels=pixels,
        label=label,
        created_at=now,
        kind="publishable",
        hosts=tuple(dict.fromkeys(page_host(host) for host in hosts)),
        rate_limit=rate_limit,
    )
    return ApiKeysDocument(keys=(*document.keys, record)), record, key


def revoke_api_key(document: ApiKeysDocument, key_id: str) -> ApiKeysDocument:
    kept = tuple(record for record in document.keys if record.id != key_id)
    if len(kept) == len(document.keys):
        raise LookupError(f"no key with id {key_id!r}")
    return ApiKeysDocument(keys=kept)


def page_host(text: str) -> str:
    """A host as a site key stores it (lower case, no scheme, port or path), or ValueError."""
    host = text.strip().lower().rstrip(".")
    if not _HOST.match(host):
        raise ValueError(f"a host is a name like shop.example.com, not {text[:100]!r}")
    return host


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return add_api_key(ApiKeysDocument(), (ALL_PIXELS,), "", 0)[2]


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a request: a browser page (of an allowed origin, or holding a site key) or a keyed backend."""

    kind: Literal["browser", "backend"]
    origin: str | None = None  # an allowed origin; None for a backend or a sandboxed page
    key: ApiKeyRecord | None = None  # the backend's API key
    site_key: ApiKeyRecord | None = None  # the page's publishable key, with or without an allowed origin

    @property
    def may_set_visitor(self) -> bool:
        """Only a keyed backend speaks for a visitor it relays (its own IP and user agent are not theirs)."""
        return self.kind == "backend"

    @property
    def sandboxed(self) -> bool:
        """A page admitted by its site key alone: it has no cookie jar of ours (the token is in the body)."""
        return self.site_key is not None and self.origin is None

    def check_pixel(self, pixel_code: str, served: Collection[str]) -> None:
        """403 `pixel_not_allowed` for a pixel the relay does not serve or this sender may not send for,
        saying which of the two it is, except where that would reveal a secret key's scope."""
        if self.key is not None and (pixel_code not in served or not self.key.allows(pixel_code)):
            # One answer for both: a secret key's scope cannot be probed by telling them apart.
            raise _pixel_not_allowed(f"{_NOT_SERVED}, or not one of {_KEY_PIXELS}")
        if pixel_code not in served:
            raise _pixel_not_allowed(_NOT_SERVED)
        if self.site_key is not None and not self.site_key.allows(pixel_code):
            # A site key is public, so its scope is no secret: say why, so a merchant can fix the page.
            raise _pixel_not_allowed(
                f"this site key's scope does not include pixel {pixel_code} (ttrelay keys list)"
            )

    def check_page(self, page_url: str | None) -> None:
        """A site key with hosts admits only events from pages on them (the page reports its own URL)."""
        if self.site_key is None or not self.site_key.hosts:
            return
        host = _url_host(page_url)
        if host not in self.site_key.hosts:
            message = (
                "this site key sends only for pages on its hosts; context.page_url must be on one of: "
                + ", ".join(self.site_key.hosts)
            )
            raise CollectRejected(403, "host_not_allowed", [{"loc": "context.page_url", "msg": message}])


_NOT_SERVED = "this pixel is not one the relay serves (PixelCodes)"
_KEY_PIXELS = "this API key's pixels (ttrelay keys list)"


def _pixel_not_allowed(message: str) -> CollectRejected:
    return CollectRejected(403, "pixel_not_allowed", [{"loc": "pixel_code", "msg": message}])


def _url_host(url: str | None) -> str | None:
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:
        return None
    return host.rstrip(".") if host else None


def identify_sender(
    headers: Mapping[str, str],
    allowed_origins: Collection[str],
    keys: Callable[[], ApiKeyRing],
    site_key: Callable[[], str | None] = lambda: None,
) -> Sender:
    """The request's sender, or CollectRejected (400 ambiguous keys, 401 no/invalid key, 403 origin).

    `allowed_origins` are as CollectSettings normalises them (no trailing slash). `keys` is read only when
    a key is presented, so keyless browser traffic never touches the API-keys secret. `site_key` gives the
    presented site key (reading the body, when it has to); it is not called for a foreign origin."""
    origin = headers.get("origin")
    normalised = origin.strip().rstrip("/") if origin is not None else None
    if normalised is not None and normalised != SANDBOXED_ORIGIN:
        if normalised not in allowed_origins:
            message = f"origin {normalised[:200]!r} is not in the AllowedOrigins setting of this relay"
            raise CollectRejected(403, "origin_not_allowed", [{"loc": "origin", "msg": message}])
        # A site key with an allowed origin is fine; its scope and hosts still apply.
        presented = site_key()
        record = _site_key(keys, presented) if presented is not None else None
        return Sender("browser", origin=normalised, site_key=record)
    if normalised is None and headers.get("authorization", "").strip():
        sender = _backend(headers, keys)
        if site_key() is not None:
            message = "send Authorization: Bearer <api key> (a backend) or site_key (a page), not both"
            raise CollectRejected(400, "invalid_request", [{"loc": "site_key", "msg": message}])
        return sender
    presented = site_key()
    if presented is None:
        if normalised == SANDBOXED_ORIGIN:
            message = "a sandboxed page (Origin null) needs a site key: site_key in the body or the query"
            raise CollectRejected(403, "origin_not_allowed", [{"loc": "origin", "msg": message}])
        message = "a request without Origin needs Authorization: Bearer <api key>, or a page's site_key"
        raise CollectRejected(401, "api_key_required", [{"msg": message}], headers=_CHALLENGE)
    return Sender("browser", site_key=_site_key(keys, presented))


_CHALLENGE = {"www-authenticate": 'Bearer realm="ttrelay"'}


def _backend(headers: Mapping[str, str], keys: Callable[[], ApiKeyRing]) -> Sender:
    scheme, _, presented = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        message = "a request without Origin needs Authorization: Bearer <api key>"
        raise CollectRejected(401, "api_key_required", [{"msg": message}], headers=_CHALLENGE)
    record = keys().match(presented.strip())
    if record is None:
        message = "the API key is not valid"
        raise CollectRejected(401, "invalid_api_key", [{"msg": message}], headers=_CHALLENGE)
    return Sender(kind="backend", key=record)


def _site_key(keys: Callable[[], ApiKeyRing], presented: str) -> ApiKeyRecord:
    record = keys().match(presented, kind="publishable")
    if record is None:
        message = "the site key is not valid (unknown or revoked)"
        raise CollectRejected(401, "invalid_site_key", [{"loc": "site_key", "msg": message}])
    return record


def presented_site_key(query: Mapping[str, str], document: object) -> str | None:
    """The site key of the query (`?site_key=`) or the body (`site_key`); 400 when they differ."""
    in_query = query.get("site_key")
    in_body = document.get("site_key") if isinstance(document, dict) else None
    if in_body is not None and not isinstance(in_body, str):
        message = "site_key must be a string"
        raise CollectRejected(400, "invalid_request", [{"loc": "site_key", "msg": message}])
    if in_query is not None and in_body is not None and in_query != in_body:
        message = "the site_key of the query and of the body differ; send one, or the same in both"
        raise CollectRejected(400, "site_key_mismatch", [{"loc": "site_key", "msg": message}])
    presented = in_query if in_query is not None else in_body
    return presented.strip() if presented is not None else None
