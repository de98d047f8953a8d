"""bench/yardstick.py measures the machine, not the code: its work never runs ttrelay, so a change of the
yardstick between two `make bench` runs is the machine's (bench/README.md, "The machine's speed")."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
sys.path[:0] = ["bench"]
import yardstick
results = [yardstick.one_iteration(number) for number in (0, 1, 0)]
print(json.dumps({"results": results, "ttrelay": sorted(m for m in sys.modules if m.startswith("ttrelay"))}))
"""


def test_the_yardstick_runs_none_of_ttrelays_code_and_does_the_same_work_each_time() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    probe = json.loads(completed.stdout)

    assert probe["ttrelay"] == []
    first, _, again = probe["results"]
    assert first == again and first > 0, "an iteration is fixed work"
