"""`ttrelay consent decide`: run the default consent policy on signals given as flags, print the decision.

Prints one JSON object `{"action", "regime", "reason", "limited_data_use"}` and returns 0; bad flags print
one line on stderr and return 2. The policy is the packaged default; `--vendor-id` sets its vendor id.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import NoReturn

from ttrelay_dev.cli.help import HelpFormatter

_PROG = "ttrelay consent decide"
_CONSENT_MODE_VALUES = ("granted", "denied")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def decide_command(argv: list[str]) -> int:
    """The command's body; `argv` is what follows `ttrelay consent decide`."""
    try:
        args = _parser().parse_args(argv)
    except _UsageError as error:
        print(f"{_PROG}: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0

    # Imported here so that `--help` and flag errors stay instant.
    from ttrelay.consent.decide import decide
    from ttrelay.consent.model import ConsentSignals, Location
    from ttrelay.consent.policy import load_policy, with_vendor

    policy = with_vendor(load_policy(), args.vendor_id)
    signals = ConsentSignals(
        tcf=args.tcf,
        gpp=args.gpp,
        gpp_sid=args.gpp_sid,
        usp=args.usp,
        gpc=args.gpc,
        gcm=args.gcm,
        cmp=args.cmp,
    )
    location = Location(country=args.country, subdivision=args.subdivision, source="none")
    now = args.now if args.now is not None else int(time.time())
    decision = decide(signals, location, policy, now)
    print(json.dumps(decision.model_dump(include={"action", "regime", "reason", "limited_data_use"})))
    return 0


def _parser() -> _Parser:
    parser = _Parser(
        prog=_PROG,
        description="Apply the default consent policy to the given signals and print the decision as JSON.",
        formatter_class=HelpFormatter,
    )
    # No prefix matching: `--gpp` must never be read as an abbreviation of `--gpp-sid`.
    parser.allow_abbrev = False
    parser.add_argument("--country", help="ISO 3166-1 alpha-2 code; missing or unknown means opt_in")
    parser.add_argument("--subdivision", help="ISO 3166-2 suffix, e.g. QC or CA")
    parser.add_argument("--tcf", help="TC string")
    parser.add_argument("--gpp", help="GPP string")
    parser.add_argument(
        "--gpp-sid",
        type=_section_ids,
        default=(),
        help="applicable GPP section ids, e.g. 7,8 (default: none)",
    )
    parser.add_argument("--usp", help="US Privacy string, e.g. 1YNN")
    parser.add_argument("--gpc", action="store_true", help="Global Privacy Control is on")
    parser.add_argument(
        "--gcm", type=_consent_mode, help="Consent Mode, e.g. ad_storage=granted,ad_user_data=denied"
    )
    parser.add_argument("--cmp", type=_cmp_categories, help="CMP categories, e.g. marketing=true")
    parser.add_argument("--vendor-id", type=_positive_int, help="the TCF vendor id whose consent is required")
    parser.add_argument("--now", type=_unix_seconds, help="unix seconds (default: now)")
    return parser


def _pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"expected name=value pairs separated by commas, got {item!r}")
        pairs.append((key.strip().lower(), value.strip().lower()))
    return pairs


def _consent_mode(text: str) -> dict[str, str]:
    pairs = _pairs(text)
    for key, value in pairs:
        if value not in _CONSENT_MODE_VALUES:
            raise argparse.ArgumentTypeError(f"{key} must be granted or denied, got {value!r}")
    return dict(pairs)


def _cmp_categories(text: str) -> dict[str, bool]:
    categories: dict[str, bool] = {}
    for key, value in _pairs(text):
        if value not in _BOOLEANS:
            raise argparse.ArgumentTypeError(f"{key} must be true or false, got {value!r}")
        categories[key] = _BOOLEANS[value]
    return categories


def _section_ids(text: str) -> tuple[int, ...]:
    try:
        ids = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated section ids, got {text!r}") from None
    if any(section_id < 0 for section_id in ids):
        raise argparse.ArgumentTypeError("section ids are not negative")
    return ids


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a vendor id from 1 to 65535, got {value}")
    return value


def _unix_seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected unix seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("unix seconds are not negative")
    return value
