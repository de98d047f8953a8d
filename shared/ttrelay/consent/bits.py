"""Bit-level reading of base64url consent strings (TCF and GPP share the wire format).

Fields are unsigned big-endian integers, bit 0 is the leftmost bit of the first character
(reference/consent.md 1.1). Every read checks the end of the segment, so a truncated string
raises ConsentStringError instead of decoding zeros (rule 1.6.3).
"""

import base64
import binascii
import re

from ttrelay.consent.errors import ConsentKind, ConsentStringError

_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_URL_TO_STANDARD = str.maketrans("-_", "+/")

# GPP section ids are small; a Fibonacci code longer than this is garbage, and bounding it keeps a
# crafted megabyte of bits from turning into a huge integer (the 32nd weight is 3,524,578).
MAX_FIBONACCI_CODE_BITS = 32


class BitReader:
    """Reads fields in order from one segment; never reads past the segment's last bit."""

    __slots__ = ("_data", "bit_length", "kind", "position", "segment")

    def __init__(self, data: bytes, bit_length: int, kind: ConsentKind, segment: str) -> None:
        self._data = data
        self.bit_length = bit_length
        self.kind = kind
        self.segment = segment
        self.position = 0

    @classmethod
    def from_base64url(cls, text: str, kind: ConsentKind, segment: str) -> "BitReader":
        """Strict base64url (`A-Z a-z 0-9 - _`, no padding): anything else rejects (rule 1.6.1)."""
        if not text:
            raise ConsentStringError(kind, f"{segment} is empty")
        if _BASE64URL.fullmatch(text) is None:
            raise ConsentStringError(kind, f"{segment} has a character outside base64url (A-Z a-z 0-9 - _)")
        # Padding the text with 'A' (six zero bits) to a multiple of four characters lets the C decoder
        # do the work; bit_length still counts only the characters that were there.
        padded = text.translate(_URL_TO_STANDARD) + "A" * (-len(text) % 4)
        try:
            data = base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError) as error:  # unreachable after the alphabet check
            raise ConsentStringError(kind, f"{segment} is not base64url") from error
        return cls(data, 6 * len(text), kind, segment)

    @property
    def remaining(self) -> int:
        return self.bit_length - self.position

    def fail(self, detail: str) -> ConsentStringError:
        return ConsentStringError(self.kind, f"{detail} in {self.segment}")

    def read_int(self, width: int, field: str) -> int:
        position = self.position
        end = position + width
        if end > self.bit_length:
            raise ConsentStringError(
                self.kind,
                f"{self.segment} ends at bit {self.bit_length} but {field} needs {width} bits "
                f"from bit {position}",
            )
        self.position = end
        last_byte = (end + 7) >> 3
        chunk = int.from_bytes(self._data[position >> 3 : last_byte])
        return (chunk >> ((last_byte << 3) - end)) & ((1 << width) - 1)

    def read_bool(self, field: str) -> bool:
        return self.read_int(1, field) == 1

    def read_bitfield(self, width: int, field: str) -> tuple[int, ...]:
        """The 1-based positions of the set bits among the next `width` bits (bit k-1 <-> id k)."""
        if width == 0:
            return ()
        bits = format(self.read_int(width, field), f"0{width}b")
        ids: list[int] = []
        index = bits.find("1")
        while index >= 0:
            ids.append(index + 1)
            index = bits.find("1", index + 1)
        return tuple(ids)

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
