"""`ttrelay consent decode-tcf STRING` and `decode-gpp STRING`: print the decoded JSON or exit 2.

Only the decoders, argparse and json are imported here, so the commands start fast.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import Protocol

from ttrelay.consent.errors import ConsentStringError
from ttrelay.consent.gpp import decode_gpp
from ttrelay.consent.tcf import decode_tcf

from ttrelay_dev.cli.help import HelpFormatter

EXIT_OK = 0
EXIT_INVALID = 2

_KINDS = {
    "decode-tcf": ("TC string", "an IAB TCF v2 TC string, e.g. from the euconsent-v2 cookie or __tcfapi"),
    "decode-gpp": ("GPP string", "an IAB GPP string, e.g. from __gpp('ping') or the __gpp cookie"),
}
_USP = re.compile(r"1[YNyn-]{3}")


def decode_command(sub: str, argv: list[str]) -> int:
    """`sub` is decode-tcf or decode-gpp, `argv` what follows it. Exactly one line on stderr on error."""
    kind, source = _KINDS[sub]
    parser = argparse.ArgumentParser(
        prog=f"ttrelay consent {sub}",
        description=f"Decode {source}, print it as JSON and exit 0; exit 2 with one line on stderr if the "
        "string is not valid.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("string", metavar="STRING", help=f"the {kind}, as is (not URL-encoded, no quotes)")
    if argv in (["-h"], ["--help"]):
        parser.print_help()
        return EXIT_OK
    if len(argv) != 1:
        print(f"usage: ttrelay consent {sub} STRING (see --help)", file=sys.stderr)
        return EXIT_INVALID
    # The value is taken as is, never as an option: a consent string may begin with "-".
    return decode_tcf_command(argv[0]) if sub == "decode-tcf" else decode_gpp_command(argv[0])


def decode_tcf_command(value: str) -> int:
    """Print the decoded TC string as JSON and return 0, or print why it is invalid and return 2."""
    return _decode(value, decode_tcf, "decode-tcf")


def decode_gpp_command(value: str) -> int:
    """Print the decoded GPP string as JSON and return 0, or print why it is invalid and return 2."""
    return _decode(value, decode_gpp, "decode-gpp")


class _Decoded(Protocol):
    def as_dict(self) -> dict[str, object]: ...


def _decode(value: str, decoder: Callable[[str], _Decoded], sub: str) -> int:
    try:
        decoded = decoder(value)
    except ConsentStringError as error:
        hint = looks_like(value, sub)
        print(f"{error} ({hint})" if hint else str(error), file=sys.stderr)
        return EXIT_INVALID
    print(json.dumps(decoded.as_dict()))
    return EXIT_OK


def looks_like(value: str, sub: str) -> str:
    """Why an invalid value may not be a string of this kind at all, or "" when nothing stands out.

    Only asked once the decoder has refused the value, so a hint never changes what is valid."""
    text = value.strip()
    if not text:
        return ""  # the decoders already say the string is empty
    checks = (
        (
            "%" in text,
            "this looks URL-encoded (it holds %XX): decode it first, e.g. with urllib.parse.unquote",
        ),
        (text != value or text[0] in "\"'", "remove the surrounding whitespace or quotes"),
        (
            sub == "decode-tcf" and text.startswith("D") and ("~" in text or text.startswith("DB")),
            "this looks like a GPP string (starts with D...): try ttrelay consent decode-gpp",
        ),
        (
            sub == "decode-gpp" and text[0] in "BC" and "~" not in text,
            f"this looks like a TC string (starts with {text[0]}...): try ttrelay consent decode-tcf",
        ),
        (
            bool(_USP.fullmatch(text)),
            "this looks like a US Privacy string (1YNN): use ttrelay consent decide --usp",
        ),
    )
    return next((hint for matched, hint in checks if matched), "")
