"""The signed first-party click-id cookie (`ClickIdCookie`): HMAC-SHA256 under a key id so keys rotate.

Token: ``v1.<kid>.<base64url(json)>.<base64url(hmac)>``. A tampered, expired or unknown-kid token is
ignored, never trusted (DESIGN.md "Signed first-party cookie"). A token is bound to the pixel it was
issued for: one pixel's click id is never replayed into another pixel's events (a token without a pixel,
or for another one, is ignored).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

COOKIE_NAME = "ttrelay"
_VERSION = "v1"
_MIN_KEY_LENGTH = 32
# json.dumps(payload, separators=(",", ":")), without building an encoder per token.
_PAYLOAD_ENCODER = json.JSONEncoder(separators=(",", ":"))


class SigningKeysError(ValueError):
    """The signing-key secret is unusable (a deployment error, never a visitor's)."""


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """Secret JSON: {"active_kid": "k2", "k1": "<old key>", "k2": "<new key>"}."""

    active_kid: str
    keys: Mapping[str, bytes]
    # Each key's HMAC state, keyed once: a token's MAC copies it (a one-shot hmac.digest looks the
    # algorithm up in OpenSSL's provider tables on every call, twice the time).
    _macs: Mapping[str, hmac.HMAC] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        macs = {kid: hmac.new(key, digestmod="sha256") for kid, key in self.keys.items()}
        object.__setattr__(self, "_macs", macs)  # frozen: set once, here

    def mac(self, kid: str, signed_part: str) -> bytes:
        """HMAC-SHA256 of the token's signed part under key `kid` (one of `keys`)."""
        state = self._macs[kid].copy()
        state.update(signed_part.encode())
        return state.digest()

    @classmethod
    def from_secret(cls, secret: Mapping[str, object]) -> SigningKeys:
        active = secret.get("active_kid")
        keys = {
            kid: value.encode()
            for kid, value in secret.items()
            if kid != "active_kid" and isinstance(value, str)
        }
        if not isinstance(active, str) or active not in keys:
            raise SigningKeysError("active_kid must name a key present in the secret")
        if any(len(key) < _MIN_KEY_LENGTH for key in keys.values()):
            raise SigningKeysError(f"every signing key needs at least {_MIN_KEY_LENGTH} characters")
        if any("." in kid or not kid for kid in keys):
            raise SigningKeysError("key ids must be non-empty and contain no '.'")
        return cls(active_kid=active, keys=keys)


@dataclass(frozen=True, slots=True)
class ClickIdCookie:
    ttclid: str | None
    ttp: str | None
    first_seen: int
    exp: int
    pixel: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(cookie: ClickIdCookie, keys: SigningKeys) -> str:
    payload = {
        "c": cookie.ttclid,
        "p": cookie.ttp,
        "f": cookie.first_seen,
        "e": cookie.exp,
        "x": cookie.pixel,
    }
    body = _b64(_PAYLOAD_ENCODER.encode(payload).encode())
    signed_part = f"{_VERSION}.{keys.active_kid}.{body}"
    return f"{signed_part}.{_b64(keys.mac(keys.active_kid, signed_part))}"


def verify(token: str | None, keys: SigningKeys, now: int, pixel: str) -> ClickIdCookie | None:
    """The cookie if the token is genuine, unexpired and issued for `pixel`; None otherwise (never raises
    on visitor input)."""
    parts = token.split(".") if token and len(token) <= 2048 else []
    if len(parts) != 4 or parts[0] != _VERSION or parts[1] not in keys.keys:
        return None
    _, kid, body, signature = parts
    try:
        # The signature's canonical text is compared, so no second spelling of a token verifies.
        expected = _b64(keys.mac(kid, f"{_VERSION}.{kid}.{body}"))
        genuine = hmac.compare_digest(expected.encode(), signature.encode())
        cookie = _cookie_from_payload(json.loads(_unb64(body))) if genuine else None
    except (binascii.Error, ValueError):
        return None
    return cookie if cookie is not None and cookie.exp > now and cookie.pixel == pixel else None


def _cookie_from_payload(payload: object) -> ClickIdCookie | None:
    if not isinstance(payload, dict):
        return None
    ttclid, ttp, first_seen, exp = payload.get("c"), payload.get("p"), payload.get("f"), payload.get("e")
    pixel = payload.get("x")
    if not (isinstance(first_seen, int) and isinstance(exp, int) and isinstance(pixel, str)):
        return None
    if not (ttclid is None or isinstance(ttclid, str)) or not (ttp is None or isinstance(ttp, str)):
        return None
    return ClickIdCookie(ttclid=ttclid, ttp=ttp, first_seen=first_seen, exp=exp, pixel=pixel)
