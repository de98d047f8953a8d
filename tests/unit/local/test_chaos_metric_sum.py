"""The chaos harness sums EMF metrics from the functions' output as CloudWatch would: one log event per
"\\n"-ended line, whatever a line holds."""

import json
from pathlib import Path

from ttrelay_dev.local.chaos import _metric_sum


def test_an_emf_line_holding_a_unicode_line_separator_is_still_one_line(tmp_path: Path) -> None:
    # pydantic-core writes U+2028 raw (valid JSON); str.splitlines() would have cut this line in two.
    documents = [
        {"_aws": {}, "DedupWrites": [3.0], "note": "a\u2028b"},
        {"_aws": {}, "DedupWrites": [4.0]},
    ]
    log = tmp_path / "functions.log"
    log.write_text("".join(json.dumps(document, ensure_ascii=False) + "\n" for document in documents))
    assert _metric_sum(log, "DedupWrites") == 7.0
