"""The one exception the consent-string decoders raise, whatever the input."""

from typing import Literal

ConsentKind = Literal["tcf", "gpp", "usp"]


class ConsentStringError(ValueError):
    """A consent string that fails strict decoding (reference/consent.md 1.6, 2.5, 3).

    `kind` names the decoder that rejected it; `str(error)` is one line such as
    ``tcf: vendor range end 12 < start 30 in vendor_consents``. The message never
    echoes the input string itself.
    """

    kind: ConsentKind
    detail: str

    def __init__(self, kind: ConsentKind, detail: str) -> None:
        # One line, so the CLI can print it as the whole reason.
        self.kind = kind
        self.detail = " ".join(detail.split())
        super().__init__(f"{kind}: {self.detail}")
