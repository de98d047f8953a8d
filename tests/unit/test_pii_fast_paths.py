"""The privacy hot path's shortcuts (issue 18) give exactly what the plain reading gives.

`reference_scrubbed` below is ttrelay.privacy.pii_readings as it was before the shortcuts: every text
normalised and read round by round, base64 runs substituted one callback each, decoded bytes checked by
raising UnicodeDecodeError. The properties compare the module with it over texts built from the pieces
that steer each branch: ASCII and not, '%' escapes, '@', digit groups, base64 runs that decode to an
address, a phone number, other text or binary. A change that makes a shortcut looser or stricter than
the reading it stands for fails here. Page URLs (parse_qsl, urlunsplit, name parts) and property
values (scalars before the Mapping check) are compared with their previous code the same way.
"""

import base64
import binascii
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ttrelay.models import is_click_token
from ttrelay.privacy import page_urls, pii_readings
from ttrelay.privacy.page_urls import (
    DEFAULT_URL_POLICY,
    REDACTED_SEGMENT,
    UrlPolicy,
    scrub_url,
    ttclid_from_url,
)
from ttrelay.privacy.person_names import name_parts
from ttrelay.privacy.pii_readings import (
    MAX_PERCENT_ROUNDS,
    MIN_BASE64_RUN,
    Unreadable,
    holds_pii,
    normalised,
    percent_decoded,
    scrub_text,
)
from ttrelay.privacy.pii_shapes import (
    MIN_PHONE_DIGITS,
    REDACTED,
    PhoneRule,
    contains_email,
    contains_phone_by,
    is_phone_number,
    redact_text,
)
from ttrelay.privacy.redaction import IDENTIFIER_PROPERTIES, redact_properties

EQUIVALENCE = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULES: tuple[PhoneRule, ...] = ("any", "written", "none")

# ---- the plain reading, as it was -------------------------------------------------------------------

_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/_-]{{{MIN_BASE64_RUN},}}={{0,2}}")
_STILL_ENCODED_TOKEN = re.compile(r"\S*%[0-9A-Fa-f]{2}\S*")
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def reference_scrubbed(text: str, phones: PhoneRule) -> tuple[str, bool]:
    try:
        return _reference_read(text, phones)
    except Unreadable:
        return REDACTED, True


def _reference_read(text: str, phones: PhoneRule) -> tuple[str, bool]:
    current = normalised(text)
    found = False
    budget = 3 * len(text) + 32
    for round_ in range(MAX_PERCENT_ROUNDS + 1):
        budget -= len(current)
        if budget < 0:
            raise Unreadable
        cleaned = _reference_redacted(current, phones)
        found = found or cleaned != current
        current = cleaned
        if "%" not in current:
            break
        if round_ == MAX_PERCENT_ROUNDS:
            if found or _ESCAPE_RUN.search(current):
                current = _STILL_ENCODED_TOKEN.sub(REDACTED, current)
                found = True
            break
        decoded = percent_decoded(current)
        if decoded == current:
            break
        if len(decoded) > budget:
            raise Unreadable
        current = normalised(decoded)
    return (current, True) if found else (text, False)


def _reference_redacted(text: str, phones: PhoneRule) -> str:
    if len(text) >= MIN_BASE64_RUN:
        text = _BASE64_RUN.sub(
            lambda run: REDACTED if _reference_decodes_to_pii(run.group(), phones) else run.group(), text
        )
    return redact_text(text, phones)


def _reference_decodes_to_pii(run: str, phones: PhoneRule) -> bool:
    parts = [run, *(part for part in run.split("/") if len(part) >= MIN_BASE64_RUN)]
    return any(_reference_decoded_holds_pii(part, phones) for part in parts)


def _reference_decoded_holds_pii(run: str, phones: PhoneRule) -> bool:
    standard = run.rstrip("=").replace("-", "+").replace("_", "/")
    if len(standard) % 4 == 1:
        return False
    try:
        raw = binascii.a2b_base64(standard + "=" * (-len(standard) % 4), strict_mode=True)
    except binascii.Error:
        return False
    try:
        decoded = normalised(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return False
    except Unreadable:
        return True
    return contains_email(decoded) or contains_phone_by(decoded, phones)


# ---- texts that reach every branch ------------------------------------------------------------------


def _b64(text: str | bytes, urlsafe: bool) -> str:
    raw = text.encode() if isinstance(text, str) else text
    encoded = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    return encoded.decode()


PII = st.sampled_from(
    [
        "jane@example.com",
        "a@b.co",
        "+44 20 7946 0958",
        "415-555-0132",
        "0612345678",
        "(415) 555 0132",
        "6 12 34 56 78",  # nine digits: the fewest a phone has
        "612345678",
    ]
)
WORDS = st.sampled_from(
    ["checkout", "complete", "EUR", "SKU-TR2-BLU-9", "utm_source=tt", "order=0", "Trail Runner 2", "x"]
)
ENCODABLE = PII | WORDS | st.text(alphabet="ab@.+-0123456789 ", max_size=16)
BASE64 = st.builds(_b64, ENCODABLE | st.binary(max_size=24), st.booleans())
PERCENT = st.builds(
    lambda text, safe: quote(quote(text, safe=safe), safe=""), ENCODABLE, st.sampled_from(["", "@"])
)
FRAGMENTS = (
    PII
    | WORDS
    | BASE64
    | PERCENT
    | st.text(alphabet="ab.@ -()+/%=_0123456789\t", max_size=12)
    | st.text(alphabet="\uff10\uff11\uff20\u00a0\u200b\ufdfa\u00e9A%2", max_size=6)
    | st.sampled_from(["/", "&", "=", "+", " ", "%", "%2", "%40", "@", "==", "."])
)
TEXTS = st.lists(FRAGMENTS, max_size=8).map("".join) | st.text(max_size=40)


@EQUIVALENCE
@given(TEXTS, st.sampled_from(RULES))
def test_the_scrubbed_text_and_the_verdict_are_those_of_the_plain_reading(
    text: str, phones: PhoneRule
) -> None:
    expected = reference_scrubbed(text, phones)
    assert scrub_text(text, phones) == expected[0]
    assert holds_pii(text, phones) is expected[1]


@EQUIVALENCE
@given(st.lists(WORDS | BASE64 | st.sampled_from(["/", " ", "=", "-", "_", "!"]), max_size=8).map("".join))
def test_base64_runs_are_redacted_as_one_substitution_per_run_would(text: str) -> None:
    for phones in RULES:
        assert pii_readings._base64_redacted(text, phones) == _BASE64_RUN.sub(
            lambda run, rule=phones: (
                REDACTED if _reference_decodes_to_pii(run.group(), rule) else run.group()
            ),
            text,
        )


@EQUIVALENCE
@given(st.binary(max_size=40) | st.text(max_size=12).map(str.encode))
def test_binary_is_told_from_utf8_text_as_the_strict_decoder_tells_it(raw: bytes) -> None:
    run = base64.b64encode(raw).decode()
    for phones in RULES:
        assert pii_readings._decoded_holds_pii(run, phones) is _reference_decoded_holds_pii(run, phones)
    try:
        raw.decode("utf-8")
        strict = True
    except UnicodeDecodeError:
        strict = False
    escaped = raw.decode("utf-8", "surrogateescape")
    assert (pii_readings._UNDECODED_BYTE.search(escaped) is None) is strict


def test_the_shortcut_for_plain_ascii_needs_nine_digits_or_an_at_sign_to_look_for_more() -> None:
    # The reason the shortcut may skip the phone and address passes: neither shape fits in less.
    assert MIN_PHONE_DIGITS == 9
    assert not contains_phone_by("12345678", "any")
    assert contains_phone_by("123456789", "any")
    for text in ["checkout", "utm_source", "Qm7vXk2LpR9sTz4Hn8cWd1YbFa3", "12345678 tel"]:
        for phones in RULES:
            assert reference_scrubbed(text, phones) == (text, False)
            assert holds_pii(text, phones) is False


# ---- page URLs and properties -----------------------------------------------------------------------


def reference_ttclid_from_url(url: str) -> str | None:
    try:
        query = urlsplit(url).query
    except ValueError:
        return None
    for name, value in parse_qsl(query, keep_blank_values=False):
        if name == "ttclid" and is_click_token(value):
            return value
    return None


def reference_scrub_url(url: str, policy: UrlPolicy = DEFAULT_URL_POLICY) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    path = "/".join(
        REDACTED_SEGMENT if page_urls._looks_personal(segment) else segment
        for segment in parts.path.split("/")
    )
    check_values = page_urls._looks_personal(parts.query)
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair
        and not (check_values and page_urls._looks_personal(pair))
        and reference_keeps_name(policy, unquote_plus(pair.partition("=")[0]))
    ]
    return urlunsplit((parts.scheme, netloc, path, "&".join(kept), ""))


def reference_keeps_name(policy: UrlPolicy, name: str) -> bool:
    lowered = name.lower()
    if lowered in page_urls.ALWAYS_KEPT or lowered.startswith(page_urls.ALWAYS_KEPT_PREFIX):
        return True
    if policy.mode == "allowlist":
        return lowered in policy.allowed_names
    denied = policy.denied_name_parts
    if lowered in denied or not denied.isdisjoint(name_parts(name)):
        return False
    return not policy.person_names.names_a_person(name)


NAMES = st.sampled_from(
    [
        "ttclid",
        "tt%63lid",
        "TTCLID",
        "ttclid+",
        "order",
        "email",
        "Email",
        "customer_name",
        "page",
        "é",
        "utm_x",
        "",
        "émail",  # one lower-case word, but not ASCII: its parts are read ("mail")
    ]
) | st.text(alphabet="abcAB_%2+é", max_size=8)
VALUES = st.sampled_from(
    ["E.C.P.abc", "", "x%40y.co", "jane@example.com", "+44 20 7946 0958", "a+b", "%"]
) | st.text(alphabet="ab@.%4+0123456789=", max_size=10)
PAIRS = st.builds(
    lambda name, eq, value: f"{name}{eq}{value}", NAMES, st.sampled_from(["=", "", "=="]), VALUES
)
QUERIES = st.lists(PAIRS, max_size=5).map("&".join)
PATHS = st.lists(FRAGMENTS, max_size=4).map(lambda segments: "/" + "/".join(segments)) | st.just("")
URLS = st.builds(
    lambda scheme, host, path, query, fragment: f"{scheme}://{host}{path}{query}{fragment}",
    st.sampled_from(["https", "http", "HTTP", "ftp", ""]),
    st.sampled_from(
        ["shop.example.com", "Shop.Example.com:8443", "u:p@h.example", "[::1]:80", "h:99999", "[", ""]
    ),
    PATHS,
    st.one_of(st.just(""), QUERIES.map(lambda query: "?" + query)),
    st.sampled_from(["", "#top", "#a@b.co"]),
)


@EQUIVALENCE
@given(URLS)
def test_page_urls_are_scrubbed_and_their_click_id_read_as_before(url: str) -> None:
    assert scrub_url(url) == reference_scrub_url(url)
    assert ttclid_from_url(url) == reference_ttclid_from_url(url)
    allowlist = UrlPolicy.of("allowlist", (), ("order", "page"))
    assert scrub_url(url, allowlist) == reference_scrub_url(url, allowlist)


@EQUIVALENCE
@given(NAMES)
def test_parameter_names_are_kept_or_dropped_as_before(name: str) -> None:
    assert DEFAULT_URL_POLICY.keeps_name(name) is reference_keeps_name(DEFAULT_URL_POLICY, name)


@EQUIVALENCE
@given(
    st.recursive(
        TEXTS | st.floats(allow_nan=False) | st.integers() | st.booleans() | st.none(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
        max_leaves=8,
    )
)
def test_property_values_are_redacted_as_before(value: object) -> None:
    properties = {"description": value, "order_id": value, "customer_name": value}
    assert redact_properties(properties) == reference_redact_properties(properties)


def reference_redact_properties(properties: Mapping[str, object]) -> dict[str, object]:
    return {
        key: _reference_property(value, key in IDENTIFIER_PROPERTIES)
        for key, value in properties.items()
        if not DEFAULT_URL_POLICY.person_names.names_a_person(key)
    }


def _reference_property(value: object, identifier: bool) -> object:
    if isinstance(value, str):
        if identifier:
            return REDACTED if is_phone_number(value, bare_digits=False) else scrub_text(value, phones="none")
        if value[:8].lower().startswith(("http://", "https://")) and value.split() == [value]:
            return reference_scrub_url(value)
        return scrub_text(value)
    if isinstance(value, list):
        return [_reference_property(item, identifier) for item in value]
    if isinstance(value, Mapping):
        return reference_redact_properties(value)
    return value


# ---- the memo of clean base64 runs ------------------------------------------------------------------


def test_only_runs_that_decode_to_nothing_personal_are_remembered() -> None:
    """A site's own base64-looking words are read once; a run holding an address is read every time, so
    the memo never holds one, and remembering never turns a finding into a miss."""
    pii_readings._clean.seen.clear()
    address_run = base64.b64encode(b"jane@example.com").decode()
    text = f"checkout {address_run} utm_source"
    for _ in range(3):
        assert holds_pii(text, "written")
        assert scrub_text(text, "written").count(REDACTED) == 1
    remembered = {text for _, text, _ in pii_readings._clean.seen}
    assert "checkout" in remembered and "utm_source" in remembered  # the runs, read once
    assert not any("amFuZU" in text for text in remembered)  # base64 of "jane@": never kept
    assert holds_pii("jane@example.com", "any") and not holds_pii("Trail Runner 2", "any")
    remembered = {text for _, text, _ in pii_readings._clean.seen}
    assert "Trail Runner 2" in remembered and "jane@example.com" not in remembered


@EQUIVALENCE
@given(
    st.lists(
        st.sampled_from(["checkout", "utm_source", "SKU-TR2-BLU-9", "dGVzdEBleGFtcGxlLmNvbQ"]), max_size=4
    )
)
def test_a_remembered_answer_is_the_answer_of_a_fresh_reading(words: list[str]) -> None:
    text = "/".join(words)
    remembered = holds_pii(text, "any"), scrub_text(text, "any")
    pii_readings._clean.seen.clear()
    assert (holds_pii(text, "any"), scrub_text(text, "any")) == remembered


def test_the_memo_is_bounded_in_entries_and_in_the_length_of_each() -> None:
    pii_readings._clean.seen.clear()
    for number in range(pii_readings.MAX_REMEMBERED + 10):
        holds_pii(f"word{number:08d}x", "none")
    assert 0 < len(pii_readings._clean.seen) <= pii_readings.MAX_REMEMBERED
    pii_readings._clean.seen.clear()
    long_run = "A" * (pii_readings.MAX_REMEMBERED_LENGTH + 1)
    assert not holds_pii(long_run, "none")
    assert not pii_readings._clean.seen  # a crafted body's long texts cannot fill memory
