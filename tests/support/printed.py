"""What a function prints to stdout as JSON lines (EMF documents, the collector's `collected` line), read
back as Lambda's log group would hold them."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from typing import Any


def json_lines(text: str) -> list[dict[str, Any]]:
    # Lines end at "\n" only, as Lambda reads them: JSON may hold U+2028, which splitlines() would split.
    return [json.loads(line) for line in text.split("\n") if line.startswith("{")]


def printed_by(write: Callable[[], object]) -> list[dict[str, Any]]:
    """The JSON lines `write()` prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        write()
    return json_lines(out.getvalue())


def collected_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The collector's `collected` lines: log fields carried by the request's EMF document."""
    return [line for line in lines if line.get("message") == "collected"]
