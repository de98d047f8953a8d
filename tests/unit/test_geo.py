"""Where the visitor is: CloudFront headers only with proof, else the IP, else unknown (consent.md 7)."""

import importlib.util
import ipaddress
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ttrelay.collect import geo
from ttrelay.consent.model import Location

SECRET = "0f6b3f1e-origin-secret-for-tests"
FORGED = {"cloudfront-viewer-country": "US", "cloudfront-viewer-country-region": "TX"}
TABLE = {"81.2.69.160": "GB", "2a00:1450:4001:82a::200e": "DE", "8.8.8.8": "US"}


def fake_lookup(ip: str) -> str | None:
    return TABLE.get(ip)


def test_cloudfront_headers_with_the_origin_secret_are_trusted() -> None:
    headers = {**FORGED, "x-origin-verify": SECRET}

    location = geo.locate(headers, "81.2.69.160", SECRET, ip_lookup=fake_lookup)

    assert location == Location(country="US", subdivision="TX", source="cloudfront")


UNVERIFIED = Location(source="cloudfront_unverified")


def test_forged_cloudfront_headers_without_a_configured_secret_make_the_location_unknown() -> None:
    # Not the IP's country either: behind CloudFront the TCP peer is an edge server (often US-registered).
    location = geo.locate(FORGED, "8.8.8.8", None, ip_lookup=fake_lookup)

    assert location == UNVERIFIED


@pytest.mark.parametrize("presented", [None, "", "wrong", SECRET + "x", SECRET[:-1], SECRET.upper()])
def test_forged_cloudfront_headers_with_a_wrong_secret_make_the_location_unknown(
    presented: str | None,
) -> None:
    headers = dict(FORGED) if presented is None else {**FORGED, "x-origin-verify": presented}

    location = geo.locate(headers, "8.8.8.8", SECRET, ip_lookup=fake_lookup)

    assert location == UNVERIFIED
    assert (
        geo.viewer_ip({**headers, "cloudfront-viewer-address": "81.2.69.160:443"}, "8.8.8.8", SECRET) is None
    )


@pytest.mark.parametrize(
    "marks",
    [
        {"x-amz-cf-id": "abc=="},
        {"via": "2.0 0123456789abcdef.cloudfront.net (CloudFront)"},
        {"cloudfront-viewer-address": "81.2.69.160:443"},
        {"cloudfront-is-desktop-viewer": "true"},
    ],
)
def test_any_cloudfront_mark_without_the_secret_means_unknown_not_the_edge_ip(marks: dict[str, str]) -> None:
    assert geo.locate(marks, "8.8.8.8", SECRET, ip_lookup=fake_lookup) == UNVERIFIED
    assert geo.viewer_ip(marks, "8.8.8.8", SECRET) is None
    assert geo.cloudfront_marks(marks) == tuple(marks)


def test_a_plain_via_header_is_not_a_cloudfront_mark() -> None:
    assert geo.locate({"via": "1.1 squid"}, "8.8.8.8", SECRET, ip_lookup=fake_lookup).source == "ip"


def test_the_secret_header_name_is_configurable() -> None:
    headers = {**FORGED, "x-my-proof": SECRET}

    trusted = geo.locate(headers, None, SECRET, origin_secret_header="X-My-Proof", ip_lookup=fake_lookup)
    untrusted = geo.locate(headers, None, SECRET, ip_lookup=fake_lookup)

    assert trusted.source == "cloudfront"
    assert untrusted == UNVERIFIED


def test_country_without_region_from_inside_aws() -> None:
    headers = {"cloudfront-viewer-country": "ca", "x-origin-verify": SECRET}

    assert geo.locate(headers, None, SECRET) == Location(country="CA", subdivision=None, source="cloudfront")


def test_proven_cloudfront_without_viewer_country_is_unknown_not_the_edge_ip() -> None:
    # Behind CloudFront the source IP is an edge server's; looking it up would place the visitor wrongly.
    headers = {"x-origin-verify": SECRET, "cloudfront-viewer-country-region": "TX"}

    assert geo.locate(headers, "8.8.8.8", SECRET, ip_lookup=fake_lookup).source == "none"


@pytest.mark.parametrize(
    ("country", "region", "expected"),
    [("USA", "TX", None), ("U1", "TX", None), ("US", "TEXAS", ("US", None)), ("FR", "75", ("FR", "75"))],
)
def test_malformed_cloudfront_values_are_not_trusted(
    country: str, region: str, expected: tuple[str, str | None] | None
) -> None:
    headers = {"cloudfront-viewer-country": country, "cloudfront-viewer-country-region": region}

    location = geo.locate({**headers, "x-origin-verify": SECRET}, None, SECRET, ip_lookup=fake_lookup)

    assert (None if location.source == "none" else (location.country, location.subdivision)) == expected


def test_ipv6_source_falls_back_to_the_ip_table() -> None:
    location = geo.locate({}, "2a00:1450:4001:82a::200e", None, ip_lookup=fake_lookup)

    assert location == Location(country="DE", subdivision=None, source="ip")


@pytest.mark.parametrize(
    "source_ip", [None, "", "not-an-ip", "10.0.0.8", "127.0.0.1", "192.168.1.20", "::1", "1.1.1.1"]
)
def test_unknown_when_nothing_trustworthy(source_ip: str | None) -> None:
    # Private and loopback addresses are never looked up; 1.1.1.1 is simply not in the fake table.
    assert geo.locate({}, source_ip, None, ip_lookup=fake_lookup) == Location(source="none")


def test_lookup_answers_that_are_not_country_codes_are_ignored() -> None:
    assert geo.locate({}, "8.8.8.8", None, ip_lookup=lambda _ip: "ZZZ").source == "none"
    assert geo.locate({}, "8.8.8.8", None, ip_lookup=lambda _ip: "us").country == "US"


def test_offline_lookup_degrades_to_unknown_when_iptocc_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "iptocc", None)  # makes `import iptocc` raise ImportError
    geo._iptocc_lookup.cache_clear()
    try:
        assert geo.offline_ip_country("8.8.8.8") is None
        assert geo.locate({}, "8.8.8.8", None) == Location(source="none")
    finally:
        geo._iptocc_lookup.cache_clear()


@pytest.mark.skipif(importlib.util.find_spec("iptocc") is None, reason="iptocc is not installed")
def test_offline_lookup_with_iptocc() -> None:
    assert geo.locate({}, "8.8.8.8", None) == Location(country="US", subdivision=None, source="ip")


def _ipaddress_spelling(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _canonical_or_none(text: str) -> str | None:
    try:
        return geo.canonical_ip(text)
    except ValueError:
        return None


# Octets in range, with leading zeros or too long, and what ipaddress refuses: a non-ASCII digit (Arabic-
# Indic three), nothing, a sign, a space.
octets = (
    st.integers(0, 255).map(str)
    | st.from_regex(r"\A[0-9]{1,4}\Z")
    | st.sampled_from(["\u0663", "", "+1", " 1"])
)


@settings(max_examples=400)
@given(
    st.lists(octets, min_size=3, max_size=5).map(".".join)
    | st.ip_addresses().map(str)
    | st.text(alphabet="0123456789.:abcdefABCDEF[]% ", max_size=45)
)
def test_canonical_ip_is_what_ipaddress_writes_or_refuses(text: str) -> None:
    # The IPv4 shortcut may answer only where ipaddress gives the same text; everything else goes to it.
    assert _canonical_or_none(text) == _ipaddress_spelling(text)


@pytest.mark.parametrize(
    "text", ["010.1.1.1", "1.2.3.256", "1.2.3", "1.2.3.4.5", "\u0661.2.3.4", "1.2.3.4\n"]
)
def test_canonical_ip_refuses_what_ipaddress_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        geo.canonical_ip(text)
