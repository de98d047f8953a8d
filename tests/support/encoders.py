"""TEST-ONLY encoders for TC strings and GPP strings, written from the specs (reference/consent.md).

They work on bit strings ("0101...") so that tests can truncate, pad or corrupt a string at any
bit. Nothing here validates: encoding what the decoder must reject is the point.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# A range entry: an int is a single vendor (IsARange 0); a (start, end) pair is a range (IsARange 1).
RangeEntry = int | tuple[int, int]


def uint(value: int, width: int) -> str:
    if not 0 <= value < (1 << width):
        raise ValueError(f"{value} does not fit in {width} bits")
    return format(value, f"0{width}b") if width else ""


def flag(value: bool) -> str:
    return "1" if value else "0"


def bitfield(ids: Iterable[int], width: int) -> str:
    """Bit k-1 <-> id k."""
    chosen = set(ids)
    return "".join("1" if position in chosen else "0" for position in range(1, width + 1))


def to_base64url(bits: str) -> str:
    """Zero-pad on the right to a multiple of 6 bits, then map 6 bits to one character."""
    bits += "0" * (-len(bits) % 6)
    return "".join(BASE64URL_ALPHABET[int(bits[index : index + 6], 2)] for index in range(0, len(bits), 6))


# --- TCF ---------------------------------------------------------------------------------------


def range_entries(entries: Sequence[RangeEntry], num_entries: int | None = None) -> str:
    """NumEntries (12), then IsARange (1), StartOrOnlyVendorId (16) [, EndVendorId (16)] per entry."""
    bits = uint(len(entries) if num_entries is None else num_entries, 12)
    for entry in entries:
        if isinstance(entry, int):
            bits += "0" + uint(entry, 16)
        else:
            bits += "1" + uint(entry[0], 16) + uint(entry[1], 16)
    return bits


def vendor_section(
    *,
    max_vendor_id: int,
    ids: Iterable[int] = (),
    ranges: Sequence[RangeEntry] | None = None,
    num_entries: int | None = None,
) -> str:
    """MaxVendorId (16), IsRangeEncoding (1), then a bitfield of `ids` or the range `ranges`."""
    if ranges is None:
        return uint(max_vendor_id, 16) + "0" + bitfield(ids, max_vendor_id)
    return uint(max_vendor_id, 16) + "1" + range_entries(ranges, num_entries)


def restrictions_section(restrictions: Sequence[tuple[int, int, Sequence[RangeEntry]]]) -> str:
    """NumPubRestrictions (12), then PurposeId (6), RestrictionType (2) and range entries per restriction."""
    bits = uint(len(restrictions), 12)
    for purpose, restriction_type, entries in restrictions:
        bits += uint(purpose, 6) + uint(restriction_type, 2) + range_entries(entries)
    return bits


def letters(text: str) -> str:
    return "".join(uint(ord(letter) - ord("A"), 6) for letter in text)


@dataclass
class TcCore:
    """Core segment field values in wire units (deciseconds, bit lists as id sets)."""

    version: int = 2
    created_ds: int = 17_489_088_000
    last_updated_ds: int = 17_489_088_000
    cmp_id: int = 300
    cmp_version: int = 2
    consent_screen: int = 1
    consent_language: str = "EN"
    vendor_list_version: int = 150
    tcf_policy_version: int = 4
    is_service_specific: bool = True
    use_non_standard_texts: bool = False
    special_feature_optins: Iterable[int] = ()
    purpose_consents: Iterable[int] = (1, 3, 4, 7)
    purpose_legitimate_interests: Iterable[int] = ()
    purpose_one_treatment: bool = False
    publisher_cc: str = "DE"
    vendor_consents: str = field(default_factory=lambda: vendor_section(max_vendor_id=0))
    vendor_legitimate_interests: str = field(default_factory=lambda: vendor_section(max_vendor_id=0))
    publisher_restrictions: str = field(default_factory=lambda: restrictions_section([]))

    def fixed_bits(self) -> str:
        """Bits 0-212: everything before the vendor consent section."""
        return (
            uint(self.version, 6)
            + uint(self.created_ds, 36)
            + uint(self.last_updated_ds, 36)
            + uint(self.cmp_id, 12)
            + uint(self.cmp_version, 12)
            + uint(self.consent_screen, 6)
            + letters(self.consent_language)
            + uint(self.vendor_list_version, 12)
            + uint(self.tcf_policy_version, 6)
            + flag(self.is_service_specific)
            + flag(self.use_non_standard_texts)
            + bitfield(self.special_feature_optins, 12)
            + bitfield(self.purpose_consents, 24)
            + bitfield(self.purpose_legitimate_interests, 24)
            + flag(self.purpose_one_treatment)
            + letters(self.publisher_cc)
        )

    def bits(self) -> str:
        return (
            self.fixed_bits()
            + self.vendor_consents
            + self.vendor_legitimate_interests
            + self.publisher_restrictions
        )


def vendors_segment(segment_type: int, vendor_section_bits: str) -> str:
    """DisclosedVendors (1) or AllowedVendors (2): SegmentType (3) then a vendor section."""
    return uint(segment_type, 3) + vendor_section_bits


def publisher_tc_segment(
    consents: Iterable[int] = (),
    legitimate_interests: Iterable[int] = (),
    custom_consents: Iterable[int] = (),
    custom_legitimate_interests: Iterable[int] = (),
    num_custom: int = 0,
) -> str:
    return (
        uint(3, 3)
        + bitfield(consents, 24)
        + bitfield(legitimate_interests, 24)
        + uint(num_custom, 6)
        + bitfield(custom_consents, num_custom)
        + bitfield(custom_legitimate_interests, num_custom)
    )


def tc_string(core_bits: str, *segment_bits: str) -> str:
    return ".".join(to_base64url(bits) for bits in (core_bits, *segment_bits))


# --- GPP ---------------------------------------------------------------------------------------


def fibonacci(value: int) -> str:
    """Zeckendorf code, smallest weight first, ended by an extra 1 (so it always ends in `11`)."""
    if value < 1:
        raise ValueError("Fibonacci coding starts at 1")
    weights = [1, 2]
    while weights[-1] <= value:
        weights.append(weights[-1] + weights[-2])
    code = ["0"] * len(weights)
    for index in range(len(weights) - 1, -1, -1):
        if weights[index] <= value:
            code[index] = "1"
            value -= weights[index]
    return "".join(code).rstrip("0") + "1"


def fibonacci_range(ids: Iterable[int]) -> str:
    """Int(12) count, then per run of consecutive ids a single or a group, offsets from the previous id."""
    ordered = sorted(set(ids))
    runs: list[tuple[int, int]] = []
    for section_id in ordered:
        if runs and section_id == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], section_id)
        else:
            runs.append((section_id, section_id))
    bits = uint(len(runs), 12)
    previous = 0
    for first, last in runs:
        if first == last:
            bits += "0" + fibonacci(first - previous)
        else:
            bits += "1" + fibonacci(first - previous) + fibonacci(last - first)
        previous = last
    return bits


def gpp_header(section_ids: Iterable[int], *, header_type: int = 3, version: int = 1) -> str:
    return to_base64url(uint(header_type, 6) + uint(version, 6) + fibonacci_range(section_ids))


def gpp_string(sections: Sequence[tuple[int, str]]) -> str:
    """Header plus bodies; `sections` must be in ascending id order, as the header lists them."""
    return "~".join([gpp_header(section_id for section_id, _ in sections), *(body for _, body in sections)])


# US section layouts restated from each section's IAB spec (GPP repo, Sections/US-*), independently of
# the decoder: (field name, n) with n = 0 for Int(2) and n > 0 for N-Bitfield(2, n); Version is Int(6).
_MSPA = (("MspaCoveredTransaction", 0), ("MspaOptOutOptionMode", 0), ("MspaServiceProviderMode", 0))
_STATE_NOTICES = (("SaleOptOutNotice", 0), ("TargetedAdvertisingOptOutNotice", 0))
_STATE_OPT_OUTS = (("SaleOptOut", 0), ("TargetedAdvertisingOptOut", 0))


def _state(first_notice: str, sensitive: int, child: int, additional: bool) -> tuple[tuple[str, int], ...]:
    return (
        ("Version", 6),
        (first_notice, 0),
        *_STATE_NOTICES,
        *_STATE_OPT_OUTS,
        ("SensitiveDataProcessing", sensitive),
        ("KnownChildSensitiveDataConsents", child),
        *((("AdditionalDataProcessingConsent", 0),) if additional else ()),
        *_MSPA,
    )


def _usnat(sensitive: int, child: int) -> tuple[tuple[str, int], ...]:
    return (
        ("Version", 6),
        ("SharingNotice", 0),
        ("SaleOptOutNotice", 0),
        ("SharingOptOutNotice", 0),
        ("TargetedAdvertisingOptOutNotice", 0),
        ("SensitiveDataProcessingOptOutNotice", 0),
        ("SensitiveDataLimitUseNotice", 0),
        ("SaleOptOut", 0),
        ("SharingOptOut", 0),
        ("TargetedAdvertisingOptOut", 0),
        ("SensitiveDataProcessing", sensitive),
        ("KnownChildSensitiveDataConsents", child),
        ("PersonalDataConsents", 0),
        *_MSPA,
    )


@dataclass(frozen=True)
class UsLayout:
    section_id: int
    prefix: str
    fields: tuple[tuple[str, int], ...]
    has_gpc: bool
    version: int = 1


US_LAYOUTS: tuple[UsLayout, ...] = (
    UsLayout(7, "usnat", _usnat(16, 3), has_gpc=True, version=2),
    UsLayout(7, "usnat", _usnat(12, 2), has_gpc=True, version=1),
    UsLayout(
        8,
        "usca",
        (
            ("Version", 6),
            ("SaleOptOutNotice", 0),
            ("SharingOptOutNotice", 0),
            ("SensitiveDataLimitUseNotice", 0),
            ("SaleOptOut", 0),
            ("SharingOptOut", 0),
            ("SensitiveDataProcessing", 9),
            ("KnownChildSensitiveDataConsents", 2),
            ("PersonalDataConsents", 0),
            *_MSPA,
        ),
        has_gpc=True,
    ),
    UsLayout(9, "usva", _state("SharingNotice", 8, 0, additional=False), has_gpc=False),
    UsLayout(10, "usco", _state("SharingNotice", 7, 0, additional=False), has_gpc=True),
    UsLayout(
        11,
        "usut",
        (
            ("Version", 6),
            ("SharingNotice", 0),
            *_STATE_NOTICES,
            ("SensitiveDataProcessingOptOutNotice", 0),
            *_STATE_OPT_OUTS,
            ("SensitiveDataProcessing", 8),
            ("KnownChildSensitiveDataConsents", 0),
            *_MSPA,
        ),
        has_gpc=False,
    ),
    UsLayout(12, "usct", _state("SharingNotice", 8, 3, additional=False), has_gpc=True),
    UsLayout(13, "usfl", _state("ProcessingNotice", 8, 3, additional=True), has_gpc=False),
    UsLayout(14, "usmt", _state("SharingNotice", 8, 3, additional=True), has_gpc=True),
    UsLayout(15, "usor", _state("ProcessingNotice", 11, 3, additional=True), has_gpc=True),
    UsLayout(16, "ustx", _state("ProcessingNotice", 8, 0, additional=True), has_gpc=True),
    UsLayout(17, "usde", _state("ProcessingNotice", 9, 5, additional=True), has_gpc=True),
    UsLayout(
        18,
        "usia",
        (
            ("Version", 6),
            ("ProcessingNotice", 0),
            *_STATE_NOTICES,
            ("SensitiveDataOptOutNotice", 0),
            *_STATE_OPT_OUTS,
            ("SensitiveDataProcessing", 8),
            ("KnownChildSensitiveDataConsents", 0),
            *_MSPA,
        ),
        has_gpc=True,
    ),
    UsLayout(19, "usne", _state("ProcessingNotice", 8, 0, additional=True), has_gpc=True),
    UsLayout(20, "usnh", _state("ProcessingNotice", 8, 3, additional=True), has_gpc=True),
    UsLayout(21, "usnj", _state("ProcessingNotice", 10, 5, additional=True), has_gpc=True),
    UsLayout(22, "ustn", _state("ProcessingNotice", 8, 0, additional=True), has_gpc=True),
    UsLayout(23, "usmn", _state("ProcessingNotice", 8, 0, additional=True), has_gpc=True),
)


def us_core(layout: UsLayout, values: Mapping[str, object]) -> str:
    """Encode a US core from values by field name; Version defaults to the layout's version."""
    bits = ""
    for name, count in layout.fields:
        value = values.get(name, layout.version) if name == "Version" else values[name]
        if isinstance(value, int):
            bits += uint(value, 6 if name == "Version" else 2)
        elif isinstance(value, Sequence) and len(value) == count:
            bits += "".join(uint(entry, 2) for entry in value)
        else:
            raise ValueError(f"{name} needs {count or 'one'} 2-bit value(s), got {value!r}")
    return bits


def us_section(core_bits: str, gpc: bool | None = None, *, subsection_type: int = 1) -> str:
    """A US section body: the core and, unless `gpc` is None, a GPC sub-section."""
    body = to_base64url(core_bits)
    if gpc is not None:
        body += "." + to_base64url(uint(subsection_type, 2) + flag(gpc))
    return body


def id_runs(ids: set[int]) -> tuple[tuple[int, int], ...]:
    """Vendor ids as their runs of consecutive ids, lowest first: {1, 2, 3, 7} -> ((1, 3), (7, 7))."""
    runs: list[tuple[int, int]] = []
    for vendor in sorted(ids):
        if runs and vendor == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], vendor)
        else:
            runs.append((vendor, vendor))
    return tuple(runs)
