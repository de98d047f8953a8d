"""Figure 5: how much larger the queued message is than the request that made it (bounded amplification).

    python bench/amplification.py              prints every request's bytes and ratio, worst first
    python bench/amplification.py OUT.json ROOT     (as bench/run.py runs it)

The requests are tests/support/adversarial.py's (every field at its bound, up to the 64 KB body) with a
short user agent, issue 14's reproduction (a 12 KB request: 8 KB user agent, long page URL and referrer,
the maximum 50 events) and numeric content ids that each become a `contents` item. Each goes through the
real `collect()` with an in-memory queue. The ratio is the queued body's bytes over the bytes received
(the body and each header's name and value, the user agent's included); a refused request queues
nothing and has no ratio. Before message v2 the issue's request queued a message 41 times its size.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.adversarial import amplification_requests, in_memory_collect, received_bytes  # noqa: E402
from support.fakes import MemoryQueue  # noqa: E402


def measure() -> dict[str, dict[str, float | int | None]]:
    queue = MemoryQueue()
    run = in_memory_collect(queue)
    figures: dict[str, dict[str, float | int | None]] = {}
    for name, (body, user_agent) in amplification_requests().items():
        status, _ = run(body, user_agent)
        received = received_bytes(body, user_agent)
        queued = len(queue.bodies[0].encode()) if queue.bodies else 0
        figures[name] = {
            "status": status,
            "received_bytes": received,
            "queued_bytes": queued,
            "ratio": round(queued / received, 3) if queued else None,
        }
    return dict(sorted(figures.items(), key=lambda item: -(item[1]["ratio"] or 0)))


def main() -> None:
    figures = measure()
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(figures, indent=2))
        return
    for name, row in figures.items():
        ratio = f"{row['ratio']:6.2f}x" if row["ratio"] is not None else "   none"
        sizes = f"{row['received_bytes']:>7,} B in {row['queued_bytes']:>8,} B queued"
        print(f"{name:<40} {row['status']:>4} {sizes} {ratio}")
    worst = next(iter(figures))
    print(f"\nworst amplification: {worst}, {figures[worst]['ratio']}x ({len(figures)} requests)")


if __name__ == "__main__":
    main()
