"""TEST-ONLY reference TC string decoder: the straightforward reading the fast decoder must equal.

A field is read one bit at a time from a '0'/'1' string, every read checks the end of its segment, and
the decoding follows reference/consent.md 1.2-1.6 field by field, exactly as ttrelay's decoder did before
it read the fixed core at once and sliced the variable sections in place. Property tests compare the two
on random, truncated and corrupted strings: same TcString, or the same ConsentStringError message.
"""

from ttrelay.consent.errors import ConsentKind, ConsentStringError
from ttrelay.consent.tcf import IdRanges, PublisherRestriction, PublisherTc, TcString

from support.encoders import id_runs

BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class ReferenceReader:
    """Reads fields in order from one segment, bit by bit; never past the segment's last bit."""

    def __init__(self, text: str, kind: ConsentKind, segment: str) -> None:
        if not text:
            raise ConsentStringError(kind, f"{segment} is empty")
        if any(character not in BASE64URL_ALPHABET for character in text):
            raise ConsentStringError(kind, f"{segment} has a character outside base64url (A-Z a-z 0-9 - _)")
        self.bits = [bit == "1" for c in text for bit in format(BASE64URL_ALPHABET.index(c), "06b")]
        self.kind = kind
        self.segment = segment
        self.position = 0

    @property
    def bit_length(self) -> int:
        return len(self.bits)

    @property
    def remaining(self) -> int:
        return self.bit_length - self.position

    def read_int(self, width: int, field: str) -> int:
        if self.position + width > self.bit_length:
            raise ConsentStringError(
                self.kind,
                f"{self.segment} ends at bit {self.bit_length} but {field} needs {width} bits "
                f"from bit {self.position}",
            )
        value = 0
        for _ in range(width):
            value = 2 * value + self.bits[self.position]
            self.position += 1
        return value

    def read_bool(self, field: str) -> bool:
        return self.read_int(1, field) == 1

    def read_bitfield(self, width: int, field: str) -> tuple[int, ...]:
        value = self.read_int(width, field)
        return tuple(k for k in range(1, width + 1) if value >> (width - k) & 1)


def reference_decode_tcf(s: str) -> TcString:
    if not isinstance(s, str):
        raise ConsentStringError("tcf", "the TC string must be text")
    if not s:
        raise ConsentStringError("tcf", "the TC string is empty")
    core_text, *segment_texts = s.split(".")
    fields = _read_core(ReferenceReader(core_text, "tcf", "core"))
    found: dict[int, object] = {}
    for number, text in enumerate(segment_texts, start=2):
        reader = ReferenceReader(text, "tcf", f"segment {number}")
        segment_type = reader.read_int(3, "SegmentType")
        if segment_type == 1:
            reader.segment = "the DisclosedVendors segment"
            value: object = _read_vendor_section(reader, "disclosed_vendors")
        elif segment_type == 2:
            reader.segment = "the AllowedVendors segment"
            value = _read_vendor_section(reader, "allowed_vendors")
        elif segment_type == 3:
            reader.segment = "the PublisherTC segment"
            value = _read_publisher_tc(reader)
        else:
            raise ConsentStringError(
                "tcf", f"segment {number} has SegmentType {segment_type}; only 1, 2 or 3 may follow the core"
            )
        found.setdefault(segment_type, value)
    return TcString(
        **fields,  # type: ignore[arg-type]
        disclosed_vendors=found.get(1),  # type: ignore[arg-type]
        allowed_vendors=found.get(2),  # type: ignore[arg-type]
        publisher_tc=found.get(3),  # type: ignore[arg-type]
    )


def _read_core(reader: ReferenceReader) -> dict[str, object]:
    version = reader.read_int(6, "Version")
    if version != 2:
        hint = {1: " (TCF v1.1)", 3: " (a GPP string starts with D)"}.get(version, "")
        raise ConsentStringError("tcf", f"version {version}{hint} is not supported; only version 2 is")
    return {
        "version": version,
        "created": reader.read_int(36, "Created") // 10,
        "last_updated": reader.read_int(36, "LastUpdated") // 10,
        "cmp_id": reader.read_int(12, "CmpId"),
        "cmp_version": reader.read_int(12, "CmpVersion"),
        "consent_screen": reader.read_int(6, "ConsentScreen"),
        "consent_language": _read_letters(reader, "ConsentLanguage"),
        "vendor_list_version": reader.read_int(12, "VendorListVersion"),
        "tcf_policy_version": reader.read_int(6, "TcfPolicyVersion"),
        "is_service_specific": reader.read_bool("IsServiceSpecific"),
        "use_non_standard_texts": reader.read_bool("UseNonStandardTexts"),
        "special_feature_optins": reader.read_bitfield(12, "SpecialFeatureOptIns"),
        "purpose_consents": reader.read_bitfield(24, "PurposesConsent"),
        "purpose_legitimate_interests": reader.read_bitfield(24, "PurposesLITransparency"),
        "purpose_one_treatment": reader.read_bool("PurposeOneTreatment"),
        "publisher_cc": _read_letters(reader, "PublisherCC"),
        "vendor_consents": _read_vendor_section(reader, "vendor_consents"),
        "vendor_legitimate_interests": _read_vendor_section(reader, "vendor_legitimate_interests"),
        "publisher_restrictions": _read_publisher_restrictions(reader),
    }


def _read_letters(reader: ReferenceReader, field: str) -> str:
    return "".join(chr(ord("A") + reader.read_int(6, field)) for _ in range(2))


def _read_vendor_section(reader: ReferenceReader, name: str) -> tuple[int, ...]:
    max_vendor_id = reader.read_int(16, f"MaxVendorId of {name}")
    if reader.read_bool(f"IsRangeEncoding of {name}"):
        return tuple(sorted(_covered(_read_range_entries(reader, name, max_vendor_id))))
    return reader.read_bitfield(max_vendor_id, f"the {name} bitfield")


def _read_range_entries(
    reader: ReferenceReader, name: str, max_vendor_id: int | None
) -> list[tuple[int, int]]:
    count = reader.read_int(12, f"NumEntries of {name}")
    if count * 17 > reader.remaining:
        raise ConsentStringError(
            "tcf",
            f"{name} has NumEntries {count} but only {reader.remaining} bits remain in {reader.segment}",
        )
    spans: list[tuple[int, int]] = []
    for _ in range(count):
        head = reader.read_int(17, f"IsARange and StartOrOnlyVendorId in {name}")
        start = head & 0xFFFF
        end = reader.read_int(16, f"EndVendorId in {name}") if head >> 16 else start
        if start < 1:
            raise ConsentStringError("tcf", f"vendor id 0 in {name}")
        if end < start:
            raise ConsentStringError("tcf", f"vendor range end {end} < start {start} in {name}")
        if max_vendor_id is not None and end > max_vendor_id:
            raise ConsentStringError("tcf", f"vendor id {end} above MaxVendorId {max_vendor_id} in {name}")
        spans.append((start, end))
    return spans


def _read_publisher_restrictions(reader: ReferenceReader) -> tuple[PublisherRestriction, ...]:
    count = reader.read_int(12, "NumPubRestrictions")
    spans_by_pair: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for number in range(1, count + 1):
        purpose = reader.read_int(6, f"PurposeId of publisher restriction {number}")
        restriction_type = reader.read_int(2, f"RestrictionType of publisher restriction {number}")
        name = f"publisher restriction {number} (purpose {purpose}, type {restriction_type})"
        spans_by_pair.setdefault((purpose, restriction_type), []).extend(
            _read_range_entries(reader, name, max_vendor_id=None)
        )
    return tuple(
        PublisherRestriction(purpose, restriction_type, IdRanges(id_runs(_covered(spans))))
        for (purpose, restriction_type), spans in sorted(spans_by_pair.items())
    )


def _read_publisher_tc(reader: ReferenceReader) -> PublisherTc:
    consents = reader.read_bitfield(24, "PubPurposesConsent")
    legitimate_interests = reader.read_bitfield(24, "PubPurposesLITransparency")
    custom_count = reader.read_int(6, "NumCustomPurposes")
    return PublisherTc(
        purpose_consents=consents,
        purpose_legitimate_interests=legitimate_interests,
        num_custom_purposes=custom_count,
        custom_purpose_consents=reader.read_bitfield(custom_count, "CustomPurposesConsent"),
        custom_purpose_legitimate_interests=reader.read_bitfield(
            custom_count, "CustomPurposesLITransparency"
        ),
    )


def _covered(spans: list[tuple[int, int]]) -> set[int]:
    return {vendor for start, end in spans for vendor in range(start, end + 1)}
