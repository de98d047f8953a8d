"""Who may send events (DESIGN.md "Who may send").

A browser request carries `Origin`, which must be one of the site's `AllowedOrigins` (an empty list admits
no browser). A request without `Origin` comes from a backend and must present an API key
(`Authorization: Bearer <key>`). Keys are stored as SHA-256 digests in a secret, each scoped to pixel codes;
several can be active at once so a backend can rotate without downtime.

Keys are 256-bit random strings, so an unsalted SHA-256 is enough to make a leaked secret useless
(no dictionary to try), and comparing digests in constant time leaks nothing about a stored one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ttrelay.rejection import CollectRejected

API_KEY_PREFIX = "ttr_"
ALL_PIXELS = "*"
_KEY_BYTES = 32


class ApiKeyRecord(BaseModel):
    """One stored key: never the key itself, only its digest and what it may do."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1, max_length=64)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    pixels: tuple[str, ...] = Field(min_length=1)
    label: str = ""
    created_at: int = 0

    def allows(self, pixel_code: str) -> bool:
        return ALL_PIXELS in self.pixels or pixel_code in self.pixels


class ApiKeysDocument(BaseModel):
    """The API-keys secret: `{"keys": [ApiKeyRecord, ...]}`."""

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

    def match(self, presented: str) -> ApiKeyRecord | None:
        digest = api_key_digest(presented)
        found = None
        # Every record is compared, so the time taken does not depend on which one matched.
        for record in self.records:
            if hmac.compare_digest(record.hash, digest):
                found = record
        return found


def add_api_key(
    document: ApiKeysDocument, pixels: tuple[str, ...], label: str, now: int
) -> tuple[ApiKeysDocument, ApiKeyRecord, str]:
    """A new key for `pixels` (or ALL_PIXELS): the document with its digest added, its record, and the
    key itself, which exists nowhere else once shown."""
    key = new_api_key()
    record = ApiKeyRecord(
        id=f"k-{secrets.token_hex(4)}", hash=api_key_digest(key), pixels=pixels, label=label, created_at=now
    )
    return ApiKeysDocument(keys=(*document.keys, record)), record, key


def revoke_api_key(document: ApiKeysDocument, key_id: str) -> ApiKeysDocument:
    kept = tuple(record for record in document.keys if record.id != key_id)
    if len(kept) == len(document.keys):
        raise LookupError(f"no API key with id {key_id!r}")
    return ApiKeysDocument(keys=kept)


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a request: a browser page of an allowed origin, or a backend holding a key."""

    kind: Literal["browser", "backend"]
    origin: str | None = None
    key: ApiKeyRecord | None = None

    @property
    def may_set_visitor(self) -> bool:
        """Only a keyed backend speaks for a visitor it relays (its own IP and user agent are not theirs)."""
        return self.kind == "backend"

    def check_pixel(self, pixel_code: str) -> None:
        if self.key is not None and not self.key.allows(pixel_code):
            # The same answer as an unknown pixel: a key's scope cannot be probed.
            raise CollectRejected(403, "pixel_not_allowed")


def identify_sender(
    headers: Mapping[str, str], allowed_origins: Collection[str], keys: Callable[[], ApiKeyRing]
) -> Sender:
    """The request's sender, or CollectRejected (401 no/invalid key, 403 origin not allowed).

    `allowed_origins` are as CollectSettings normalises them (no trailing slash); `keys` is read only for
    a request without Origin, so browser traffic never touches the API-keys secret."""
    origin = headers.get("origin")
    if origin is not None:
        normalised = origin.strip().rstrip("/")
        if normalised not in allowed_origins:
            message = f"origin {normalised[:200]!r} is not in the AllowedOrigins setting of this relay"
            raise CollectRejected(403, "origin_not_allowed", [{"loc": "origin", "msg": message}])
        return Sender(kind="browser", origin=normalised)
    scheme, _, presented = headers.get("authorization", "").strip().partition(" ")
    challenge = {"www-authenticate": 'Bearer realm="ttrelay"'}
    if scheme.lower() != "bearer" or not presented.strip():
        message = "a request without Origin needs Authorization: Bearer <api key>"
        raise CollectRejected(401, "api_key_required", [{"msg": message}], headers=challenge)
    record = keys().match(presented.strip())
    if record is None:
        raise CollectRejected(
            401, "invalid_api_key", [{"msg": "the API key is not valid"}], headers=challenge
        )
    return Sender(kind="backend", key=record)
