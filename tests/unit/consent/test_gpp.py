"""decode_gpp: the shared vectors, every strictness rule of consent.md 2.5, the US section layouts."""

import json
from typing import Any

import pytest
from support.encoders import (
    US_LAYOUTS,
    TcCore,
    UsLayout,
    fibonacci,
    gpp_header,
    gpp_string,
    tc_string,
    to_base64url,
    uint,
    us_core,
    us_section,
)
from support.paths import vector_params
from ttrelay.consent.errors import ConsentStringError
from ttrelay.consent.gpp import UsSection, decode_gpp
from ttrelay.consent.tcf import decode_tcf
from ttrelay.consent.usp import UspString
from ttrelay_dev.cli.consent_decode import decode_gpp_command


def _rejects(text: str) -> ConsentStringError:
    with pytest.raises(ConsentStringError) as caught:
        decode_gpp(text)
    assert caught.value.kind == "gpp"
    assert str(caught.value).startswith("gpp: ")
    assert "\n" not in str(caught.value)
    return caught.value


# --- vectors/gpp.json ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", vector_params("gpp.json"))
def test_vector(case: dict[str, Any]) -> None:
    expect = case["expect"]
    if expect == "invalid":
        _rejects(case["input"])
        return
    result = decode_gpp(case["input"]).as_dict()
    assert result["version"] == expect["version"]
    assert result["section_ids"] == expect["section_ids"]
    sections = result["sections"]
    assert isinstance(sections, dict)
    assert list(sections) == list(expect["sections"])
    for prefix, expected in expect["sections"].items():
        if prefix in ("tcfeuv2", "uspv1"):
            assert sections[prefix] == expected
        else:
            # The vectors show only Version, the opt-outs and Gpc; other fields are free.
            assert {name: sections[prefix][name] for name in expected} == expected


# --- helpers ---------------------------------------------------------------------------------------


def _layout(prefix: str, version: int = 1) -> UsLayout:
    return next(layout for layout in US_LAYOUTS if layout.prefix == prefix and layout.version == version)


def _values(layout: UsLayout, fill: int = 2, **overrides: int) -> dict[str, object]:
    values: dict[str, object] = {
        name: (fill if count == 0 else [fill] * count) for name, count in layout.fields if name != "Version"
    }
    values.update(overrides)
    return values


def _section(layout: UsLayout, gpc: bool | None = None, **overrides: int) -> str:
    return us_section(us_core(layout, _values(layout, **overrides)), gpc)


# --- 2.5.1 header ------------------------------------------------------------------------------------


def test_header_only_string_has_no_sections() -> None:
    assert decode_gpp("DBAA").as_dict() == {"version": 1, "section_ids": [], "sections": {}}


@pytest.mark.parametrize("text", ["", "~1YNN", "DBAB+~1YNN", "DBA/~1YNN", "DBABTA=~1YNN", "DBABTA ~1YNN"])
def test_header_must_be_base64url(text: str) -> None:
    _rejects(text)


def test_a_bare_tc_string_is_not_a_gpp_string() -> None:
    error = _rejects(tc_string(TcCore().bits()))
    assert "Type is 2" in str(error)


@pytest.mark.parametrize(("header_type", "version"), [(2, 1), (4, 1), (0, 1), (3, 0), (3, 2)])
def test_header_type_3_and_version_1_only(header_type: int, version: int) -> None:
    _rejects(gpp_header([6], header_type=header_type, version=version) + "~1YNN")


def test_incomplete_fibonacci_list_rejects() -> None:
    # Count 2 but one item; then an item whose Fibonacci code never ends.
    _rejects(to_base64url(uint(3, 6) + uint(1, 6) + uint(2, 12) + "0" + fibonacci(6)) + "~1YNN")
    _rejects(to_base64url(uint(3, 6) + uint(1, 6) + uint(1, 12) + "0" + "0101010") + "~1YNN")
    _rejects(to_base64url(uint(3, 6) + uint(1, 6) + uint(1, 12) + "0" + "01" * 40) + "~1YNN")


def test_header_padding_is_ignored() -> None:
    header = to_base64url(uint(3, 6) + uint(1, 6) + uint(1, 12) + "0" + fibonacci(6) + "1111")
    assert decode_gpp(header + "~1YNN").section_ids == (6,)


def test_fibonacci_groups_and_singles() -> None:
    sections = [(2, tc_string(TcCore().bits())), (6, "1YNN"), (7, _section(_layout("usnat", 2)))]
    sections += [(8, _section(_layout("usca"))), (10, _section(_layout("usco"))), (30, "x")]
    decoded = decode_gpp(gpp_string(sections))
    assert decoded.section_ids == (2, 6, 7, 8, 10, 30)
    assert list(decoded.sections) == ["tcfeuv2", "uspv1", "usnat", "usca", "usco"]


# --- 2.5.2 section count and empty sections ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["DBAA~", "DBABTA", "DBABTA~1YNN~1YNN", "DBABTA~", "DBACNY~~1YNN", "DBACNY~" + "CPXx~"[:0] + "~1YNN"],
)
def test_section_count_must_match_and_no_section_is_empty(text: str) -> None:
    _rejects(text)


def test_a_crafted_huge_group_is_rejected_by_count_before_expanding() -> None:
    header = uint(3, 6) + uint(1, 6) + uint(1, 12) + "1" + fibonacci(30) + fibonacci(3_000_000)
    assert "3000001 section ids but 1 sections" in str(_rejects(to_base64url(header) + "~x"))


# --- 2.5.3 sections 24-27 ------------------------------------------------------------------------


@pytest.mark.parametrize(("section_id", "prefix"), [(24, "usmd"), (25, "usin"), (26, "usky"), (27, "usri")])
def test_sections_24_to_27_reject_naming_the_section(section_id: int, prefix: str) -> None:
    error = _rejects(gpp_string([(section_id, "BVVU.YA")]))
    assert f"section {section_id} ({prefix})" in str(error)
    _rejects(gpp_string([(6, "1YNN"), (section_id, "BVVU.YA")]))


# --- 2.5.4 tcfeuv2 and uspv1 bodies --------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        tc_string(TcCore(version=1).bits()),
        tc_string(TcCore().bits())[:30],
        tc_string(TcCore().bits()) + ".",
        tc_string(TcCore().bits(), uint(0, 3) + TcCore().bits()),
        "C",
    ],
    ids=["version-1", "truncated", "empty-segment", "second-core", "bare-C"],
)
def test_tcfeuv2_body_must_pass_every_tcf_rule(body: str) -> None:
    assert "section 2 (tcfeuv2): tcf: " in str(_rejects(gpp_string([(2, body)])))


def test_tcfeuv2_section_is_the_tc_string_decode() -> None:
    body = tc_string(TcCore().bits())
    section = decode_gpp(gpp_string([(2, body)])).sections["tcfeuv2"]
    assert section == decode_tcf(body)


@pytest.mark.parametrize("body", ["1YNX", "1ynn", "2YNN", "1YN", "1YNNN"])
def test_uspv1_body_must_match_the_usp_pattern(body: str) -> None:
    assert "section 6 (uspv1)" in str(_rejects(gpp_string([(6, body)])))


def test_uspv1_section() -> None:
    section = decode_gpp("DBABTA~1YYN").sections["uspv1"]
    assert isinstance(section, UspString)
    assert section.opted_out_of_sale()


# --- 2.5.5 US sections ---------------------------------------------------------------------------

STATES_SALE_12_TARGETED_14 = (
    "usva",
    "usco",
    "usct",
    "usfl",
    "usmt",
    "usor",
    "ustx",
    "usde",
    "usne",
    "usnh",
    "usnj",
    "ustn",
    "usmn",
)
# The reference table (consent.md 2.3): bit offsets of SaleOptOut, SharingOptOut, TargetedAdvertisingOptOut.
OPT_OUT_OFFSETS: dict[str, dict[str, int]] = {
    "usnat": {"SaleOptOut": 18, "SharingOptOut": 20, "TargetedAdvertisingOptOut": 22},
    "usca": {"SaleOptOut": 12, "SharingOptOut": 14},
    **{prefix: {"SaleOptOut": 12, "TargetedAdvertisingOptOut": 14} for prefix in STATES_SALE_12_TARGETED_14},
    "usut": {"SaleOptOut": 14, "TargetedAdvertisingOptOut": 16},
    "usia": {"SaleOptOut": 14, "TargetedAdvertisingOptOut": 16},
}
SECTION_IDS = {layout.prefix: layout.section_id for layout in US_LAYOUTS}
GPC_SECTIONS = {layout.prefix for layout in US_LAYOUTS if layout.has_gpc}


@pytest.mark.parametrize(
    ("prefix", "field", "offset"),
    [
        (prefix, field, offset)
        for prefix, fields in OPT_OUT_OFFSETS.items()
        for field, offset in fields.items()
    ],
)
def test_opt_outs_sit_at_the_reference_offsets(prefix: str, field: str, offset: int) -> None:
    core = list(uint(1, 6) + "0" * 80)
    core[offset : offset + 2] = "01"
    section = decode_gpp(gpp_string([(SECTION_IDS[prefix], to_base64url("".join(core)))])).sections[prefix]
    assert isinstance(section, UsSection)
    assert getattr(section, field) == 1
    assert [name for name in OPT_OUT_OFFSETS[prefix] if getattr(section, name) != 0] == [field]
    assert section.opted_out()


def test_every_us_section_and_only_those_have_opt_out_offsets() -> None:
    assert set(OPT_OUT_OFFSETS) == set(SECTION_IDS)
    assert sorted(SECTION_IDS.values()) == list(range(7, 24))


@pytest.mark.parametrize("prefix", sorted(OPT_OUT_OFFSETS))
def test_core_must_reach_the_end_of_its_last_opt_out(prefix: str) -> None:
    end = max(OPT_OUT_OFFSETS[prefix].values()) + 2
    reaching = to_base64url("0" * 5 + "1" + "0" * (end - 6))
    section = decode_gpp(gpp_string([(SECTION_IDS[prefix], reaching)])).sections[prefix]
    assert isinstance(section, UsSection)
    # Fields after the opt-outs are absent rather than invented.
    assert section.as_dict()["SensitiveDataProcessing"] is None
    short = reaching[: (end - 1) // 6]
    assert f"section {SECTION_IDS[prefix]} ({prefix})" in str(
        _rejects(gpp_string([(SECTION_IDS[prefix], short)]))
    )


@pytest.mark.parametrize("prefix", sorted(GPC_SECTIONS))
def test_gpc_sub_section(prefix: str) -> None:
    layout = next(layout for layout in US_LAYOUTS if layout.prefix == prefix)
    for gpc in (True, False, None):
        section = decode_gpp(gpp_string([(layout.section_id, _section(layout, gpc))])).sections[prefix]
        assert isinstance(section, UsSection)
        assert section.as_dict()["Gpc"] is (gpc is True)
        assert section.opted_out() is (gpc is True)  # every opt-out field is 2: did not opt out


@pytest.mark.parametrize("prefix", sorted(set(SECTION_IDS) - GPC_SECTIONS))
def test_sections_without_gpc_reject_a_sub_section(prefix: str) -> None:
    layout = _layout(prefix)
    section = decode_gpp(gpp_string([(layout.section_id, _section(layout))])).sections[prefix]
    assert "Gpc" not in section.as_dict()
    assert "defines no sub-section" in str(
        _rejects(gpp_string([(layout.section_id, _section(layout, True))]))
    )


@pytest.mark.parametrize("subsection_type", [0, 2, 3])
def test_sub_section_type_must_be_1(subsection_type: int) -> None:
    layout = _layout("usnat", 2)
    body = us_section(us_core(layout, _values(layout)), True, subsection_type=subsection_type)
    assert f"SubsectionType {subsection_type}" in str(_rejects(gpp_string([(7, body)])))


@pytest.mark.parametrize("suffix", [".YA.YA", ".", ".YA.", "..YA"])
def test_at_most_one_non_empty_sub_section(suffix: str) -> None:
    layout = _layout("usca")
    _rejects(gpp_string([(8, us_section(us_core(layout, _values(layout))) + suffix)]))


def test_opted_out_reads_each_opt_out() -> None:
    layout = _layout("usnat", 2)
    for field in ("SaleOptOut", "SharingOptOut", "TargetedAdvertisingOptOut"):
        section = decode_gpp(gpp_string([(7, _section(layout, **{field: 1}))])).sections["usnat"]
        assert isinstance(section, UsSection)
        assert section.opted_out()
    for value in (0, 2, 3):
        body = _section(layout, SaleOptOut=value, SharingOptOut=value, TargetedAdvertisingOptOut=value)
        section = decode_gpp(gpp_string([(7, body)])).sections["usnat"]
        assert isinstance(section, UsSection)
        assert not section.opted_out()


def test_us_sections_list_every_spec_field_in_order() -> None:
    for layout in US_LAYOUTS:
        body = _section(layout, True if layout.has_gpc else None)
        section = decode_gpp(gpp_string([(layout.section_id, body)])).sections[layout.prefix]
        names = [name for name, _ in layout.fields] + (["Gpc"] if layout.has_gpc else [])
        assert list(section.as_dict()) == names


# --- usnat v1 and v2 -------------------------------------------------------------------------------


def test_usnat_v1_layout_at_60_and_66_bits() -> None:
    layout = _layout("usnat", 1)
    values = _values(layout, fill=1, MspaCoveredTransaction=2, MspaServiceProviderMode=0)
    core = us_core(layout, values)
    assert len(core) == 60
    for padded in (core, core + "000000"):  # 66 bits is what @iabgpp/cmpapi writes
        section = decode_gpp(gpp_string([(7, us_section(padded))])).sections["usnat"]
        assert section.as_dict() == {"Version": 1, **values, "Gpc": False}


def test_usnat_v2_layout() -> None:
    layout = _layout("usnat", 2)
    values = _values(layout, fill=1, PersonalDataConsents=2, MspaServiceProviderMode=0)
    assert len(us_core(layout, values)) == 70
    section = decode_gpp(gpp_string([(7, _section(layout, False, fill=1, PersonalDataConsents=2))])).sections
    assert section["usnat"].as_dict()["KnownChildSensitiveDataConsents"] == [1, 1, 1]


def test_usnat_version_1_written_with_the_16_3_layout() -> None:
    # Encoders between the Oct 2024 states release and usnat v2 wrote Version 1 with the 16/3 layout.
    layout = _layout("usnat", 2)
    values = _values(layout, fill=0, MspaCoveredTransaction=1)
    values["SensitiveDataProcessing"] = [1] * 12 + [2] * 4
    body = us_section(us_core(layout, {**values, "Version": 1}))
    section = decode_gpp(gpp_string([(7, body)])).sections["usnat"].as_dict()
    assert section["Version"] == 1
    assert section["SensitiveDataProcessing"] == [1] * 12
    assert section["KnownChildSensitiveDataConsents"] == [0, 0]
    assert section["MspaCoveredTransaction"] == 1


# --- 2.5.6 ids not interpreted -------------------------------------------------------------------


@pytest.mark.parametrize("section_id", [1, 3, 4, 5, 28, 99])
def test_ids_not_interpreted_are_listed_only(section_id: int) -> None:
    decoded = decode_gpp(gpp_string(sorted([(section_id, "any.body"), (6, "1YNN")])))
    assert decoded.section_ids == tuple(sorted((section_id, 6)))
    assert list(decoded.sections) == ["uspv1"]


def test_us_sections_helper() -> None:
    decoded = decode_gpp(
        gpp_string([(6, "1YNN"), (7, _section(_layout("usnat", 2))), (9, _section(_layout("usva")))])
    )
    assert [section.prefix for section in decoded.us_sections()] == ["usnat", "usva"]


# --- CLI -----------------------------------------------------------------------------------------


def test_decode_gpp_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert decode_gpp_command("DBABTA~1YNN") == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"version": 1, "section_ids": [6], "sections": {"uspv1": {"uspString": "1YNN"}}}
    assert err == ""


def test_decode_gpp_command_exits_2_with_one_line_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert decode_gpp_command("DBABEYA~BVVU.YA") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "gpp: section 24 (usmd) is not supported: its layout is an unsettled draft\n"
