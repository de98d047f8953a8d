"""`ttrelay consent decode-tcf STRING` and `decode-gpp STRING`: print the decoded JSON or exit 2.

Only the decoders and json are imported here, so the commands start fast.
"""

import json
import sys

from ttrelay.consent.errors import ConsentStringError
from ttrelay.consent.gpp import decode_gpp
from ttrelay.consent.tcf import decode_tcf

EXIT_OK = 0
EXIT_INVALID = 2


def decode_tcf_command(value: str) -> int:
    """Print the decoded TC string as JSON and return 0, or print why it is invalid and return 2."""
    try:
        decoded = decode_tcf(value)
    except ConsentStringError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    print(json.dumps(decoded.as_dict()))
    return EXIT_OK


def decode_gpp_command(value: str) -> int:
    """Print the decoded GPP string as JSON and return 0, or print why it is invalid and return 2."""
    try:
        decoded = decode_gpp(value)
    except ConsentStringError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    print(json.dumps(decoded.as_dict()))
    return EXIT_OK
