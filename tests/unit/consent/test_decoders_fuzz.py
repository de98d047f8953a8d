"""Property tests: encode/decode round trips, garbage input, huge input in bounded time and memory."""

import contextlib
import string
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.encoders import (
    BASE64URL_ALPHABET,
    US_LAYOUTS,
    RangeEntry,
    TcCore,
    UsLayout,
    fibonacci,
    gpp_string,
    id_runs,
    publisher_tc_segment,
    restrictions_section,
    tc_string,
    to_base64url,
    uint,
    us_core,
    us_section,
    vendor_section,
    vendors_segment,
)
from ttrelay.consent.errors import ConsentStringError
from ttrelay.consent.gpp import decode_gpp
from ttrelay.consent.tcf import decode_tcf
from ttrelay.consent.usp import decode_usp

DECODERS: tuple[Callable[[str], object], ...] = (decode_tcf, decode_gpp, decode_usp)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies --------------------------------------------------------------------------------------


@st.composite
def range_entries_for(draw: st.DrawFn, ids: set[int]) -> list[RangeEntry]:
    """Range entries whose union is exactly `ids`: runs split at random, some repeated or overlapping,
    singles written either way, all shuffled (order is not significant, rule 1.6.4)."""
    entries: list[RangeEntry] = []
    for first, last in id_runs(ids):
        start = first
        while start <= last:
            end = draw(st.integers(start, last))
            single_as_int = start == end and draw(st.booleans())
            entries.append(start if single_as_int else (start, end))
            # Sometimes an overlapping entry that reaches back into what is already covered.
            if draw(st.integers(0, 4)) == 0:
                entries.append((draw(st.integers(first, end)), end))
            start = end + 1
    return draw(st.permutations(entries))


@st.composite
def vendor_sections(draw: st.DrawFn) -> tuple[str, tuple[int, ...]]:
    """(bits of a vendor section, the ids it holds) in bitfield or range encoding."""
    max_vendor_id = draw(st.one_of(st.integers(0, 400), st.sampled_from([1000, 1400, 65535])))
    ids = draw(st.sets(st.integers(1, max_vendor_id), max_size=40)) if max_vendor_id else set()
    if ids and draw(st.booleans()):
        # MaxVendorId may exceed the highest id; ranges just must not go above it.
        ranges = draw(range_entries_for(ids))
        return vendor_section(max_vendor_id=max_vendor_id, ranges=ranges), tuple(sorted(ids))
    return vendor_section(max_vendor_id=max_vendor_id, ids=ids), tuple(sorted(ids))


def _id_sets(width: int) -> st.SearchStrategy[set[int]]:
    return st.sets(st.integers(1, width), max_size=width)


@st.composite
def tc_strings(draw: st.DrawFn) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(TC string, expected as_dict(), expected optional segments)."""
    letters = st.text(string.ascii_uppercase, min_size=2, max_size=2)
    created = draw(st.integers(0, (1 << 36) - 1))
    updated = draw(st.integers(0, (1 << 36) - 1))
    consents_bits, consents = draw(vendor_sections())
    li_bits, legitimate_interests = draw(vendor_sections())
    restrictions = draw(
        st.lists(
            st.tuples(
                st.integers(0, 63), st.integers(0, 3), st.sets(st.integers(1, 65535), min_size=0, max_size=8)
            ),
            max_size=6,
        )
    )
    restriction_entries = [(p, t, draw(range_entries_for(ids))) for p, t, ids in restrictions]
    merged: dict[tuple[int, int], set[int]] = {}
    for purpose, restriction_type, ids in restrictions:
        merged.setdefault((purpose, restriction_type), set()).update(ids)
    core = TcCore(
        created_ds=created,
        last_updated_ds=updated,
        cmp_id=draw(st.integers(0, 4095)),
        cmp_version=draw(st.integers(0, 4095)),
        consent_screen=draw(st.integers(0, 63)),
        consent_language=draw(letters),
        vendor_list_version=draw(st.integers(0, 4095)),
        tcf_policy_version=draw(st.integers(0, 63)),
        is_service_specific=draw(st.booleans()),
        use_non_standard_texts=draw(st.booleans()),
        special_feature_optins=draw(_id_sets(12)),
        purpose_consents=draw(_id_sets(24)),
        purpose_legitimate_interests=draw(_id_sets(24)),
        purpose_one_treatment=draw(st.booleans()),
        publisher_cc=draw(letters),
        vendor_consents=consents_bits,
        vendor_legitimate_interests=li_bits,
        publisher_restrictions=restrictions_section(restriction_entries),
    )
    expected = {
        "version": 2,
        "created": created // 10,
        "last_updated": updated // 10,
        "cmp_id": core.cmp_id,
        "cmp_version": core.cmp_version,
        "consent_screen": core.consent_screen,
        "consent_language": core.consent_language,
        "vendor_list_version": core.vendor_list_version,
        "tcf_policy_version": core.tcf_policy_version,
        "is_service_specific": core.is_service_specific,
        "use_non_standard_texts": core.use_non_standard_texts,
        "special_feature_optins": sorted(core.special_feature_optins),
        "purpose_consents": sorted(core.purpose_consents),
        "purpose_legitimate_interests": sorted(core.purpose_legitimate_interests),
        "purpose_one_treatment": core.purpose_one_treatment,
        "publisher_cc": core.publisher_cc,
        "vendor_consents": list(consents),
        "vendor_legitimate_interests": list(legitimate_interests),
        "publisher_restrictions": [
            {"purpose": purpose, "type": restriction_type, "vendors": sorted(ids)}
            for (purpose, restriction_type), ids in sorted(merged.items())
        ],
    }
    padding = draw(st.text("01", max_size=20))  # rule 1.6.7: any padding value
    segments: list[str] = []
    extra: dict[str, Any] = {"disclosed_vendors": None, "allowed_vendors": None, "publisher_consents": None}
    if draw(st.booleans()):
        bits, ids = draw(vendor_sections())
        segments.append(vendors_segment(1, bits))
        extra["disclosed_vendors"] = ids
    if draw(st.booleans()):
        bits, ids = draw(vendor_sections())
        segments.append(vendors_segment(2, bits))
        extra["allowed_vendors"] = ids
    if draw(st.booleans()):
        consents_of_publisher = draw(_id_sets(24))
        segments.append(
            publisher_tc_segment(consents=consents_of_publisher, num_custom=draw(st.integers(0, 63)))
        )
        extra["publisher_consents"] = tuple(sorted(consents_of_publisher))
    return tc_string(core.bits() + padding, *draw(st.permutations(segments))), expected, extra


@st.composite
def us_sections(draw: st.DrawFn, layout: UsLayout) -> tuple[str, dict[str, Any]]:
    """(section body, expected as_dict()) with every 2-bit value 0-3, including the undefined 3."""
    two_bits = st.integers(0, 3)
    values: dict[str, Any] = {"Version": layout.version}
    for name, count in layout.fields[1:]:
        values[name] = (
            draw(two_bits) if count == 0 else draw(st.lists(two_bits, min_size=count, max_size=count))
        )
    gpc = draw(st.sampled_from([None, True, False])) if layout.has_gpc else None
    core = us_core(layout, values)
    # usnat v1 is told from its 16/3 predecessor by length, so pad it only as far as 66 bits.
    core += draw(st.text("01", max_size=6 if layout.prefix == "usnat" and layout.version == 1 else 11))
    expected = dict(values)
    if layout.has_gpc:
        expected["Gpc"] = gpc is True
    return us_section(core, gpc), expected


# --- round trips ---------------------------------------------------------------------------------


@FUZZ
@given(tc_strings())
def test_tcf_round_trip(case: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    text, expected, extra = case
    decoded = decode_tcf(text)
    assert decoded.as_dict() == expected
    assert decoded.disclosed_vendors == extra["disclosed_vendors"]
    assert decoded.allowed_vendors == extra["allowed_vendors"]
    if extra["publisher_consents"] is None:
        assert decoded.publisher_tc is None
    else:
        assert decoded.publisher_tc is not None
        assert decoded.publisher_tc.purpose_consents == extra["publisher_consents"]
    for vendor in expected["vendor_consents"]:
        assert decoded.has_vendor_consent(vendor)
    for restriction in expected["publisher_restrictions"]:
        for vendor in restriction["vendors"]:
            assert restriction["type"] in decoded.restriction_types_for(vendor, restriction["purpose"])


@FUZZ
@given(st.data())
def test_gpp_round_trip(data: st.DataObject) -> None:
    chosen: dict[int, UsLayout] = {}
    for layout in data.draw(st.lists(st.sampled_from(US_LAYOUTS), max_size=6)):
        chosen[layout.section_id] = layout
    sections: list[tuple[int, str]] = []
    expected: dict[str, Any] = {}
    for section_id, layout in chosen.items():
        body, values = data.draw(us_sections(layout))
        sections.append((section_id, body))
        expected[layout.prefix] = values
    if data.draw(st.booleans()):
        usp = data.draw(st.from_regex(r"\A1[YN-]{3}\Z"))
        sections.append((6, usp))
        expected["uspv1"] = {"uspString": usp}
    ignored = data.draw(st.sets(st.sampled_from([1, 3, 4, 5, 28, 40, 200]), max_size=3))
    sections += [(section_id, "opaque") for section_id in ignored]
    sections.sort()
    decoded = decode_gpp(gpp_string(sections)).as_dict()
    assert decoded["section_ids"] == [section_id for section_id, _ in sections]
    assert decoded["sections"] == {
        prefix: expected[prefix]
        for prefix in [p for section_id, _ in sections for p in _prefixes(section_id, chosen)]
    }


def _prefixes(section_id: int, chosen: dict[int, UsLayout]) -> list[str]:
    if section_id == 6:
        return ["uspv1"]
    return [chosen[section_id].prefix] if section_id in chosen else []


@FUZZ
@given(st.lists(st.integers(1, 2_000), min_size=0, max_size=30, unique=True))
def test_gpp_header_round_trip(section_ids: list[int]) -> None:
    ids = sorted(set(section_ids) - {24, 25, 26, 27})
    decoded = decode_gpp(
        gpp_string([(section_id, "opaque") for section_id in ids if section_id not in (2, 6)])
    )
    assert list(decoded.section_ids) == [section_id for section_id in ids if section_id not in (2, 6)]


@FUZZ
@given(st.integers(28, 10**9))
def test_fibonacci_codes_decode_to_their_value(value: int) -> None:
    # A single-id header: the id is the Fibonacci value itself (28 and up: bodies are not interpreted).
    header = to_base64url(uint(3, 6) + uint(1, 6) + uint(1, 12) + "0" + fibonacci(value))
    if len(fibonacci(value)) > 33:  # codes past 32 data bits are refused as garbage
        with pytest.raises(ConsentStringError):
            decode_gpp(header + "~x")
    else:
        assert decode_gpp(header + "~x").section_ids == (value,)


# --- garbage -------------------------------------------------------------------------------------


def _decodes_or_rejects(text: str) -> None:
    """Success or ConsentStringError are the only outcomes; any other exception fails the test."""
    for decode in DECODERS:
        rejection: ConsentStringError | None = None
        try:
            decode(text)
        except ConsentStringError as error:
            rejection = error
        if rejection is not None:
            assert str(rejection).startswith(f"{rejection.kind}: ")


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_only_ever_raises_consent_string_error(text: str) -> None:
    _decodes_or_rejects(text)


base64url_text = st.text(BASE64URL_ALPHABET, min_size=0, max_size=400)


@FUZZ
@given(st.lists(base64url_text, min_size=1, max_size=5), st.sampled_from(["", "C", "D", "DBA", "B"]))
def test_arbitrary_base64url_only_ever_raises_consent_string_error(parts: list[str], lead: str) -> None:
    for separator in (".", "~"):
        _decodes_or_rejects(lead + separator.join(parts))


@FUZZ
@given(st.text("01", min_size=0, max_size=2_000), st.sampled_from([".", ""]), base64url_text)
def test_random_bits_after_a_valid_core_prefix(bits: str, separator: str, tail: str) -> None:
    # Starting from the fixed 213 bits reaches the vendor and restriction parsers with random data.
    _decodes_or_rejects(tc_string(TcCore().fixed_bits() + bits) + separator + tail)


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(1, 40), base64url_text, st.sampled_from(["", ".", ".YA", ".QA.QA"])), max_size=5
    )
)
def test_random_section_bodies_under_a_valid_header(sections: list[tuple[int, str, str]]) -> None:
    by_id = {section_id: body + suffix for section_id, body, suffix in sections}
    _decodes_or_rejects(gpp_string(sorted(by_id.items())))


# --- huge input ----------------------------------------------------------------------------------


def _bounded(decode: Callable[[], object], seconds: float = 3.0, megabytes: float = 64.0) -> None:
    """Decoding (or rejecting) takes less than `seconds` and peaks below `megabytes` of allocations.

    The limits are loose on purpose (CI machines vary); what they catch is quadratic time or memory.
    """

    def run() -> None:
        with contextlib.suppress(ConsentStringError):
            decode()

    started = time.perf_counter()
    run()
    assert time.perf_counter() - started < seconds
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < megabytes * 1_000_000


MEGABYTE = 1_000_000


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "text",
    [
        "C" + "A" * MEGABYTE,  # a valid all-zero core followed by a megabyte of padding
        "C" + "_" * MEGABYTE,
        ("CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA." * 25_000)[:-1],
        "DBABLA~" + "C" + "A" * MEGABYTE,
        "DBAB" + "A" * MEGABYTE,
        "DBABLA~BVVVVVVVVV" + "." * MEGABYTE,
        "~" * MEGABYTE,
        "1YNN" * (MEGABYTE // 4),
    ],
    ids=["tcf-padding", "tcf-ones", "tcf-segments", "gpp-usnat", "gpp-header-zeros", "dots", "tildes", "usp"],
)
def test_a_megabyte_decodes_or_rejects_in_bounded_time(text: str) -> None:
    for decode in DECODERS:
        _bounded(lambda decode=decode: decode(text))


@pytest.mark.timeout(30)
def test_max_vendor_id_65535_with_overlapping_full_ranges_stays_small() -> None:
    core = TcCore(
        vendor_consents=vendor_section(max_vendor_id=65535, ranges=[(1, 65535)] * 4095),
        vendor_legitimate_interests=vendor_section(
            max_vendor_id=65535, ranges=[(n, 65535) for n in range(1, 4096)]
        ),
        publisher_restrictions=restrictions_section(
            [(n % 64, (n // 64) % 4, [(1, 65535)] * 3) for n in range(4095)]
        ),
    )
    text = tc_string(core.bits())
    _bounded(lambda: decode_tcf(text), megabytes=16)
    decoded = decode_tcf(text)
    assert len(decoded.vendor_consents) == 65535
    assert len(decoded.publisher_restrictions) == 256
    assert all(len(restriction.vendors) == 65535 for restriction in decoded.publisher_restrictions)
    assert decoded.restriction_types_for(40_000, 5) == {0, 1, 2, 3}


@pytest.mark.timeout(30)
def test_full_bitfields_decode_quickly() -> None:
    every_vendor = range(1, 65536)
    core = TcCore(
        vendor_consents=vendor_section(max_vendor_id=65535, ids=every_vendor),
        vendor_legitimate_interests=vendor_section(max_vendor_id=65535, ids=every_vendor),
    )
    text = tc_string(core.bits())
    _bounded(lambda: decode_tcf(text).as_dict())
    assert decode_tcf(text).vendor_legitimate_interests == tuple(every_vendor)


@pytest.mark.timeout(30)
def test_a_header_listing_many_ids_stays_bounded() -> None:
    # One group of 125,000 ids above the known sections, each with a body: valid, and linear.
    header = to_base64url(uint(3, 6) + uint(1, 6) + uint(1, 12) + "1" + fibonacci(28) + fibonacci(124_999))
    text = header + "~x" * 125_000
    _bounded(lambda: decode_gpp(text))
    assert len(decode_gpp(text).section_ids) == 125_000
