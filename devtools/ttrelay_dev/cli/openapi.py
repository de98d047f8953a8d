"""`ttrelay openapi`: print the OpenAPI 3.1 document of POST /events (docs/openapi.json is its output)."""

from __future__ import annotations

import sys

USAGE = "usage: ttrelay openapi > docs/openapi.json"


def openapi_command(argv: list[str]) -> int:
    if argv in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if argv:
        print(USAGE, file=sys.stderr)
        return 2
    from ttrelay_dev.cli.openapi_document import openapi_document, render

    sys.stdout.write(render(openapi_document()))
    return 0
