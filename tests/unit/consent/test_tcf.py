"""decode_tcf: the shared vectors, every strictness rule of consent.md 1.6, and the model's helpers."""

import json
from typing import Any

import pytest
from support.encoders import (
    TcCore,
    publisher_tc_segment,
    restrictions_section,
    tc_string,
    to_base64url,
    uint,
    vendor_section,
    vendors_segment,
)
from support.paths import vector_params
from ttrelay.consent.errors import ConsentStringError
from ttrelay.consent.tcf import decode_tcf
from ttrelay_dev.cli.consent_decode import decode_tcf_command


def _rejects(text: str) -> ConsentStringError:
    with pytest.raises(ConsentStringError) as caught:
        decode_tcf(text)
    assert caught.value.kind == "tcf"
    assert str(caught.value).startswith("tcf: ")
    assert "\n" not in str(caught.value)
    return caught.value


# --- vectors/tcf.json ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", vector_params("tcf.json"))
def test_vector(case: dict[str, Any]) -> None:
    if case["expect"] == "invalid":
        _rejects(case["input"])
    else:
        assert decode_tcf(case["input"]).as_dict() == case["expect"]


# --- 1.6.1 alphabet, empty string, empty segments ------------------------------------------------

VALID = tc_string(TcCore().bits())


def test_the_baseline_string_decodes() -> None:
    decoded = decode_tcf(VALID)
    assert decoded.purpose_consents == (1, 3, 4, 7)
    assert decoded.publisher_restrictions == ()


@pytest.mark.parametrize("text", ["", ".", f"{VALID}.", f".{VALID}", f"{VALID}..{VALID}"])
def test_empty_string_or_empty_segment_rejects(text: str) -> None:
    _rejects(text)


@pytest.mark.parametrize("character", ["+", "/", "=", " ", "~", "é", "\n", "*"])
def test_characters_outside_base64url_reject(character: str) -> None:
    _rejects(VALID[:10] + character + VALID[11:])
    _rejects(VALID + character)


# --- 1.6.2 version -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, 1, 3, 4, 63])
def test_any_version_but_2_rejects(version: int) -> None:
    error = _rejects(tc_string(TcCore(version=version).bits()))
    assert f"version {version}" in str(error)


# --- 1.6.3 every field fully present -------------------------------------------------------------


def test_every_truncation_of_the_core_rejects() -> None:
    # 213 fixed bits + two empty vendor sections (17 each) + NumPubRestrictions (12) = 259 bits.
    assert len(TcCore().bits()) == 259
    for length in range(1, len(VALID)):
        _rejects(VALID[:length])


def test_bitfield_shorter_than_max_vendor_id_rejects() -> None:
    core = TcCore()
    short_bitfield = core.fixed_bits() + uint(100, 16) + "0" + "1" * 50
    error = _rejects(tc_string(short_bitfield))
    assert "vendor_consents" in str(error)


def test_range_list_shorter_than_num_entries_rejects() -> None:
    core = TcCore()
    bits = core.fixed_bits() + vendor_section(max_vendor_id=10, ranges=[1, (3, 4)], num_entries=3)
    _rejects(tc_string(bits))


def test_missing_num_pub_restrictions_rejects() -> None:
    core = TcCore(publisher_restrictions="")
    error = _rejects(tc_string(core.bits()))
    assert "NumPubRestrictions" in str(error)


@pytest.mark.parametrize(
    "segment",
    [
        vendors_segment(1, vendor_section(max_vendor_id=40, ids=[1, 2])),
        vendors_segment(2, vendor_section(max_vendor_id=40, ids=[1, 2])),
        publisher_tc_segment(consents=[1], num_custom=30),
    ],
    ids=["DisclosedVendors", "AllowedVendors", "PublisherTC"],
)
def test_truncated_optional_segments_reject(segment: str) -> None:
    assert decode_tcf(tc_string(TcCore().bits(), segment))
    _rejects(tc_string(TcCore().bits(), segment[: len(segment) - 12]))


# --- 1.6.4 vendor range entries ------------------------------------------------------------------


def _with_consent_ranges(max_vendor_id: int, ranges: list[int | tuple[int, int]]) -> str:
    return tc_string(
        TcCore(vendor_consents=vendor_section(max_vendor_id=max_vendor_id, ranges=ranges)).bits()
    )


def test_range_entries_out_of_order_and_overlapping_are_their_union() -> None:
    decoded = decode_tcf(_with_consent_ranges(50, [(40, 45), 3, (10, 12), (11, 20), 3, (44, 50)]))
    assert decoded.vendor_consents == (3, *range(10, 21), *range(40, 51))


def test_range_end_equal_to_max_vendor_id_is_valid() -> None:
    assert decode_tcf(_with_consent_ranges(50, [(45, 50)])).vendor_consents == tuple(range(45, 51))


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ([0], "vendor id 0 in vendor_consents"),
        ([(0, 4)], "vendor id 0 in vendor_consents"),
        ([(30, 12)], "vendor range end 12 < start 30 in vendor_consents"),
        ([51], "vendor id 51 above MaxVendorId 50 in vendor_consents"),
        ([(45, 51)], "vendor id 51 above MaxVendorId 50 in vendor_consents"),
    ],
)
def test_bad_vendor_range_entries_reject(ranges: list[int | tuple[int, int]], message: str) -> None:
    assert str(_rejects(_with_consent_ranges(50, ranges))) == f"tcf: {message}"


def test_bad_range_in_vendor_legitimate_interests_rejects() -> None:
    core = TcCore(vendor_legitimate_interests=vendor_section(max_vendor_id=20, ranges=[(9, 8)]))
    assert "vendor_legitimate_interests" in str(_rejects(tc_string(core.bits())))


def test_bad_range_in_disclosed_vendors_rejects() -> None:
    segment = vendors_segment(1, vendor_section(max_vendor_id=20, ranges=[(5, 21)]))
    assert "disclosed_vendors" in str(_rejects(tc_string(TcCore().bits(), segment)))


# --- 1.6.5 publisher restrictions ----------------------------------------------------------------


def _with_restrictions(restrictions: list[tuple[int, int, list[int | tuple[int, int]]]]) -> str:
    return tc_string(TcCore(publisher_restrictions=restrictions_section(restrictions)).bits())


def test_restrictions_repeating_a_pair_are_merged_and_sorted() -> None:
    decoded = decode_tcf(
        _with_restrictions([(7, 1, [755, 2]), (4, 0, [(980, 990)]), (7, 1, [(1, 3), 755]), (4, 0, [986])])
    )
    assert [restriction.as_dict() for restriction in decoded.publisher_restrictions] == [
        {"purpose": 4, "type": 0, "vendors": list(range(980, 991))},
        {"purpose": 7, "type": 1, "vendors": [1, 2, 3, 755]},
    ]


def test_restriction_vendor_ids_are_not_bounded_by_max_vendor_id() -> None:
    decoded = decode_tcf(_with_restrictions([(1, 0, [65535])]))
    assert decoded.restriction_types_for(65535, 1) == {0}


@pytest.mark.parametrize("entries", [[0], [(0, 3)], [(9, 8)]])
def test_bad_restriction_entries_reject(entries: list[int | tuple[int, int]]) -> None:
    assert "publisher restriction 1" in str(_rejects(_with_restrictions([(2, 1, entries)])))


# --- 1.6.6 segment types -------------------------------------------------------------------------


@pytest.mark.parametrize("segment_type", [0, 4, 5, 6, 7])
def test_later_segment_of_another_type_rejects(segment_type: int) -> None:
    # Type 0 is what a second core would look like; give it a full core's worth of bits.
    error = _rejects(tc_string(TcCore().bits(), uint(segment_type, 3) + TcCore().bits()))
    assert f"SegmentType {segment_type}" in str(error)


def test_optional_segments_are_parsed() -> None:
    text = tc_string(
        TcCore().bits(),
        vendors_segment(1, vendor_section(max_vendor_id=10, ids=[2, 9])),
        vendors_segment(2, vendor_section(max_vendor_id=30, ranges=[(20, 22)])),
        publisher_tc_segment(consents=[1, 2], legitimate_interests=[7], custom_consents=[2], num_custom=3),
    )
    decoded = decode_tcf(text)
    assert decoded.disclosed_vendors == (2, 9)
    assert decoded.allowed_vendors == (20, 21, 22)
    assert decoded.publisher_tc is not None
    assert decoded.publisher_tc.purpose_consents == (1, 2)
    assert decoded.publisher_tc.purpose_legitimate_interests == (7,)
    assert decoded.publisher_tc.num_custom_purposes == 3
    assert decoded.publisher_tc.custom_purpose_consents == (2,)
    assert "disclosed_vendors" not in decoded.as_dict()


# --- 1.6.7 padding -------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["1", "11111", "1" * 60, "10" * 33])
def test_bits_after_the_last_field_are_ignored(padding: str) -> None:
    plain = decode_tcf(VALID)
    assert decode_tcf(tc_string(TcCore().bits() + padding)) == plain
    segment = vendors_segment(1, vendor_section(max_vendor_id=3, ids=[1]))
    assert decode_tcf(tc_string(TcCore().bits(), segment + padding)).disclosed_vendors == (1,)


# --- 1.6.8 not decoding errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    "core",
    [
        TcCore(tcf_policy_version=2),
        TcCore(tcf_policy_version=0),
        TcCore(is_service_specific=False),
        TcCore(cmp_id=0),
        TcCore(cmp_id=1),
        TcCore(purpose_legitimate_interests=[3, 4, 5, 6]),
        TcCore(created_ds=0, last_updated_ds=(1 << 36) - 1),
    ],
)
def test_policy_matters_are_not_decoding_errors(core: TcCore) -> None:
    decoded = decode_tcf(tc_string(core.bits()))
    assert decoded.disclosed_vendors is None


# --- output contract -----------------------------------------------------------------------------


def test_output_contract() -> None:
    core = TcCore(
        created_ds=17_489_088_009,
        last_updated_ds=17_489_088_015,
        consent_language="FR",
        publisher_cc="AA",
        special_feature_optins=[2, 1],
        purpose_consents=[11, 1, 24],
        vendor_consents=vendor_section(max_vendor_id=12, ids=[12, 1, 5]),
        vendor_legitimate_interests=vendor_section(max_vendor_id=9, ranges=[(8, 9), 2, 2]),
    )
    result = decode_tcf(tc_string(core.bits())).as_dict()
    assert result["created"] == 1_748_908_800  # floor(deciseconds / 10)
    assert result["last_updated"] == 1_748_908_801
    assert result["consent_language"] == "FR"
    assert result["publisher_cc"] == "AA"
    assert result["special_feature_optins"] == [1, 2]
    assert result["purpose_consents"] == [1, 11, 24]
    assert result["vendor_consents"] == [1, 5, 12]
    assert result["vendor_legitimate_interests"] == [2, 8, 9]
    assert list(result) == [
        "version",
        "created",
        "last_updated",
        "cmp_id",
        "cmp_version",
        "consent_screen",
        "consent_language",
        "vendor_list_version",
        "tcf_policy_version",
        "is_service_specific",
        "use_non_standard_texts",
        "special_feature_optins",
        "purpose_consents",
        "purpose_legitimate_interests",
        "purpose_one_treatment",
        "publisher_cc",
        "vendor_consents",
        "vendor_legitimate_interests",
        "publisher_restrictions",
    ]


def test_policy_helpers() -> None:
    core = TcCore(
        purpose_consents=[1, 3],
        vendor_consents=vendor_section(max_vendor_id=1200, ranges=[(980, 990), 1126]),
        publisher_restrictions=restrictions_section([(3, 0, [986]), (3, 1, [(900, 1000)]), (4, 0, [7])]),
    )
    decoded = decode_tcf(tc_string(core.bits()))
    assert decoded.has_purpose_consent(1)
    assert not decoded.has_purpose_consent(4)
    assert decoded.has_vendor_consent(986)
    assert decoded.has_vendor_consent(1126)
    assert not decoded.has_vendor_consent(991)
    assert decoded.restriction_types_for(986, 3) == {0, 1}
    assert decoded.restriction_types_for(986, 4) == set()
    assert decoded.restriction_types_for(7, 4) == {0}


def test_decoded_string_is_immutable() -> None:
    decoded = decode_tcf(VALID)
    with pytest.raises(AttributeError):
        decoded.cmp_id = 5  # type: ignore[misc]


def test_non_text_input_rejects() -> None:
    with pytest.raises(ConsentStringError):
        decode_tcf(None)  # type: ignore[arg-type]


# --- CLI -----------------------------------------------------------------------------------------


def test_decode_tcf_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert decode_tcf_command(VALID) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == decode_tcf(VALID).as_dict()
    assert err == ""


def test_decode_tcf_command_exits_2_with_one_line_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert decode_tcf_command(to_base64url(uint(1, 6))) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("tcf: version 1")
