"""Every `curl` in README.md and docs/deploy.md runs against `ttrelay dev` and gets the answer the doc
promises, so the docs cannot drift from the product.

What is read: fenced ```sh blocks; a command starts at a line beginning with `curl` and ends where the
shell would end it. The line after it, `# → STATUS {json}`, is the promise: the status, and the JSON
answer, of which only what is written is checked. `...` stands for anything more (`{"a": 1, ...}`,
`[...]`), and a string ending in `...` for any string starting with what precedes it (`"v1.k1...."`).

Placeholders become the local stack's (documented in README.md, "Tests"):
`http://127.0.0.1:3000` and `https://<your collector>` → the stack's URL; `<CollectHttpApiUrl>` → its
`/events`; `<your-site-origin>` → the stack's own origin, which it admits; `$TTRELAY_API_KEY` → its key
`ttrelay-local-dev-key`; the example pixel `CXXXXXXXXXXXXXXXXXXX` → its pixel.

A curl meant only for a deployed stack is listed in AWS_ONLY with the reason; any other curl that does
not reach the local stack fails the test, so a new curl is never silently unchecked.
"""

import json
import re
import shlex
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
from support.paths import ROOT
from ttrelay_dev.local.stack import LOCAL_API_KEY, LOCAL_PIXEL

pytestmark = pytest.mark.e2e

DOCS = ("README.md", "docs/deploy.md")
FENCE = re.compile(r"^```(?:sh|shell|bash)\n(.*?)^```", re.MULTILINE | re.DOTALL)
PROMISE = re.compile(r"^\s*# → (\d{3})(?: (.*))?$")
# How a curl that needs AWS begins → why it is not run here.
AWS_ONLY = {
    'curl -s "<FrontDoorCollectUrl>"': (
        "the front door is a CloudFront distribution with origin access control; the local stack's "
        "emulation of its signature check is tested in tests/unit/local/test_front_door.py and "
        "tests/browser/test_front_door_snippet.py"
    ),
}


@dataclass(frozen=True)
class DocCurl:
    doc: str
    first_line: str
    text: str
    promise: tuple[int, str | None] | None


def doc_curls() -> list[DocCurl]:
    found = []
    for doc in DOCS:
        for block in FENCE.findall((ROOT / doc).read_text()):
            lines = block.splitlines()
            index = 0
            while index < len(lines):
                if not lines[index].lstrip().startswith("curl "):
                    index += 1
                    continue
                start = index
                while not _complete("\n".join(lines[start : index + 1])):
                    index += 1
                text = "\n".join(lines[start : index + 1])
                promised = PROMISE.match(lines[index + 1]) if index + 1 < len(lines) else None
                promise = (int(promised[1]), promised[2]) if promised else None
                found.append(DocCurl(doc, lines[start].strip(), text, promise))
                index += 1
    return found


def _complete(text: str) -> bool:
    if text.rstrip().endswith("\\"):
        return False
    try:
        shlex.split(text, comments=True)
    except ValueError:  # an open quote: the command goes on
        return False
    return True


def local_argv(text: str, base: str) -> list[str]:
    for placeholder, local in (
        ("http://127.0.0.1:3000", base),
        ("https://<your collector>", base),
        ("<CollectHttpApiUrl>", f"{base}/events"),
        ("<your-site-origin>", base),
        ("$TTRELAY_API_KEY", LOCAL_API_KEY),
        ("CXXXXXXXXXXXXXXXXXXX", LOCAL_PIXEL),
    ):
        text = text.replace(placeholder, local)
    argv = shlex.split(text.replace("\\\n", " "), comments=True)
    # The answer's status is read with -w; headers (-i) would only be in the way of the body.
    return [{"-si": "-s"}.get(arg, arg) for arg in argv if arg != "-i"]


def matches(actual: Any, promised: Any) -> bool:
    if isinstance(promised, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(actual[key], value) for key, value in promised.items()
        )
    if isinstance(promised, list):
        return isinstance(actual, list) and all(any(matches(a, p) for a in actual) for p in promised)
    if isinstance(promised, str) and promised.endswith("..."):
        return isinstance(actual, str) and actual.startswith(promised.rstrip("."))
    return bool(actual == promised)


def promised_json(text: str) -> Any:
    """The promise without its `...` (anything more), as JSON."""
    text = re.sub(r",\s*\.\.\.(?=\s*[}\]])", "", text)
    text = re.sub(r"(?<=[\[{])\s*\.\.\.\s*(?=[}\]])", "", text)
    return json.loads(text)


CURLS = doc_curls()


def test_the_docs_curls_are_found_and_every_skip_is_still_current() -> None:
    assert len(CURLS) >= 4
    for prefix in AWS_ONLY:
        assert any(curl.first_line.startswith(prefix) for curl in CURLS), f"{prefix} left the docs"


@pytest.mark.parametrize("curl", CURLS, ids=[f"{c.doc}:{c.first_line[:60]}" for c in CURLS])
def test_each_doc_curl_gets_the_answer_it_promises(curl: DocCurl, base: str) -> None:
    for prefix, reason in AWS_ONLY.items():
        if curl.first_line.startswith(prefix):
            pytest.skip(f"AWS only: {reason}")
    argv = local_argv(curl.text, base)
    assert any(arg.startswith(base) for arg in argv), (
        f"{curl.doc}: this curl reaches neither the local stack nor a listed AWS-only address:\n{curl.text}"
    )
    assert curl.promise is not None, (
        f"{curl.doc}: say what this curl answers (# → STATUS {{...}}):\n{curl.text}"
    )
    result = subprocess.run(
        [*argv, "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=60, check=True
    )
    body, _, status = result.stdout.rpartition("\n")
    status_promised, body_promised = curl.promise
    assert int(status) == status_promised, f"{curl.doc}: {status} {body}"
    if body_promised:
        assert matches(json.loads(body), promised_json(body_promised)), f"{curl.doc}: got {body}"
