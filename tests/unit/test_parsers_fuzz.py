"""Property tests of every parser of visitor input: the request body, the signed cookie, the Cookie header,
CloudFront's headers and page URLs. Each either answers or refuses in its documented way; none ever
raises something that would become a 5xx. (Consent strings: tests/unit/consent/test_decoders_fuzz.py.)
"""

import base64
import contextlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from support.fakes import MemoryQueue
from ttrelay.collect.cookie import ClickIdCookie, SigningKeys, sign, verify
from ttrelay.collect.geo import locate, viewer_ip
from ttrelay.collect.responses import CollectError
from ttrelay.collect.use_case import CollectDeps, CollectRejected, HttpRequest, collect
from ttrelay.config import CollectSettings
from ttrelay.consent.cmp_cookies import consent_from_cookie_header, parse_cookie_header
from ttrelay.consent.policy import load_policy
from ttrelay.models import CollectRequest
from ttrelay.privacy.page_urls import scrub_url, ttclid_from_url

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIXEL = "CTTRELAYTESTPIXEL001"
SITE = "https://shop.example.com"
NOW = 1_795_000_000
KEYS = SigningKeys.from_secret({"active_kid": "k2", "k1": "1" * 40, "k2": "2" * 40})
OTHER_KEYS = SigningKeys.from_secret({"active_kid": "k2", "k2": "z" * 40})
ORIGIN_SECRET = "fuzz-origin-secret"

# --- strategies --------------------------------------------------------------------------------------

# Header and cookie text: what a decoded HTTP header can hold (encodable, so no lone surrogates).
plain_text = st.text(st.characters(codec="utf-8"), max_size=40)
# Body text: lone surrogates too, since a JSON body can carry "\ud800" escapes.
any_text = st.text(st.characters(), max_size=40)


def _field_names(schema: dict[str, Any]) -> Iterator[str]:
    for definition in [schema, *schema.get("$defs", {}).values()]:
        yield from definition.get("properties", {})


# The request's own field names, so generated objects reach past the top level of the models.
FIELD_NAMES = sorted(set(_field_names(CollectRequest.model_json_schema())))
keys = st.sampled_from(FIELD_NAMES) | any_text
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | any_text
    | st.sampled_from(["Purchase", PIXEL, "EUR", "granted", "1YNN", "2025-01-01"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


def query_string(pairs: list[tuple[str, str]]) -> str:
    # surrogatepass: a lone surrogate becomes percent-encoded invalid UTF-8, as a broken page sends it.
    encoded = [
        f"{quote(name, errors='surrogatepass')}={quote(value, errors='surrogatepass')}"
        for name, value in pairs
    ]
    return "?" + "&".join(encoded) if pairs else ""


urls = st.builds(
    "{}{}{}{}{}{}{}".format,
    st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "javascript:", "//", ""]),
    st.sampled_from(["", "user:pass@", "a@b@", "@"]),
    st.sampled_from(["shop.example.com", "[::1]", "[v1.x]", "[", "]", "xn--bcher-kva.de", "", "a b"])
    | any_text,
    st.sampled_from(["", ":443", ":0", ":99999", ":abc", ":", ":-1"]),
    st.sampled_from(["", "/", "/p/1", "/%zz", "/a;b"]),
    st.lists(
        st.tuples(
            st.sampled_from(["ttclid", "email", "E-Mail", "q", "phone", "token", "first", "customer_name"])
            | any_text,
            st.sampled_from(["", "E.C.P.1", "jane@example.com", "%40", "x", "amFuZS5kb2VAZXhhbXBsZS5jb20"])
            | any_text,
        ),
        max_size=4,
    ).map(query_string),
    st.sampled_from(["", "#frag", "#", "#a?b=c"]),
)
any_url = urls | any_text | st.none()

identifiers = plain_text | st.lists(plain_text, max_size=3) | st.sampled_from(["+1 415-555-0132", "A@B.CO"])
# Mostly well-formed and consented, so a body gets past validation into consent, the cookie, hashing and
# the URLs; the leaves that are free text in the models are fuzzed freely.
events = st.fixed_dictionaries(
    {
        "event": st.sampled_from(["Purchase", "ViewContent"])
        | st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,30}", fullmatch=True)
    },
    optional={
        "event_id": st.from_regex(r"[\x21-\x7e]{1,30}", fullmatch=True),
        "event_time": st.integers(NOW - 6 * 86_400, NOW + 60),
        "properties": st.fixed_dictionaries(
            {},
            optional={
                "value": st.floats(0, 10**6),
                "currency": st.sampled_from(["EUR", "USD"]),
                "contents": st.lists(
                    st.fixed_dictionaries(
                        {"content_id": st.integers(0) | plain_text.filter(bool)},
                        optional={"price": st.floats(0, 10**6), "quantity": st.integers(0, 10)},
                    ),
                    max_size=3,
                ),
                "content_ids": st.lists(plain_text.filter(bool), max_size=3),
                "order_id": any_text,
            },
        ),
    },
)
GENUINE_TOKEN = sign(ClickIdCookie("E.C.P.cookie", "ttp-1", NOW - 5, NOW + 3600, PIXEL), KEYS)
request_bodies = st.fixed_dictionaries(
    {
        "consent": st.fixed_dictionaries({"cmp": st.just({"marketing": True})}, optional={"usp": plain_text}),
        "events": st.lists(events, min_size=1, max_size=3),
        "context": st.fixed_dictionaries(
            {"page_url": any_url, "referrer": any_url},
            optional={
                "ttclid": plain_text,
                "ttp": plain_text,
                "locale": plain_text,
                "token": st.sampled_from([GENUINE_TOKEN, GENUINE_TOKEN[:-1]]) | any_text,
            },
        ),
    },
    optional={
        "pixel_code": st.sampled_from([PIXEL, None]),
        "user": st.fixed_dictionaries(
            {}, optional={"email": identifiers, "phone": identifiers, "external_id": identifiers}
        ),
    },
)


def json_bytes(value: object) -> bytes:
    # ensure_ascii keeps lone surrogates as \ud800 escapes, as a browser's JSON.stringify would send them.
    return json.dumps(value, ensure_ascii=True).encode()


# json.loads recurses once per nesting level: deep bodies must be refused, not crash the parser.
deeply_nested = st.builds(
    lambda depth, opener, closer: b'{"events": ' + opener * depth + closer * depth + b"}",
    st.integers(1, 30_000),
    st.sampled_from([b"[", b'{"a":']),
    st.sampled_from([b"]", b"}"]),
)
raw_bodies = (
    st.binary(max_size=200)
    | deeply_nested
    | json_values.map(json_bytes)
    | request_bodies.map(json_bytes)
    | request_bodies.map(lambda body: json.dumps(body).encode("utf-16", "surrogatepass"))
)


def run_collect(body: bytes, content_type: str, cookie_header: str = "") -> CollectRejected | None:
    """The collector's refusal of the request, or None when it answered 202."""
    deps = CollectDeps(
        settings=CollectSettings.model_validate(
            {
                "events_queue_url": "q",
                "cookie_keys_secret_arn": "s",
                "pixel_codes": (PIXEL,),
                "allowed_origins": (SITE,),
            }
        ),
        queue=MemoryQueue(),
        policy=load_policy(),
        signing_keys=lambda: KEYS,
        clock=lambda: float(NOW),
    )
    request = HttpRequest(
        body=body,
        headers={"content-type": content_type, "origin": SITE},
        cookies=parse_cookie_header(cookie_header),
        source_ip="203.0.113.24",
        user_agent="Mozilla/5.0 fuzz",
    )
    try:
        collect(request, deps)
    except CollectRejected as rejection:
        return rejection
    return None


def assert_answered_or_refused_with_a_4xx(rejection: CollectRejected | None) -> None:
    event("answered 202" if rejection is None else f"rejected: {rejection.error}")
    if rejection is None:
        return
    assert 400 <= rejection.status < 500
    assert rejection.status != 400 or rejection.errors  # a 400 always says what is wrong
    # The handler answers through this model: an error it cannot hold would become a 500.
    CollectError.model_validate({"error": rejection.error, "errors": rejection.errors})


# --- the request body ---------------------------------------------------------------------------------


@FUZZ
@given(json_values | request_bodies)
def test_request_model_only_ever_raises_a_validation_error(value: object) -> None:
    with contextlib.suppress(ValidationError):
        CollectRequest.model_validate(value)


@FUZZ
@given(raw_bodies, st.sampled_from(["application/json", "text/plain;charset=UTF-8", "text/html"]))
def test_collect_answers_any_body_or_rejects_it_with_a_4xx(body: bytes, content_type: str) -> None:
    assert_answered_or_refused_with_a_4xx(run_collect(body, content_type))


# --- the signed click-id cookie -------------------------------------------------------------------


cookies = st.builds(
    ClickIdCookie,
    ttclid=st.none() | any_text,
    ttp=st.none() | any_text,
    first_seen=st.integers(0, NOW),
    exp=st.integers(NOW + 1, 2**40),
    pixel=st.just(PIXEL),
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@FUZZ
@given(
    any_text
    | st.builds(
        "v1.{}.{}.{}".format,
        st.sampled_from(["k1", "k2", "k3", ""]),
        json_values.map(lambda value: b64(json.dumps(value).encode())) | any_text,
        st.binary(max_size=40).map(b64) | any_text,
    )
)
def test_cookie_verifier_never_raises_and_never_accepts_a_token_it_did_not_sign(token: str) -> None:
    assert verify(token, KEYS, NOW, PIXEL) is None


@FUZZ
@given(cookies)
def test_a_token_signed_with_other_keys_is_never_accepted(cookie: ClickIdCookie) -> None:
    assert verify(sign(cookie, OTHER_KEYS), KEYS, NOW, PIXEL) is None


@FUZZ
@given(cookies, st.data())
def test_mutations_of_a_genuine_token_are_rejected(cookie: ClickIdCookie, data: st.DataObject) -> None:
    token = sign(cookie, KEYS)
    assert verify(token, KEYS, NOW, PIXEL) == cookie
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(["", "A", "_", "-", ".", "=", "é", "0"]) | any_text)
    mutated = token[:position] + replacement + token[position + 1 :]
    assume(mutated != token)
    accepted = verify(mutated, KEYS, NOW, PIXEL)
    signed_part = token.rsplit(".", 1)[0]
    if not mutated.startswith(signed_part + "."):
        assert accepted is None, mutated
    else:
        # Only the signature's base64 spelling changed: at most the same cookie, never another one.
        assert accepted in (None, cookie), mutated


# --- the Cookie header and the CMP cookies in it ---------------------------------------------------

CMP_COOKIE_NAMES = ["OptanonConsent", "CookieConsent", "didomi_token", "klaro", "cc_cookie", "euconsent-v2"]
cmp_values = (
    plain_text
    | json_values.map(lambda value: quote(json.dumps(value)))
    | json_values.map(lambda value: b64(json.dumps(value).encode()))
    | st.builds("groups={}".format, plain_text.map(quote))
    | st.sampled_from(["-1", "{marketing:true}", '"quoted"', "groups=C0004:1"])
)
cookie_headers = plain_text | st.lists(
    st.tuples(st.sampled_from(CMP_COOKIE_NAMES) | plain_text, cmp_values), max_size=5
).map(lambda pairs: "; ".join(f"{name}={value}" for name, value in pairs))


@FUZZ
@given(cookie_headers | st.none())
def test_cookie_header_parsing_never_raises_and_yields_names_without_separators(header: str | None) -> None:
    cookies = parse_cookie_header(header)
    for name, value in cookies.items():
        assert name and name == name.strip() and ";" not in name and "=" not in name
        assert ";" not in value
    consent = consent_from_cookie_header(header)
    assert consent.cmp is None or set(consent.cmp) == {"marketing"}


@FUZZ
@given(cookie_headers, request_bodies)
def test_collect_with_any_cmp_cookies_answers_or_rejects(header: str, body: dict[str, Any]) -> None:
    # No consent in the body: the CMP cookies decide.
    assert_answered_or_refused_with_a_4xx(
        run_collect(json_bytes({**body, "consent": {}}), "application/json", header)
    )


# --- CloudFront's viewer headers ---------------------------------------------------------------------

header_names = st.sampled_from(
    [
        "cloudfront-viewer-country",
        "cloudfront-viewer-country-region",
        "cloudfront-viewer-address",
        "x-origin-verify",
        "via",
        "x-amz-cf-id",
    ]
)


@FUZZ
@given(
    st.dictionaries(header_names, plain_text | st.sampled_from(["US", "de", "[::1]:443", "1.2.3.4:5"])),
    st.booleans(),
    st.none() | plain_text | st.sampled_from(["203.0.113.24", "::1", "10.0.0.1"]),
)
def test_location_and_viewer_ip_never_raise(headers: dict[str, str], proven: bool, source_ip: Any) -> None:
    if proven:
        headers = {**headers, "x-origin-verify": ORIGIN_SECRET}
    location = locate(headers, source_ip, ORIGIN_SECRET)
    assert location.country is None or (len(location.country) == 2 and location.country.isascii())
    viewer_ip(headers, source_ip, ORIGIN_SECRET)


# --- page URLs ---------------------------------------------------------------------------------------


@FUZZ
@given(any_url)
def test_ttclid_from_url_never_raises(url: str | None) -> None:
    ttclid = ttclid_from_url(url)
    assert ttclid is None or (0 < len(ttclid) <= 512)


@FUZZ
@given(any_url)
def test_scrub_url_returns_none_or_an_http_url_without_userinfo_fragment_or_pii(url: str | None) -> None:
    scrubbed = scrub_url(url)
    if scrubbed is None:
        return
    parts = urlsplit(scrubbed)
    assert parts.scheme in ("http", "https"), scrubbed
    assert parts.netloc and "@" not in parts.netloc, scrubbed
    assert "#" not in scrubbed, scrubbed
    names = [name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not {"email", "e-mail", "phone", "token", "first", "customer_name"} & set(names), scrubbed


@FUZZ
@given(urls)
def test_scrub_url_keeps_the_host_and_port(url: str) -> None:
    scrubbed = scrub_url(url)
    if scrubbed is None:
        return
    before, after = urlsplit(url), urlsplit(scrubbed)
    assert (after.hostname, after.port) == (before.hostname, before.port), (url, scrubbed)


@pytest.mark.parametrize(
    "url", ["http://shop.example.com:abc/", "https://shop.example.com:99999/", "http://["]
)
def test_page_urls_with_a_bad_port_or_host_are_dropped_not_raised(url: str) -> None:
    assert scrub_url(url) is None
    assert ttclid_from_url(url) is None
