"""Strict decoder for the IAB US Privacy string (`uspv1`, CCPA; reference/consent.md section 3)."""

import re
from dataclasses import dataclass

from ttrelay.consent.errors import ConsentStringError

# Case-sensitive; fullmatch so that a trailing newline does not slip through as `$` would allow.
_USP = re.compile(r"1[YN-][YN-][YN-]")


@dataclass(frozen=True, slots=True)
class UspString:
    """Version 1; then notice given, opted out of sale, covered by the LSPA: each `Y`, `N` or `-`."""

    version: int
    notice: str
    opt_out_sale: str
    lspa: str

    @property
    def raw(self) -> str:
        return f"{self.version}{self.notice}{self.opt_out_sale}{self.lspa}"

    def opted_out_of_sale(self) -> bool:
        # `-` means CCPA does not apply, which is not an opt-out.
        return self.opt_out_sale == "Y"

    def as_dict(self) -> dict[str, object]:
        """The form `decode-gpp` uses for a `uspv1` section."""
        return {"uspString": self.raw}


def decode_usp(s: str) -> UspString:
    """Decode a US Privacy string; anything not matching `^1[YN-][YN-][YN-]$` raises ConsentStringError."""
    if not isinstance(s, str) or _USP.fullmatch(s) is None:
        raise ConsentStringError("usp", "not a US Privacy string: expected 1 then three of Y, N or -")
    return UspString(version=1, notice=s[1], opt_out_sale=s[2], lspa=s[3])
