"""Strict decoder for IAB TCF v2 TC strings (reference/consent.md section 1).

Unlike the reference decoders (1.7), every rule of 1.6 is enforced: a string that breaks one
raises ConsentStringError, it is never decoded to defaults.
"""

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from ttrelay.consent.bits import BitReader, set_bit_ids
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
        return cls(_merge_spans(spans))

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
        return _ids(self.spans)


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


class TcString(NamedTuple):
    """A decoded TC string. The first fields are exactly the keys of `decode-tcf`'s JSON output.

    Immutable like a frozen dataclass, but a NamedTuple: one is built per request, and a frozen
    dataclass sets each of these 22 fields through object.__setattr__, three times the cost. Build it
    with keywords; compare it only with another TcString (as a tuple, it would equal its values).
    """

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
    return _read_core(BitReader.from_base64url(core_text, "tcf", "core"), segment_texts)


@dataclass(slots=True)
class _Segments:
    """The optional segments after the core (1.5); a repeated type is not a 1.6 error, the first is kept."""

    disclosed_vendors: tuple[int, ...] | None = None
    allowed_vendors: tuple[int, ...] | None = None
    publisher_tc: PublisherTc | None = None


def _read_segments(segment_texts: list[str]) -> _Segments:
    found = _Segments()
    for number, text in enumerate(segment_texts, start=2):
        reader = BitReader.from_base64url(text, "tcf", f"segment {number}")
        segment_type = reader.read_int(3, "SegmentType")
        if segment_type == _DISCLOSED_VENDORS:
            reader.segment = "the DisclosedVendors segment"
            vendors = _read_vendor_section(reader, _DISCLOSED_VENDORS_FIELDS)
            if found.disclosed_vendors is None:
                found.disclosed_vendors = vendors
        elif segment_type == _ALLOWED_VENDORS:
            reader.segment = "the AllowedVendors segment"
            vendors = _read_vendor_section(reader, _ALLOWED_VENDORS_FIELDS)
            if found.allowed_vendors is None:
                found.allowed_vendors = vendors
        elif segment_type == _PUBLISHER_TC:
            reader.segment = "the PublisherTC segment"
            publisher = _read_publisher_tc(reader)
            if found.publisher_tc is None:
                found.publisher_tc = publisher
        else:
            # Rule 1.6.6: 0 would be a second core; 4-7 are undefined.
            raise ConsentStringError(
                "tcf", f"segment {number} has SegmentType {segment_type}; only 1, 2 or 3 may follow the core"
            )
    return found


# The core's fixed fields in wire order, (field, width): bits 0-212 of the table in 1.2. A letter pair is
# two 6-bit fields. _read_core slices them at these offsets; this table names the field a cut core cuts.
_CORE_FIXED_FIELDS: tuple[tuple[str, int], ...] = (
    ("Version", 6),
    ("Created", 36),
    ("LastUpdated", 36),
    ("CmpId", 12),
    ("CmpVersion", 12),
    ("ConsentScreen", 6),
    ("ConsentLanguage", 6),
    ("ConsentLanguage", 6),
    ("VendorListVersion", 12),
    ("TcfPolicyVersion", 6),
    ("IsServiceSpecific", 1),
    ("UseNonStandardTexts", 1),
    ("SpecialFeatureOptIns", 12),
    ("PurposesConsent", 24),
    ("PurposesLITransparency", 24),
    ("PurposeOneTreatment", 1),
    ("PublisherCC", 6),
    ("PublisherCC", 6),
)
_CORE_FIXED_BITS = 213


def _read_core(reader: BitReader, segment_texts: list[str]) -> TcString:
    """The core: fixed offsets up to bit 213, then the vendor and restriction sections (1.2), then the
    later segments; the string is only built once all are read.

    Bits after the last field are padding and ignored, whatever their value (rule 1.6.7).
    """
    version = reader.read_int(6, "Version")
    if version != 2:
        hint = {1: " (TCF v1.1)", 3: " (a GPP string starts with D)"}.get(version, "")
        raise ConsentStringError("tcf", f"version {version}{hint} is not supported; only version 2 is")
    if reader.bit_length < _CORE_FIXED_BITS:
        # A cut core: read field by field, which raises naming the first field cut (rule 1.6.3).
        for field, width in _CORE_FIXED_FIELDS[1:]:
            reader.read_int(width, field)
    # All 213 fixed bits are there: slice each field at its offset (1.2) with no per-field check.
    bits = reader.bits
    reader.position = _CORE_FIXED_BITS
    vendor_consents = _read_vendor_section(reader, _VENDOR_CONSENTS_FIELDS)
    vendor_legitimate_interests = _read_vendor_section(reader, _VENDOR_LEGITIMATE_INTERESTS_FIELDS)
    publisher_restrictions = _read_publisher_restrictions(reader)
    segments = _read_segments(segment_texts)
    return TcString(
        version=version,
        # Deciseconds on the wire; unix seconds out, floored (1.6 output contract).
        created=int(bits[6:42], 2) // 10,
        last_updated=int(bits[42:78], 2) // 10,
        cmp_id=int(bits[78:90], 2),
        cmp_version=int(bits[90:102], 2),
        consent_screen=int(bits[102:108], 2),
        consent_language=_letters(bits, 108),
        vendor_list_version=int(bits[120:132], 2),
        tcf_policy_version=int(bits[132:138], 2),
        is_service_specific=bits[138] == "1",
        use_non_standard_texts=bits[139] == "1",
        special_feature_optins=set_bit_ids(bits, 140, 152),
        purpose_consents=set_bit_ids(bits, 152, 176),
        purpose_legitimate_interests=set_bit_ids(bits, 176, 200),
        purpose_one_treatment=bits[200] == "1",
        publisher_cc=_letters(bits, 201),
        vendor_consents=vendor_consents,
        vendor_legitimate_interests=vendor_legitimate_interests,
        publisher_restrictions=publisher_restrictions,
        disclosed_vendors=segments.disclosed_vendors,
        allowed_vendors=segments.allowed_vendors,
        publisher_tc=segments.publisher_tc,
    )


def _letters(bits: str, offset: int) -> str:
    # Two 6-bit letters, 0 = A ... 25 = Z (1.2).
    return chr(65 + int(bits[offset : offset + 6], 2)) + chr(65 + int(bits[offset + 6 : offset + 12], 2))


class _SectionFields(NamedTuple):
    """How errors name one section's fields; made once per vendor section, not on every read."""

    name: str
    max_vendor_id: str
    is_range_encoding: str
    bitfield: str
    num_entries: str
    entry_head: str
    entry_end: str

    @classmethod
    def of(cls, name: str) -> "_SectionFields":
        return cls(
            name,
            f"MaxVendorId of {name}",
            f"IsRangeEncoding of {name}",
            f"the {name} bitfield",
            f"NumEntries of {name}",
            f"IsARange and StartOrOnlyVendorId in {name}",
            f"EndVendorId in {name}",
        )


_VENDOR_CONSENTS_FIELDS = _SectionFields.of("vendor_consents")
_VENDOR_LEGITIMATE_INTERESTS_FIELDS = _SectionFields.of("vendor_legitimate_interests")
_DISCLOSED_VENDORS_FIELDS = _SectionFields.of("disclosed_vendors")
_ALLOWED_VENDORS_FIELDS = _SectionFields.of("allowed_vendors")


def _read_vendor_section(reader: BitReader, fields: _SectionFields) -> tuple[int, ...]:
    """MaxVendorId, IsRangeEncoding, then a bitfield of exactly MaxVendorId bits or range entries (1.3)."""
    max_vendor_id = reader.read_int(16, fields.max_vendor_id)
    if reader.read_bool(fields.is_range_encoding):
        return _covered_ids(_read_range_entries(reader, fields, max_vendor_id))
    return reader.read_bitfield(max_vendor_id, fields.bitfield)


def _read_range_entries(
    reader: BitReader, fields: _SectionFields, max_vendor_id: int | None
) -> list[tuple[int, int]]:
    """NumEntries (12), then IsARange (1), StartOrOnlyVendorId (16) and, for a range, EndVendorId (16)."""
    name = fields.name
    count = reader.read_int(12, fields.num_entries)
    if count * 17 > reader.remaining:
        # Each entry takes at least 17 bits: fail now rather than after reading what is there (1.6.3).
        raise ConsentStringError(
            "tcf",
            f"{name} has NumEntries {count} but only {reader.remaining} bits remain in {reader.segment}",
        )
    # This loop is the hot path of a crafted string: it slices the bits in place, checking the end
    # before each entry, and hands back to the reader only to name a cut field.
    bits, bit_length, position = reader.bits, reader.bit_length, reader.position
    spans: list[tuple[int, int]] = []
    for _ in range(count):
        reader.position = position
        if position + 17 > bit_length:
            raise reader.truncated(17, fields.entry_head)
        start = int(bits[position + 1 : position + 17], 2)
        position += 17
        if bits[position - 17] == "1":  # IsARange
            reader.position = position
            if position + 16 > bit_length:
                raise reader.truncated(16, fields.entry_end)
            end = int(bits[position : position + 16], 2)
            position += 16
        else:
            end = start
        # Rules 1.6.4 and 1.6.5.
        if start < 1:
            raise ConsentStringError("tcf", f"vendor id 0 in {name}")
        if end < start:
            raise ConsentStringError("tcf", f"vendor range end {end} < start {start} in {name}")
        if max_vendor_id is not None and end > max_vendor_id:
            raise ConsentStringError("tcf", f"vendor id {end} above MaxVendorId {max_vendor_id} in {name}")
        spans.append((start, end))
    reader.position = position
    return spans


def _read_publisher_restrictions(reader: BitReader) -> tuple[PublisherRestriction, ...]:
    # NumPubRestrictions is present even when 0 (1.2), so a core that stops before it is truncated.
    count = reader.read_int(12, "NumPubRestrictions")
    if count == 0:
        return ()
    spans_by_pair: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for number in range(1, count + 1):
        purpose = reader.read_int(6, f"PurposeId of publisher restriction {number}")
        restriction_type = reader.read_int(2, f"RestrictionType of publisher restriction {number}")
        fields = _SectionFields.of(
            f"publisher restriction {number} (purpose {purpose}, type {restriction_type})"
        )
        spans = _read_range_entries(reader, fields, max_vendor_id=None)
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


def _merge_spans(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Disjoint, ascending spans covering exactly the union of `spans` (order and overlap are free)."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return tuple(merged)


def _ids(spans: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    return tuple(chain.from_iterable(range(first, last + 1) for first, last in spans))


def _covered_ids(spans: list[tuple[int, int]]) -> tuple[int, ...]:
    """The ids the spans cover, ascending and once each (their union, rule 1.6.4), in one pass over the
    sorted spans: linear in the ids produced, however much the spans overlap."""
    spans.sort()
    ids: list[int] = []
    highest = 0  # the highest id produced so far (ids start at 1)
    for first, last in spans:
        if last <= highest:
            continue  # already covered
        if first == last:
            ids.append(first)  # a single vendor: the common entry
        else:
            ids += range(max(first, highest + 1), last + 1)
        highest = last
    return tuple(ids)


def _sorted_contains(ids: tuple[int, ...], wanted: int) -> bool:
    index = bisect_right(ids, wanted) - 1
    return index >= 0 and ids[index] == wanted


def _span_start(span: tuple[int, int]) -> int:
    return span[0]
