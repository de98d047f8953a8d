"""CORS for the collector: which pages may read its answers, and what a preflight is told.

One route (`POST /events`) and a fixed policy, decided once from the settings: the site's own origins,
with credentials (the click-id cookie), and a preflight cached for ten minutes. Every answer varies on
the request's Origin (admission and these headers depend on it), so no cache in between may hand one
origin's answer to another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ttrelay.collect.senders import SANDBOXED_ORIGIN

PREFLIGHT_MAX_AGE_S: Final = 600
ALLOWED_METHODS: Final = ("OPTIONS", "POST")
# What a page may send. Through the CloudFront front door (OAC) a POST must carry its body's SHA-256 in
# X-Amz-Content-Sha256 (docs/deploy.md); the others are what API clients commonly add.
ALLOWED_HEADERS: Final = (
    "Authorization",
    "Content-Type",
    "X-Amz-Content-Sha256",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Api-Key",
)
_NONE: Final[MappingProxyType[str, str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """The site's origins may read answers with credentials; nobody else is named."""

    allowed_origins: frozenset[str]

    @classmethod
    def of(cls, origins: Iterable[str]) -> CorsPolicy:
        return cls(frozenset(origins))

    def headers_for(self, origin: str | None) -> MappingProxyType[str, str]:
        """The CORS headers for an answer to `origin`: none unless it is one of the site's, matched
        exactly as the browser sent it (the browser compares Allow-Origin with its own, byte for byte)."""
        if origin is None or origin not in self.allowed_origins:
            return _NONE
        return MappingProxyType({**_SITE_HEADERS, "Access-Control-Allow-Origin": origin})

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        """A preflight's 204: the methods, plus the site's headers when the origin is allowed."""
        return {**self.headers_for(origin), "Access-Control-Allow-Methods": ",".join(ALLOWED_METHODS)}


def readable_by_sandboxed_page(origin: str | None) -> dict[str, str]:
    """A sandboxed page (Origin `null`, e.g. a Shopify custom pixel) may read the answer to its POST, 4xx
    included: `*`, never with credentials, so no cookie of ours is sent or set that way."""
    return {"Access-Control-Allow-Origin": "*"} if origin == SANDBOXED_ORIGIN else {}


_SITE_HEADERS: Final = {
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Allow-Headers": ",".join(ALLOWED_HEADERS),
    "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
}
