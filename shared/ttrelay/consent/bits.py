"""Bit-level reading of base64url consent strings (TCF and GPP share the wire format).

Fields are unsigned big-endian integers, bit 0 is the leftmost bit of the first character
(reference/consent.md 1.1). A segment is decoded once into a string of '0'/'1' characters: a field is
then one slice parsed by int(..., 2) and a bitfield a few str.find calls, each in C and in constant time
per field however long the segment, so a crafted string cannot make reading quadratic. Every read checks
the end of the segment, so a truncated string raises ConsentStringError instead of decoding zeros
(rule 1.6.3).
"""

import binascii
import re

from ttrelay.consent.errors import ConsentKind, ConsentStringError

_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_URL_TO_STANDARD = bytes.maketrans(b"-_", b"+/")

# GPP section ids are small; a Fibonacci code longer than this is garbage, and bounding it keeps a
# crafted megabyte of bits from turning into a huge integer (the 32nd weight is 3,524,578).
MAX_FIBONACCI_CODE_BITS = 32


def base64url_bits(text: str, kind: ConsentKind, segment: str) -> str:
    """The segment's bits as '0'/'1' characters; strict base64url (`A-Z a-z 0-9 - _`, no padding),
    anything else rejects (rule 1.6.1)."""
    if not text:
        raise ConsentStringError(kind, f"{segment} is empty")
    if _BASE64URL.fullmatch(text) is None:
        raise ConsentStringError(kind, f"{segment} has a character outside base64url (A-Z a-z 0-9 - _)")
    # Padding the text with 'A' (six zero bits) to a multiple of four characters lets the C decoder
    # do the work; the shift then drops those padding bits again.
    pad = -len(text) % 4
    standard = text.encode("ascii").translate(_URL_TO_STANDARD) + b"A" * pad
    try:
        data = binascii.a2b_base64(standard, strict_mode=True)
    except binascii.Error as error:  # unreachable after the alphabet check
        raise ConsentStringError(kind, f"{segment} is not base64url") from error
    bit_length = 6 * len(text)
    return format(int.from_bytes(data) >> (6 * pad), f"0{bit_length}b")


def set_bit_ids(bits: str, start: int, end: int) -> tuple[int, ...]:
    """The 1-based positions, counted from `start`, of the '1's in bits[start:end] (bit k-1 <-> id k)."""
    ids: list[int] = []
    find = bits.find
    index = find("1", start, end)
    while index >= 0:
        ids.append(index - start + 1)
        index = find("1", index + 1, end)
    return tuple(ids)


class BitReader:
    """Reads fields in order from one segment; never reads past the segment's last bit.

    `bits` and `position` are public so that a decoder's hot loop may slice several fields at once
    after one `require` (see tcf.py); everything else goes through the read methods.
    """

    __slots__ = ("bit_length", "bits", "kind", "position", "segment")

    def __init__(self, bits: str, kind: ConsentKind, segment: str) -> None:
        self.bits = bits
        self.bit_length = len(bits)
        self.kind = kind
        self.segment = segment
        self.position = 0

    @classmethod
    def from_base64url(cls, text: str, kind: ConsentKind, segment: str) -> "BitReader":
        return cls(base64url_bits(text, kind, segment), kind, segment)

    @property
    def remaining(self) -> int:
        return self.bit_length - self.position

    def fail(self, detail: str) -> ConsentStringError:
        return ConsentStringError(self.kind, f"{detail} in {self.segment}")

    def truncated(self, width: int, field: str) -> ConsentStringError:
        """The error of a `width`-bit read of `field` at the current position that passes the end."""
        return ConsentStringError(
            self.kind,
            f"{self.segment} ends at bit {self.bit_length} but {field} needs {width} bits "
            f"from bit {self.position}",
        )

    def read_int(self, width: int, field: str) -> int:
        position = self.position
        end = position + width
        if end > self.bit_length:
            raise self.truncated(width, field)
        self.position = end
        # int("", 2) would raise: a zero-width field is the value 0.
        return int(self.bits[position:end] or "0", 2)

    def read_bool(self, field: str) -> bool:
        position = self.position
        if position >= self.bit_length:
            raise self.truncated(1, field)
        self.position = position + 1
        return self.bits[position] == "1"

    def read_bitfield(self, width: int, field: str) -> tuple[int, ...]:
        """The 1-based positions of the set bits among the next `width` bits (bit k-1 <-> id k)."""
        position = self.position
        end = position + width
        if end > self.bit_length:
            raise self.truncated(width, field)
        self.position = end
        return set_bit_ids(self.bits, position, end)

    def read_int_list(self, count: int, width: int, field: str) -> tuple[int, ...]:
        return tuple(self.read_int(width, field) for _ in range(count))

    def read_fibonacci(self, field: str) -> int:
        """A Fibonacci-coded integer: weights 1, 2, 3, 5, 8... left to right, ended by `11` (GPP 2.1)."""
        value = 0
        weight, next_weight = 1, 2
        previous_bit = False
        for _ in range(MAX_FIBONACCI_CODE_BITS + 1):
            bit = self.read_bool(field)
            if bit and previous_bit:
                return value
            if bit:
                value += weight
            previous_bit = bit
            weight, next_weight = next_weight, weight + next_weight
        raise self.fail(f"{field} is a Fibonacci code longer than {MAX_FIBONACCI_CODE_BITS} bits")

    def read_fibonacci_range(self, field: str) -> tuple[tuple[int, int], ...]:
        """A GPP Fibonacci range as ascending (first, last) spans, not yet expanded.

        Int(12) count, then per item a group flag; a single id is an offset from the previous id
        (0 before the first), a group is an offset to its first id plus a length n (first..first+n).
        Offsets are at least 1, so ids strictly ascend by construction.
        """
        count = self.read_int(12, f"{field} count")
        spans: list[tuple[int, int]] = []
        previous = 0
        for _ in range(count):
            is_group = self.read_bool(f"{field} group flag")
            first = previous + self.read_fibonacci(field)
            last = first + self.read_fibonacci(f"{field} group length") if is_group else first
            spans.append((first, last))
            previous = last
        return tuple(spans)
