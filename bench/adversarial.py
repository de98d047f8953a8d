"""Figure 4: CPU time of the worst collect requests we can build (bounded work per request).

    python bench/adversarial.py              prints every request's CPU ms, worst first
    python bench/adversarial.py OUT.json ROOT     (as bench/run.py runs it)

The requests are tests/support/adversarial.py's: every field at its bound, filled with the shapes that
make text scanners backtrack, up to the 64 KB body. Each goes through the real `collect()` use case
with an in-memory queue; its figure is the least `time.thread_time` of REPEATS runs (the least is the
request's own cost; other work on the machine only adds to it). tests/unit/test_bounds.py holds each
under 25 ms; the quadratic email regex this replaced took 8 s on one of them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.adversarial import adversarial_requests, cpu_ms, in_memory_collect  # noqa: E402

# The figure is the least of this many runs. tests/unit/test_bounds.py asks for more: it runs while the
# rest of make test (browser stacks, Chromium) shares the two cores, and the least of many runs is the
# one that other work did not slow down.
REPEATS = int(os.environ.get("TTRELAY_ADVERSARIAL_REPEATS", "5"))
# Comma-separated request names to measure again (tests/unit/test_bounds.py); empty: every request.
ONLY = {name for name in os.environ.get("TTRELAY_ADVERSARIAL_ONLY", "").split(",") if name}


def measure() -> dict[str, dict[str, float | int]]:
    run = in_memory_collect()
    figures: dict[str, dict[str, float | int]] = {}
    for name, body in adversarial_requests().items():
        if ONLY and name not in ONLY:
            continue
        status, _ = run(body)  # also warms the code path
        figures[name] = {
            "status": status,
            "body_bytes": len(body),
            "cpu_ms": cpu_ms(lambda b=body: run(b), REPEATS),
        }
    return dict(sorted(figures.items(), key=lambda item: -item[1]["cpu_ms"]))


def main() -> None:
    figures = measure()
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(figures, indent=2))
        return
    for name, row in figures.items():
        print(f"{name:<40} {row['status']:>4} {row['body_bytes']:>7,} B {row['cpu_ms']:8.2f} ms CPU")
    worst = next(iter(figures))
    print(f"\nworst: {worst}, {figures[worst]['cpu_ms']:.2f} ms CPU ({len(figures)} requests)")


if __name__ == "__main__":
    main()
