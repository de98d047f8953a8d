"""The fast bit reader and TC string decoder against a straightforward bit-by-bit reference.

decode_tcf reads the fixed core at once and slices the variable sections in place; support/tcf_reference
reads every field one bit at a time, field by field. On random, truncated and corrupted input both must
give the same TcString or the same ConsentStringError message, so strictness cannot drift (rule 1.6).
"""

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.encoders import (
    BASE64URL_ALPHABET,
    RangeEntry,
    TcCore,
    publisher_tc_segment,
    restrictions_section,
    tc_string,
    uint,
    vendor_section,
    vendors_segment,
)
from support.tcf_reference import ReferenceReader, reference_decode_tcf
from ttrelay.consent.bits import BitReader
from ttrelay.consent.errors import ConsentStringError
from ttrelay.consent.tcf import _CORE_FIXED_BITS, _CORE_FIXED_FIELDS, decode_tcf

EQUIVALENCE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome[T](call: Callable[[], T]) -> T | str:
    """The value, or the message of the ConsentStringError; any other exception fails the test."""
    try:
        return call()
    except ConsentStringError as error:
        return f"rejected: {error}"


# --- the bit reader ----------------------------------------------------------------------------------

# (operation, width): widths go past the end of short segments on purpose.
_READS = st.lists(
    st.tuples(st.sampled_from(["int", "bool", "bitfield"]), st.integers(0, 80)), min_size=1, max_size=12
)
_SEGMENT_TEXT = st.one_of(
    st.text(BASE64URL_ALPHABET, max_size=20),
    st.text(BASE64URL_ALPHABET + "+/= ~.é", max_size=8),
)


def _read(reader: BitReader | ReferenceReader, operation: str, width: int) -> object:
    if operation == "int":
        return reader.read_int(width, f"F{width}")
    if operation == "bool":
        return reader.read_bool("B")
    return reader.read_bitfield(width, f"the {width} bitfield")


def _reads(reader: BitReader | ReferenceReader, reads: list[tuple[str, int]]) -> list[object]:
    results: list[object] = []
    for operation, width in reads:
        results.append(_outcome(lambda: _read(reader, operation, width)))  # noqa: B023 - called at once
        results.append((reader.position, reader.remaining))
    return results


@EQUIVALENCE
@given(_SEGMENT_TEXT, _READS)
def test_bit_reader_reads_as_the_bit_by_bit_reference(text: str, reads: list[tuple[str, int]]) -> None:
    fast = _outcome(lambda: BitReader.from_base64url(text, "tcf", "core"))
    slow = _outcome(lambda: ReferenceReader(text, "tcf", "core"))
    if isinstance(fast, str) or isinstance(slow, str):
        assert fast == slow
        return
    assert fast.bit_length == slow.bit_length == 6 * len(text)
    assert _reads(fast, reads) == _reads(slow, reads)


@EQUIVALENCE
@given(st.text("01", max_size=200).map(lambda bits: bits + "0" * (-len(bits) % 6)))
def test_bit_reader_sees_exactly_the_encoded_bits(bits: str) -> None:
    text = "".join(BASE64URL_ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))
    if text:
        assert BitReader.from_base64url(text, "gpp", "header").bits == bits


# --- the decoder -------------------------------------------------------------------------------------

# Mostly valid entries, sometimes one that breaks rule 1.6.4 or 1.6.5 (id 0, backwards, above the max).
_BAD_ENTRY: st.SearchStrategy[RangeEntry] = st.sampled_from([0, (0, 3), (9, 8), 65535, (2, 65535)])


def _entries(max_vendor_id: int) -> st.SearchStrategy[RangeEntry]:
    single = st.integers(1, max_vendor_id)
    ranged = st.tuples(single, single).map(lambda pair: (min(pair), max(pair)))
    return st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).flatmap(
        lambda roll: _BAD_ENTRY if roll == 0 else (single if roll % 2 else ranged)
    )


@st.composite
def _vendor_sections(draw: st.DrawFn) -> str:
    """A bitfield or range vendor section, now and then invalid (a bad entry, a wrong NumEntries)."""
    max_vendor_id = draw(st.one_of(st.integers(0, 70), st.sampled_from([986, 1200, 65535])))
    if draw(st.booleans()) or max_vendor_id == 0:
        width = min(max_vendor_id, 70)
        ids = draw(st.sets(st.integers(1, width), max_size=12)) if width else set()
        return vendor_section(max_vendor_id=width, ids=ids)
    entries = draw(st.lists(_entries(max_vendor_id), max_size=8))
    num_entries = draw(st.sampled_from([None] * 9 + [len(entries) + 1]))
    return vendor_section(max_vendor_id=max_vendor_id, ranges=entries, num_entries=num_entries)


_RESTRICTIONS = st.lists(
    st.tuples(st.integers(0, 63), st.integers(0, 3), st.lists(_entries(65535), max_size=4)), max_size=4
)


@st.composite
def _tc_strings(draw: st.DrawFn) -> str:
    core = TcCore(
        version=draw(st.sampled_from([2] * 9 + [3])),
        created_ds=draw(st.integers(0, (1 << 36) - 1)),
        cmp_id=draw(st.integers(0, 4095)),
        consent_language=draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)),
        tcf_policy_version=draw(st.integers(0, 63)),
        special_feature_optins=draw(st.sets(st.integers(1, 12))),
        purpose_consents=draw(st.sets(st.integers(1, 24))),
        purpose_legitimate_interests=draw(st.sets(st.integers(1, 24))),
        purpose_one_treatment=draw(st.booleans()),
        vendor_consents=draw(_vendor_sections()),
        vendor_legitimate_interests=draw(_vendor_sections()),
        publisher_restrictions=restrictions_section(draw(_RESTRICTIONS)),
    )
    segments = draw(
        st.lists(
            st.one_of(
                _vendor_sections().map(lambda bits: vendors_segment(1, bits)),
                _vendor_sections().map(lambda bits: vendors_segment(2, bits)),
                st.builds(
                    lambda consents, custom: publisher_tc_segment(consents=consents, num_custom=custom),
                    st.sets(st.integers(1, 24)),
                    st.integers(0, 63),
                ),
                st.integers(0, 7).map(lambda segment_type: uint(segment_type, 3) + "0" * 40),
            ),
            max_size=3,
        )
    )
    padding = draw(st.text("01", max_size=12))
    return tc_string(core.bits() + padding, *segments)


@st.composite
def _corrupted(draw: st.DrawFn, strings: st.SearchStrategy[str]) -> str:
    """A string cut short, with characters replaced, or both: most are truncations (rule 1.6.3)."""
    text = draw(strings)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    for _ in range(draw(st.integers(0, 3))):
        if text:
            index = draw(st.integers(0, len(text) - 1))
            text = text[:index] + draw(st.sampled_from(BASE64URL_ALPHABET + ".")) + text[index + 1 :]
    return text


@EQUIVALENCE
@given(_tc_strings())
def test_decoder_agrees_with_the_reference_on_generated_strings(text: str) -> None:
    assert _outcome(lambda: decode_tcf(text)) == _outcome(lambda: reference_decode_tcf(text))


@EQUIVALENCE
@given(_corrupted(_tc_strings()))
def test_decoder_agrees_with_the_reference_on_cut_and_corrupted_strings(text: str) -> None:
    assert _outcome(lambda: decode_tcf(text)) == _outcome(lambda: reference_decode_tcf(text))


@EQUIVALENCE
@given(st.text(BASE64URL_ALPHABET + ".", max_size=120).map(lambda tail: "C" + tail))
def test_decoder_agrees_with_the_reference_on_random_base64url(text: str) -> None:
    assert _outcome(lambda: decode_tcf(text)) == _outcome(lambda: reference_decode_tcf(text))


@pytest.mark.parametrize("length", range(1, 90))
def test_every_cut_of_the_bench_string_agrees_with_the_reference(length: int) -> None:
    text = "CQr-V4AQr-V4AEwABBENCWEgAP_AAEPAAAYgIzQBIAAgAEAvMB7QEZgLzgBAACAXmAAA.IIzQBIAAgAEAvMB7QEZg"
    cut = text[:length]
    assert _outcome(lambda: decode_tcf(cut)) == _outcome(lambda: reference_decode_tcf(cut))


def test_the_fixed_core_layout_ends_at_bit_213() -> None:
    # decode_tcf slices bits 0-212 at the offsets of consent.md 1.2; the table names what a cut core cuts.
    assert sum(width for _, width in _CORE_FIXED_FIELDS) == _CORE_FIXED_BITS == 213
