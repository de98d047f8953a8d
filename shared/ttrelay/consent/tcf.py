"""Strict decoder for IAB TCF v2 TC strings (reference/consent.md section 1).

Unlike the reference decoders (1.7), every rule of 1.6 is enforced: a string that breaks one
raises ConsentStringError, it is never decoded to defaults.
"""

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import chain

from ttrelay.consent.bits import BitReader
from ttrelay.consent.errors import ConsentStringError

# Segment types that may follow the core (1.1); 0 would be a second core (rule 1.6.6).
_DISCLOSED_VENDORS = 1
_ALLOWED_VENDORS = 2
_PUBLISHER_TC = 3


@dataclass(frozen=True, slots=True)
class IdRanges:
    """A set of ids kept as disjoint, ascending, inclusive spans.

    Publisher restrictions have no MaxVendorId: one 33-bit range entry can name 65,535 vendors,
    so a short string could otherwise expand into millions of ints. Membership is a binary search.
    """

    spans: tuple[tuple[int, int], ...] = ()

    @classmethod
    def union_of(cls, spans: Iterable[tuple[int, int]]) -> "IdRanges":
        """Entry order is not significant and entries may overlap: the result is their union (1.6.4)."""
        merged: list[tuple[int, int]] = []
        for first, last in sorted(spans):
            if merged and first <= merged[-1][1] + 1:
                if last > merged[-1][1]:
                    merged[-1] = (merged[-1][0], last)
            else:
                merged.append((first, last))
        return cls(tuple(merged))

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int):
            return False
        index = bisect_right(self.spans, item, key=_span_start) - 1
        return index >= 0 and self.spans[index][0] <= item <= self.spans[index][1]

    def __iter__(self) -> Iterator[int]:
        return chain.from_iterable(range(first, last + 1) for first, last in self.spans)

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in self.spans)

    def ids(self) -> tuple[int, ...]:
        return tuple(self)


@dataclass(frozen=True, slots=True)
class PublisherRestriction:
    """All restriction entries of one (purpose, type) pair, merged (rule 1.6.5).

    Types: 0 not allowed, 1 require consent, 2 require legitimate interest, 3 undefined (1.4).
    """

    purpose: int
    type: int
    vendors: IdRanges

    def as_dict(self) -> dict[str, object]:
        return {"purpose": self.purpose, "type": self.type, "vendors": list(self.vendors)}


@dataclass(frozen=True, slots=True)
class PublisherTc:
    """The PublisherTC segment (type 3): the publisher's own processing, not a vendor signal (1.5)."""

    purpose_consents: tuple[int, ...]
    purpose_legitimate_interests: tuple[int, ...]
    num_custom_purposes: int
    custom_purpose_consents: tuple[int, ...]
    custom_purpose_legitimate_interests: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TcString:
    """A decoded TC string. The first fields are exactly the keys of `decode-tcf`'s JSON output."""

    version: int
    created: int
    last_updated: int
    cmp_id: int
    cmp_version: int
    consent_screen: int
    consent_language: str
    vendor_list_version: int
    tcf_policy_version: int
    is_service_specific: bool
    use_non_standard_texts: bool
    special_feature_optins: tuple[int, ...]
    purpose_consents: tuple[int, ...]
    purpose_legitimate_interests: tuple[int, ...]
    purpose_one_treatment: bool
    publisher_cc: str
    vendor_consents: tuple[int, ...]
    vendor_legitimate_interests: tuple[int, ...]
    publisher_restrictions: tuple[PublisherRestriction, ...]
    # Optional segments; None when the string does not carry them.
    disclosed_vendors: tuple[int, ...] | None = None
    allowed_vendors: tuple[int, ...] | None = None
    publisher_tc: PublisherTc | None = None

    def has_purpose_consent(self, purpose: int) -> bool:
        return purpose in self.purpose_consents

    def has_purpose_legitimate_interest(self, purpose: int) -> bool:
        return purpose in self.purpose_legitimate_interests

    def has_vendor_consent(self, vendor: int) -> bool:
        return _sorted_contains(self.vendor_consents, vendor)

    def has_vendor_legitimate_interest(self, vendor: int) -> bool:
        return _sorted_contains(self.vendor_legitimate_interests, vendor)

    def restriction_types_for(self, vendor: int, purpose: int) -> set[int]:
        """The publisher restriction types (0-3) that name `vendor` for `purpose`."""
        return {
            restriction.type
            for restriction in self.publisher_restrictions
            if restriction.purpose == purpose and vendor in restriction.vendors
        }

    def as_dict(self) -> dict[str, object]:
        """The `ttrelay consent decode-tcf` JSON object (see vectors/tcf.json).

        This expands restriction ranges into id lists: a crafted string of about 80 KB can name every
        vendor id for each of 256 (purpose, type) pairs, so keep this off the request path and use the
        helpers below there.
        """
        return {
            "version": self.version,
            "created": self.created,
            "last_updated": self.last_updated,
            "cmp_id": self.cmp_id,
            "cmp_version": self.cmp_version,
            "consent_screen": self.consent_screen,
            "consent_language": self.consent_language,
            "vendor_list_version": self.vendor_list_version,
            "tcf_policy_version": self.tcf_policy_version,
            "is_service_specific": self.is_service_specific,
            "use_non_standard_texts": self.use_non_standard_texts,
            "special_feature_optins": list(self.special_feature_optins),
            "purpose_consents": list(self.purpose_consents),
            "purpose_legitimate_interests": list(self.purpose_legitimate_interests),
            "purpose_one_treatment": self.purpose_one_treatment,
            "publisher_cc": self.publisher_cc,
            "vendor_consents": list(self.vendor_consents),
            "vendor_legitimate_interests": list(self.vendor_legitimate_interests),
            "publisher_restrictions": [restriction.as_dict() for restriction in self.publisher_restrictions],
        }


def decode_tcf(s: str) -> TcString:
    """Decode a TC string strictly; raise ConsentStringError (kind "tcf") on any rule of 1.6."""
    if not isinstance(s, str):
        raise ConsentStringError("tcf", "the TC string must be text")
    if not s:
        raise ConsentStringError("tcf", "the TC string is empty")
    core_text, *segment_texts = s.split(".")
    core = _read_core(BitReader.from_base64url(core_text, "tcf", "core"))
    disclosed: tuple[int, ...] | None = None
    allowed: tuple[int, ...] | None = None
    publisher_tc: PublisherTc | None = None
    for number, text in enumerate(segment_texts, start=2):
        reader = BitReader.from_base64url(text, "tcf", f"segment {number}")
        segment_type = reader.read_int(3, "SegmentType")
        # A repeated segment type is not a 1.6 error; the first one is kept.
        if segment_type == _DISCLOSED_VENDORS:
            reader.segment = "the DisclosedVendors segment"
            vendors = _read_vendor_section(reader, "disclosed_vendors")
            disclosed = vendors if disclosed is None else disclosed
        elif segment_type == _ALLOWED_VENDORS:
            reader.segment = "the AllowedVendors segment"
            vendors = _read_vendor_section(reader, "allowed_vendors")
            allowed = vendors if allowed is None else allowed
        elif segment_type == _PUBLISHER_TC:
            reader.segment = "the PublisherTC segment"
            publisher = _read_publisher_tc(reader)
            publisher_tc = publisher if publisher_tc is None else publisher_tc
        else:
            # Rule 1.6.6: 0 would be a second core; 4-7 are undefined.
            raise ConsentStringError(
                "tcf", f"segment {number} has SegmentType {segment_type}; only 1, 2 or 3 may follow the core"
            )
    return replace(core, disclosed_vendors=disclosed, allowed_vendors=allowed, publisher_tc=publisher_tc)


def _read_core(reader: BitReader) -> TcString:
    """The core: fixed offsets up to bit 213, then the vendor and restriction sections (1.2).

    Bits after the last field are padding and ignored, whatever their value (rule 1.6.7).
    """
    version = reader.read_int(6, "Version")
    if version != 2:
        hint = {1: " (TCF v1.1)", 3: " (a GPP string starts with D)"}.get(version, "")
        raise ConsentStringError("tcf", f"version {version}{hint} is not supported; only version 2 is")
    return TcString(
        version=version,
        # Deciseconds on the wire; unix seconds out, floored (1.6 output contract).
        created=reader.read_int(36, "Created") // 10,
        last_updated=reader.read_int(36, "LastUpdated") // 10,
        cmp_id=reader.read_int(12, "CmpId"),
        cmp_version=reader.read_int(12, "CmpVersion"),
        consent_screen=reader.read_int(6, "ConsentScreen"),
        consent_language=_read_letters(reader, "ConsentLanguage"),
        vendor_list_version=reader.read_int(12, "VendorListVersion"),
        tcf_policy_version=reader.read_int(6, "TcfPolicyVersion"),
        is_service_specific=reader.read_bool("IsServiceSpecific"),
        use_non_standard_texts=reader.read_bool("UseNonStandardTexts"),
        special_feature_optins=reader.read_bitfield(12, "SpecialFeatureOptIns"),
        purpose_consents=reader.read_bitfield(24, "PurposesConsent"),
        purpose_legitimate_interests=reader.read_bitfield(24, "PurposesLITransparency"),
        purpose_one_treatment=reader.read_bool("PurposeOneTreatment"),
        publisher_cc=_read_letters(reader, "PublisherCC"),
        vendor_consents=_read_vendor_section(reader, "vendor_consents"),
        vendor_legitimate_interests=_read_vendor_section(reader, "vendor_legitimate_interests"),
        publisher_restrictions=_read_publisher_restrictions(reader),
    )


def _read_letters(reader: BitReader, field: str) -> str:
    # Two 6-bit letters, 0 = A ... 25 = Z (1.2).
    return "".join(chr(ord("A") + reader.read_int(6, field)) for _ in range(2))


def _read_vendor_section(reader: BitReader, name: str) -> tuple[int, ...]:
    """MaxVendorId, IsRangeEncoding, then a bitfield of exactly MaxVendorId bits or range entries (1.3)."""
    max_vendor_id = reader.read_int(16, f"MaxVendorId of {name}")
    if reader.read_bool(f"IsRangeEncoding of {name}"):
        spans = _read_range_entries(reader, name, max_vendor_id)
        return IdRanges.union_of(spans).ids()
    return reader.read_bitfield(max_vendor_id, f"the {name} bitfield")


def _read_range_entries(reader: BitReader, name: str, max_vendor_id: int | None) -> list[tuple[int, int]]:
    """NumEntries (12), then IsARange (1), StartOrOnlyVendorId (16) and, for a range, EndVendorId (16)."""
    count = reader.read_int(12, f"NumEntries of {name}")
    if count * 17 > reader.remaining:
        # Each entry takes at least 17 bits: fail now rather than after reading what is there (1.6.3).
        raise ConsentStringError(
            "tcf",
            f"{name} has NumEntries {count} but only {reader.remaining} bits remain in {reader.segment}",
        )
    spans: list[tuple[int, int]] = []
    read_int = reader.read_int
    head_field, end_field = f"IsARange and StartOrOnlyVendorId in {name}", f"EndVendorId in {name}"
    for _ in range(count):
        # IsARange and StartOrOnlyVendorId in one read: this loop is the hot path of a crafted string.
        head = read_int(17, head_field)
        start = head & 0xFFFF
        end = read_int(16, end_field) if head >> 16 else start
        # Rules 1.6.4 and 1.6.5.
        if start < 1:
            raise ConsentStringError("tcf", f"vendor id 0 in {name}")
        if end < start:
            raise ConsentStringError("tcf", f"vendor range end {end} < start {start} in {name}")
        if max_vendor_id is not None and end > max_vendor_id:
            raise ConsentStringError("tcf", f"vendor id {end} above MaxVendorId {max_vendor_id} in {name}")
        spans.append((start, end))
    return spans


def _read_publisher_restrictions(reader: BitReader) -> tuple[PublisherRestriction, ...]:
    # NumPubRestrictions is present even when 0 (1.2), so a core that stops before it is truncated.
    count = reader.read_int(12, "NumPubRestrictions")
    spans_by_pair: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for number in range(1, count + 1):
        purpose = reader.read_int(6, f"PurposeId of publisher restriction {number}")
        restriction_type = reader.read_int(2, f"RestrictionType of publisher restriction {number}")
        name = f"publisher restriction {number} (purpose {purpose}, type {restriction_type})"
        spans = _read_range_entries(reader, name, max_vendor_id=None)
        # Entries repeating a (purpose, type) pair are merged (rule 1.6.5).
        spans_by_pair.setdefault((purpose, restriction_type), []).extend(spans)
    return tuple(
        PublisherRestriction(purpose, restriction_type, IdRanges.union_of(spans))
        for (purpose, restriction_type), spans in sorted(spans_by_pair.items())
    )


def _read_publisher_tc(reader: BitReader) -> PublisherTc:
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


def _sorted_contains(ids: tuple[int, ...], wanted: int) -> bool:
    index = bisect_right(ids, wanted) - 1
    return index >= 0 and ids[index] == wanted


def _span_start(span: tuple[int, int]) -> int:
    return span[0]
