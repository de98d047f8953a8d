"""Where the visitor is (reference/consent.md section 7).

CloudFront's viewer headers are trusted only when the request proves it came through our distribution:
anyone can send `CloudFront-Viewer-Country` to a function URL. A request that shows CloudFront's marks but
fails that proof (a rotated or renamed origin secret, a forged header) has an unknown location: its TCP
peer is an edge server, whose registry country says nothing about the visitor. Otherwise the source IP is
looked up offline (registry data: the consent engine lets it only tighten the rules unless the site owner
trusts it); without that, the location is unknown, which the policy treats as opt_in.
"""

from __future__ import annotations

import hmac
import importlib
import ipaddress
import re
from collections.abc import Callable, Mapping
from functools import cache

from ttrelay.consent.model import Location

IpCountryLookup = Callable[[str], str | None]

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
# CloudFront-Viewer-Country-Region is the ISO 3166-2 suffix, at most three characters (`CA`, `TX`, `QC`).
_REGION = re.compile(r"^[A-Za-z0-9]{1,3}$")
_UNKNOWN = Location(country=None, subdivision=None, source="none")
_UNVERIFIED = Location(country=None, subdivision=None, source="cloudfront_unverified")
# Headers only CloudFront adds (or a forger imitating it); `via` is checked for "cloudfront" separately.
_CLOUDFRONT_HEADER_PREFIXES = ("cloudfront-", "x-amz-cf-")
# An IPv4 address as ipaddress writes it: four decimal octets of at most 255, without leading zeros, in
# ASCII digits. Such a text is its own canonical form; anything else is left to ipaddress.
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def locate(
    headers: Mapping[str, str],
    source_ip: str | None,
    origin_secret: str | None,
    origin_secret_header: str = "x-origin-verify",  # noqa: S107 - a header name, not a secret
    ip_lookup: IpCountryLookup | None = None,
) -> Location:
    """The visitor's location; `headers` has lower-case names. `ip_lookup` defaults to the offline table."""
    if _came_through_cloudfront(headers, origin_secret, origin_secret_header):
        country = headers.get("cloudfront-viewer-country", "").strip()
        if not _COUNTRY.match(country):
            # Behind CloudFront the source IP is an edge server's, not the visitor's: without the viewer
            # header (an origin request policy that does not forward it) the location is unknown.
            return _UNKNOWN
        region = headers.get("cloudfront-viewer-country-region", "").strip()
        # Region headers are missing for requests from inside AWS: the country alone still counts.
        subdivision = region if _REGION.match(region) else None
        return Location(country=country, subdivision=subdivision, source="cloudfront")
    if cloudfront_marks(headers):
        return _UNVERIFIED
    ip_country = _country_of_ip(source_ip, ip_lookup or offline_ip_country)
    if ip_country is not None:
        return Location(country=ip_country, subdivision=None, source="ip")
    return _UNKNOWN


def viewer_ip(
    headers: Mapping[str, str],
    source_ip: str | None,
    origin_secret: str | None,
    origin_secret_header: str = "x-origin-verify",  # noqa: S107 - a header name, not a secret
) -> str | None:
    """The visitor's IP. Behind CloudFront the TCP peer is an edge server; the visitor is in
    `CloudFront-Viewer-Address` ("ip:port"), trusted only with the origin secret."""
    if not _came_through_cloudfront(headers, origin_secret, origin_secret_header):
        # An unverified CloudFront request's peer is an edge server: sending it would misattribute.
        return None if cloudfront_marks(headers) else source_ip
    host = headers.get("cloudfront-viewer-address", "").rsplit(":", 1)[0].strip("[]")
    if not host:
        return None  # the header was not forwarded (origin request policy): no address to trust
    try:
        return canonical_ip(host)
    except ValueError:
        return None  # the edge's own address would misattribute the visitor


def canonical_ip(text: str) -> str:
    """`str(ipaddress.ip_address(text))`: the address in its canonical spelling; ValueError when `text`
    is not an IP address. The usual IPv4 address is already spelled so, and is recognised by one match (a
    tenth of the time of building the address object, on every request)."""
    if _CANONICAL_IPV4.fullmatch(text):
        return text
    return str(ipaddress.ip_address(text))


def cloudfront_marks(headers: Mapping[str, str]) -> tuple[str, ...]:
    """Names of the headers that say a request passed through CloudFront (never their values)."""
    marks = [name for name in headers if name.startswith(_CLOUDFRONT_HEADER_PREFIXES)]
    if "cloudfront" in headers.get("via", "").lower():
        marks.append("via")
    return tuple(sorted(marks))


def _came_through_cloudfront(headers: Mapping[str, str], secret: str | None, header_name: str) -> bool:
    if not secret:
        return False
    presented = headers.get(header_name.lower())
    if presented is None:
        return False
    # Constant time, so the secret cannot be guessed byte by byte from response timings.
    return hmac.compare_digest(presented.encode(), secret.encode())


def _country_of_ip(source_ip: str | None, lookup: IpCountryLookup) -> str | None:
    if not source_ip:
        return None
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return None
    if not address.is_global:
        return None  # private, loopback, link-local: no country to be had
    country = lookup(str(address))
    return country.upper() if country and _COUNTRY.match(country) else None


def offline_ip_country(ip: str) -> str | None:
    """Country of an IP from the registries' allocation data (package `iptocc`); None when not installed.

    Allocation data says where a block is registered, not where it is used; good enough to pick a regime
    when CloudFront is not in front, and the policy falls back to opt_in when this says nothing.
    """
    lookup = _iptocc_lookup()
    return lookup(ip) if lookup is not None else None


@cache
def _iptocc_lookup() -> IpCountryLookup | None:
    # Imported lazily: the table is only needed when CloudFront headers are absent.
    try:
        module = importlib.import_module("iptocc")
    except ImportError:
        return None
    country_code: IpCountryLookup = module.country_code
    return country_code
