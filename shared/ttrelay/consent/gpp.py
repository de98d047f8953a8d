"""Strict decoder for IAB Global Privacy Platform strings (reference/consent.md section 2).

Layouts of the US sections 7-23 follow each section's IAB specification (Global-Privacy-Platform,
`Sections/US-*`), which `@iabgpp/cmpapi` 3.2.0 encodes field for field. Each section is a frozen
dataclass whose attributes carry the spec's field names, in wire order: the decoder walks those
attributes, so the class is the single statement of its layout.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, ClassVar

from ttrelay.consent.bits import BitReader
from ttrelay.consent.errors import ConsentStringError
from ttrelay.consent.tcf import TcString, decode_tcf
from ttrelay.consent.usp import UspString, decode_usp

_OPT_OUT_FIELDS = ("SaleOptOut", "SharingOptOut", "TargetedAdvertisingOptOut")
_USNAT_V1_LENGTHS: Mapping[str, int] = MappingProxyType(
    {"SensitiveDataProcessing": 12, "KnownChildSensitiveDataConsents": 2}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class UsSection:
    """Base of the US sections 7-23. Enums are Int(2): 0 n/a, 1 opted out / given / yes, 2 not (2.3).

    Fields up to the last opt-out are always present (rule 2.5.5). Fields after it are None when a
    short core stops before them. `Gpc` exists only on sections that define the GPC sub-section and is
    False when the string carries none.
    """

    section_id: ClassVar[int]
    prefix: ClassVar[str]
    # N-Bitfield(2, n) fields and their n; every other field after Version is Int(2).
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType({})

    @classmethod
    def defines_gpc(cls) -> bool:
        return any(field.name == "Gpc" for field in fields(cls))

    @classmethod
    def core_field_names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls) if field.name != "Gpc")

    @classmethod
    def wire_list_lengths(cls, version: int, core_bits: int) -> Mapping[str, int]:
        """List lengths as encoded; usnat overrides this because its v1 and v2 layouts differ."""
        del version, core_bits
        return cls.list_lengths

    @classmethod
    def reported_list_lengths(cls, version: int) -> Mapping[str, int]:
        """List lengths as decoded for this Version."""
        del version
        return cls.list_lengths

    def opted_out(self) -> bool:
        """Sale, sharing or targeted-advertising opt-out (value 1) where the section has it, or GPC."""
        if any(getattr(self, name, None) == 1 for name in _OPT_OUT_FIELDS):
            return True
        return getattr(self, "Gpc", False) is True

    def as_dict(self) -> dict[str, object]:
        """Every field by its spec name, in wire order; lists as JSON arrays."""
        result: dict[str, object] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            result[field.name] = list(value) if isinstance(value, tuple) else value
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class UsNat(UsSection):
    """Section 7. Version 1: 12 SensitiveDataProcessing and 2 KnownChildSensitiveDataConsents entries;
    version 2 (Oct 2024): 16 and 3. Offsets up to TargetedAdvertisingOptOut are the same (2.3)."""

    section_id: ClassVar[int] = 7
    prefix: ClassVar[str] = "usnat"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"SensitiveDataProcessing": 16, "KnownChildSensitiveDataConsents": 3}
    )
    Version: int
    SharingNotice: int
    SaleOptOutNotice: int
    SharingOptOutNotice: int
    TargetedAdvertisingOptOutNotice: int
    SensitiveDataProcessingOptOutNotice: int
    SensitiveDataLimitUseNotice: int
    SaleOptOut: int
    SharingOptOut: int
    TargetedAdvertisingOptOut: int
    SensitiveDataProcessing: tuple[int, ...] | None = None
    KnownChildSensitiveDataConsents: tuple[int, ...] | None = None
    PersonalDataConsents: int | None = None
    MspaCoveredTransaction: int | None = None
    MspaOptOutOptionMode: int | None = None
    MspaServiceProviderMode: int | None = None
    Gpc: bool = False

    @classmethod
    def wire_list_lengths(cls, version: int, core_bits: int) -> Mapping[str, int]:
        # A version-1 core of 70 bits or more cannot be the 60-bit v1 layout (padded to 60 or 66): it
        # comes from the iabgpp encoders that wrote the 16/3 layout under Version 1 before v2 existed,
        # which @iabgpp/cmpapi 3.2.0 still reads that way. Its lists are cut back to 12/2 afterwards.
        if version == 1 and core_bits < 70:
            return _USNAT_V1_LENGTHS
        return cls.list_lengths

    @classmethod
    def reported_list_lengths(cls, version: int) -> Mapping[str, int]:
        return _USNAT_V1_LENGTHS if version == 1 else cls.list_lengths


@dataclass(frozen=True, slots=True, kw_only=True)
class UsCa(UsSection):
    """Section 8, California (CCPA/CPRA): sale and sharing opt-outs, GPC sub-section."""

    section_id: ClassVar[int] = 8
    prefix: ClassVar[str] = "usca"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"SensitiveDataProcessing": 9, "KnownChildSensitiveDataConsents": 2}
    )
    Version: int
    SaleOptOutNotice: int
    SharingOptOutNotice: int
    SensitiveDataLimitUseNotice: int
    SaleOptOut: int
    SharingOptOut: int
    SensitiveDataProcessing: tuple[int, ...] | None = None
    KnownChildSensitiveDataConsents: tuple[int, ...] | None = None
    PersonalDataConsents: int | None = None
    MspaCoveredTransaction: int | None = None
    MspaOptOutOptionMode: int | None = None
    MspaServiceProviderMode: int | None = None
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class _SharingNoticeSection(UsSection):
    """Layout shared by Virginia (no GPC) and Colorado: SharingNotice, one KnownChild Int(2)."""

    Version: int
    SharingNotice: int
    SaleOptOutNotice: int
    TargetedAdvertisingOptOutNotice: int
    SaleOptOut: int
    TargetedAdvertisingOptOut: int
    SensitiveDataProcessing: tuple[int, ...] | None = None
    KnownChildSensitiveDataConsents: int | None = None
    MspaCoveredTransaction: int | None = None
    MspaOptOutOptionMode: int | None = None
    MspaServiceProviderMode: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UsVa(_SharingNoticeSection):
    """Section 9, Virginia: no GPC sub-section."""

    section_id: ClassVar[int] = 9
    prefix: ClassVar[str] = "usva"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType({"SensitiveDataProcessing": 8})


@dataclass(frozen=True, slots=True, kw_only=True)
class UsCo(_SharingNoticeSection):
    """Section 10, Colorado: GPC sub-section."""

    section_id: ClassVar[int] = 10
    prefix: ClassVar[str] = "usco"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType({"SensitiveDataProcessing": 7})
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UsUt(UsSection):
    """Section 11, Utah: a SensitiveDataProcessingOptOutNotice shifts the opt-outs by 2 bits; no GPC."""

    section_id: ClassVar[int] = 11
    prefix: ClassVar[str] = "usut"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType({"SensitiveDataProcessing": 8})
    Version: int
    SharingNotice: int
    SaleOptOutNotice: int
    TargetedAdvertisingOptOutNotice: int
    SensitiveDataProcessingOptOutNotice: int
    SaleOptOut: int
    TargetedAdvertisingOptOut: int
    SensitiveDataProcessing: tuple[int, ...] | None = None
    KnownChildSensitiveDataConsents: int | None = None
    MspaCoveredTransaction: int | None = None
    MspaOptOutOptionMode: int | None = None
    MspaServiceProviderMode: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UsCt(UsSection):
    """Section 12, Connecticut: three KnownChildSensitiveDataConsents entries, GPC sub-section."""

    section_id: ClassVar[int] = 12
    prefix: ClassVar[str] = "usct"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"SensitiveDataProcessing": 8, "KnownChildSensitiveDataConsents": 3}
    )
    Version: int
    SharingNotice: int
    SaleOptOutNotice: int
    TargetedAdvertisingOptOutNotice: int
    SaleOptOut: int
    TargetedAdvertisingOptOut: int
    SensitiveDataProcessing: tuple[int, ...] | None = None
    KnownChildSensitiveDataConsents: tuple[int, ...] | None = None
    MspaCoveredTransaction: int | None = None
    MspaOptOutOptionMode: int | None = None
    MspaServiceProviderMode: int | None = None
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class _ChildListSection(UsSection):
    """The 2024-25 state layout with a KnownChildSensitiveDataConsents N-Bitfield (FL, OR, DE, NH, NJ)."""

    Version: int
    ProcessingNotice: int
    SaleOptOutNotice: int
    TargetedAdvertisingOptOutNotice: int
    SaleOptOut: int
    TargetedAdvertisingOptOut: int
    SensitiveDataProcessing: tuple[int, ...] | None = None
    KnownChildSensitiveDataConsents: tuple[int, ...] | None = None
    AdditionalDataProcessingConsent: int | None = None
    MspaCoveredTransaction: int | None = None
    MspaOptOutOptionMode: int | None = None
    MspaServiceProviderMode: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _ChildIntSection(UsSection):
    """The same layout with a single KnownChildSensitiveDataConsents Int(2) (TX, NE, TN, MN), with GPC."""

    Version: int
    ProcessingNotice: int
    SaleOptOutNotice: int
    TargetedAdvertisingOptOutNotice: int
    SaleOptOut: int
    TargetedAdvertisingOptOut: int
    SensitiveDataProcessing: tuple[int, ...] | None = None
    KnownChildSensitiveDataConsents: int | None = None
    AdditionalDataProcessingConsent: int | None = None
    MspaCoveredTransaction: int | None = None
    MspaOptOutOptionMode: int | None = None
    MspaServiceProviderMode: int | None = None
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UsFl(_ChildListSection):
    """Section 13, Florida: no GPC sub-section."""

    section_id: ClassVar[int] = 13
    prefix: ClassVar[str] = "usfl"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"SensitiveDataProcessing": 8, "KnownChildSensitiveDataConsents": 3}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class UsMt(UsSection):
    """Section 14, Montana: SharingNotice where the other 2024 states have ProcessingNotice."""

    section_id: ClassVar[int] = 14
    prefix: ClassVar[str] = "usmt"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"SensitiveDataProcessing": 8, "KnownChildSensitiveDataConsents": 3}
    )
    Version: int
    SharingNotice: int
    SaleOptOutNotice: int
    TargetedAdvertisingOptOutNotice: int
    SaleOptOut: int
    TargetedAdvertisingOptOut: int
    SensitiveDataProcessing: tuple[int, ...] | None = None
    KnownChildSensitiveDataConsents: tuple[int, ...] | None = None
    AdditionalDataProcessingConsent: int | None = None
    MspaCoveredTransaction: int | None = None
    MspaOptOutOptionMode: int | None = None
    MspaServiceProviderMode: int | None = None
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UsOr(_ChildListSection):
    """Section 15, Oregon: 11 SensitiveDataProcessing entries."""

    section_id: ClassVar[int] = 15
    prefix: ClassVar[str] = "usor"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"SensitiveDataProcessing": 11, "KnownChildSensitiveDataConsents": 3}
    )
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UsTx(_ChildIntSection):
    """Section 16, Texas."""

    section_id: ClassVar[int] = 16
    prefix: ClassVar[str] = "ustx"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType({"SensitiveDataProcessing": 8})


@dataclass(frozen=True, slots=True, kw_only=True)
class UsDe(_ChildListSection):
    """Section 17, Delaware: 9 sensitive-data and 5 known-child entries."""

    section_id: ClassVar[int] = 17
    prefix: ClassVar[str] = "usde"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"SensitiveDataProcessing": 9, "KnownChildSensitiveDataConsents": 5}
    )
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UsIa(UsSection):
    """Section 18, Iowa: a SensitiveDataOptOutNotice shifts the opt-outs by 2 bits."""

    section_id: ClassVar[int] = 18
    prefix: ClassVar[str] = "usia"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType({"SensitiveDataProcessing": 8})
    Version: int
    ProcessingNotice: int
    SaleOptOutNotice: int
    TargetedAdvertisingOptOutNotice: int
    SensitiveDataOptOutNotice: int
    SaleOptOut: int
    TargetedAdvertisingOptOut: int
    SensitiveDataProcessing: tuple[int, ...] | None = None
    KnownChildSensitiveDataConsents: int | None = None
    MspaCoveredTransaction: int | None = None
    MspaOptOutOptionMode: int | None = None
    MspaServiceProviderMode: int | None = None
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UsNe(_ChildIntSection):
    """Section 19, Nebraska."""

    section_id: ClassVar[int] = 19
    prefix: ClassVar[str] = "usne"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType({"SensitiveDataProcessing": 8})


@dataclass(frozen=True, slots=True, kw_only=True)
class UsNh(_ChildListSection):
    """Section 20, New Hampshire."""

    section_id: ClassVar[int] = 20
    prefix: ClassVar[str] = "usnh"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"SensitiveDataProcessing": 8, "KnownChildSensitiveDataConsents": 3}
    )
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UsNj(_ChildListSection):
    """Section 21, New Jersey: 10 sensitive-data and 5 known-child entries."""

    section_id: ClassVar[int] = 21
    prefix: ClassVar[str] = "usnj"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"SensitiveDataProcessing": 10, "KnownChildSensitiveDataConsents": 5}
    )
    Gpc: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UsTn(_ChildIntSection):
    """Section 22, Tennessee. Its spec page also says 17 and spells KnownChildSensitiveDataConsent;
    22 and the plural are what the section table and the reference library use."""

    section_id: ClassVar[int] = 22
    prefix: ClassVar[str] = "ustn"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType({"SensitiveDataProcessing": 8})


@dataclass(frozen=True, slots=True, kw_only=True)
class UsMn(_ChildIntSection):
    """Section 23, Minnesota."""

    section_id: ClassVar[int] = 23
    prefix: ClassVar[str] = "usmn"
    list_lengths: ClassVar[Mapping[str, int]] = MappingProxyType({"SensitiveDataProcessing": 8})


_US_SECTION_CLASSES: tuple[type[UsSection], ...] = (
    UsNat,
    UsCa,
    UsVa,
    UsCo,
    UsUt,
    UsCt,
    UsFl,
    UsMt,
    UsOr,
    UsTx,
    UsDe,
    UsIa,
    UsNe,
    UsNh,
    UsNj,
    UsTn,
    UsMn,
)
US_SECTIONS: Mapping[int, type[UsSection]] = MappingProxyType(
    {cls.section_id: cls for cls in _US_SECTION_CLASSES}
)
TCF_EU_V2_ID = 2
USP_V1_ID = 6
# Drafts whose spec and reference library disagree: rejected, not guessed (2.4, rule 2.5.3).
UNSUPPORTED_SECTIONS: Mapping[int, str] = MappingProxyType({24: "usmd", 25: "usin", 26: "usky", 27: "usri"})

GppSection = TcString | UspString | UsSection


@dataclass(frozen=True, slots=True)
class GppString:
    """A decoded GPP string. `sections` holds the sections the relay interprets, keyed by API prefix,
    in string order; `section_ids` lists every id of the header, interpreted or not (rule 2.5.6)."""

    version: int
    section_ids: tuple[int, ...]
    sections: Mapping[str, GppSection]

    def us_sections(self) -> tuple[UsSection, ...]:
        return tuple(section for section in self.sections.values() if isinstance(section, UsSection))

    def as_dict(self) -> dict[str, object]:
        """The `ttrelay consent decode-gpp` JSON object (see vectors/gpp.json)."""
        return {
            "version": self.version,
            "section_ids": list(self.section_ids),
            "sections": {prefix: section.as_dict() for prefix, section in self.sections.items()},
        }


def decode_gpp(s: str) -> GppString:
    """Decode a GPP string strictly; raise ConsentStringError (kind "gpp") on any rule of 2.5."""
    if not isinstance(s, str):
        raise ConsentStringError("gpp", "the GPP string must be text")
    header_text, *bodies = s.split("~")
    version, section_ids = _read_header(header_text, len(bodies))
    for section_id in section_ids:
        if section_id in UNSUPPORTED_SECTIONS:
            raise ConsentStringError(
                "gpp",
                f"section {section_id} ({UNSUPPORTED_SECTIONS[section_id]}) is not supported: "
                "its layout is an unsettled draft",
            )
    sections: dict[str, GppSection] = {}
    for section_id, body in zip(section_ids, bodies, strict=True):
        if not body:
            raise ConsentStringError("gpp", f"section {section_id} is empty")
        decoded = _decode_section(section_id, body)
        if decoded is not None:
            prefix, section = decoded
            sections[prefix] = section
    return GppString(version=version, section_ids=section_ids, sections=MappingProxyType(sections))


def _read_header(text: str, section_count: int) -> tuple[int, tuple[int, ...]]:
    """Type Int(6) = 3, Version Int(6) = 1, then the section ids as a Fibonacci range (2.1, rule 2.5.1)."""
    reader = BitReader.from_base64url(text, "gpp", "header")
    header_type = reader.read_int(6, "header Type")
    if header_type != 3:
        hint = " (a TC string starts with C)" if header_type == 2 else ""
        raise ConsentStringError("gpp", f"not a GPP string: header Type is {header_type}, not 3{hint}")
    version = reader.read_int(6, "header Version")
    if version != 1:
        raise ConsentStringError("gpp", f"header Version is {version}; only 1 is supported")
    spans = reader.read_fibonacci_range("SectionIds")
    # Counted before expanding, so a crafted group length cannot allocate millions of ids (rule 2.5.2).
    id_count = sum(last - first + 1 for first, last in spans)
    if id_count != section_count:
        raise ConsentStringError(
            "gpp", f"header lists {id_count} section ids but {section_count} sections follow"
        )
    return version, tuple(section_id for first, last in spans for section_id in range(first, last + 1))


def _decode_section(section_id: int, body: str) -> tuple[str, GppSection] | None:
    if section_id == TCF_EU_V2_ID:
        # Rule 2.5.4: the body must pass every TCF rule of 1.6.
        try:
            return "tcfeuv2", decode_tcf(body)
        except ConsentStringError as error:
            raise ConsentStringError("gpp", f"section 2 (tcfeuv2): {error}") from error
    if section_id == USP_V1_ID:
        try:
            return "uspv1", decode_usp(body)
        except ConsentStringError as error:
            raise ConsentStringError("gpp", f"section 6 (uspv1): {error}") from error
    section_class = US_SECTIONS.get(section_id)
    if section_class is None:
        return None  # Not interpreted by the relay; listed in section_ids only (rule 2.5.6).
    return section_class.prefix, _decode_us_section(section_class, body)


def _decode_us_section(cls: type[UsSection], body: str) -> UsSection:
    where = f"section {cls.section_id} ({cls.prefix})"
    core_text, *subsections = body.split(".")
    reader = BitReader.from_base64url(core_text, "gpp", f"the {where} core")
    version = reader.read_int(6, "Version")
    wire_lengths = cls.wire_list_lengths(version, reader.bit_length)
    reported_lengths = cls.reported_list_lengths(version)
    names = cls.core_field_names()
    last_required = max(names.index(name) for name in _OPT_OUT_FIELDS if name in names)
    values: dict[str, Any] = {"Version": version}
    for index, name in enumerate(names[1:], start=1):
        count = wire_lengths.get(name)
        width = 2 * count if count is not None else 2
        if index > last_required and reader.remaining < width:
            # Rule 2.5.5 requires the core to reach the end of its last opt-out only; a core that stops
            # before a later field leaves that field and all after it unset.
            break
        if count is None:
            values[name] = reader.read_int(2, name)
        else:
            values[name] = reader.read_int_list(count, 2, name)[: reported_lengths[name]]
    if cls.defines_gpc():
        values["Gpc"] = _read_gpc(subsections, where)
    elif subsections:
        raise ConsentStringError("gpp", f"{where} defines no sub-section but the string carries one")
    return cls(**values)


def _read_gpc(subsections: list[str], where: str) -> bool:
    """SubsectionType Int(2) = 1 then Gpc (1 bit); none means Gpc false (rule 2.5.5)."""
    if not subsections:
        return False
    if len(subsections) > 1:
        raise ConsentStringError(
            "gpp", f"{where} carries {len(subsections)} sub-sections; at most one is allowed"
        )
    reader = BitReader.from_base64url(subsections[0], "gpp", f"the {where} sub-section")
    subsection_type = reader.read_int(2, "SubsectionType")
    if subsection_type != 1:
        raise ConsentStringError(
            "gpp", f"{where} sub-section has SubsectionType {subsection_type}, not 1 (GPC)"
        )
    return reader.read_bool("Gpc")
