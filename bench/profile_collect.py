"""Where a warm collect request spends its CPU: cProfile of the real handler, one and ten events per request.

    python bench/profile_collect.py                (starts the local stack for the function's environment)
    python bench/profile_collect.py OUT.json ROOT  (as `make bench` runs it, in CollectFunction's environment)

The handler is wired as in collect_warm.py (queue, secrets and clock in memory; the signed cookie of a
returning visitor). For each request size it prints the top functions by own time (tottime) and by
time including callees (cumtime), and own time summed per module. cProfile slows every call alike, so
read the shares, not the absolute times; collect_warm.py gives the unprofiled figures.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import sys
from collections import defaultdict
from pathlib import Path

from collect_warm import WarmCollector, warm_collector

TOP = 25
# Enough requests that a per-request function shows up above the profiler's own noise.
REQUESTS = {1: 2000, 10: 300}
WARMUP_REQUESTS = 100


def profile(warm: WarmCollector, events: int) -> pstats.Stats:
    call = warm.handler_call(events)
    for _ in range(WARMUP_REQUESTS):
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(REQUESTS[events]):
        call()
    profiler.disable()
    warm.queue.bodies.clear()
    return pstats.Stats(profiler)


def module_of(filename: str) -> str:
    """`.../site-packages/pydantic/main.py` -> `pydantic.main`; built-ins keep cProfile's `~`."""
    if filename == "~":
        return "(built-in)"
    path = Path(filename)
    parts = list(path.with_suffix("").parts)
    for anchor in ("site-packages", "shared", "lib"):
        if anchor in parts:
            parts = parts[len(parts) - parts[::-1].index(anchor) :]
            break
    else:
        parts = parts[-2:]
    return ".".join(parts)


def by_module(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """Own time and calls summed per module, most expensive first."""
    own: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for (filename, _, _), (_, ncalls, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        module = module_of(filename)
        own[module] += tottime
        calls[module] += ncalls
    return sorted(((name, own[name], calls[name]) for name in own), key=lambda row: -row[1])


def report(stats: pstats.Stats, events: int) -> str:
    requests = REQUESTS[events]
    total = stats.total_tt  # type: ignore[attr-defined]
    out = io.StringIO()
    label = f"{events} event{'s' if events > 1 else ''}"
    out.write(
        f"\n=== profile: {label} per request, {requests} requests, "
        f"{total / requests * 1000:.3f} ms per request under cProfile ===\n"
    )
    for order in ("tottime", "cumulative"):
        out.write(f"\n--- top {TOP} by {order} ---\n")
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(TOP)
    out.write(f"\n--- own time per module (top {TOP}) ---\n")
    out.write(f"{'share':>6}  {'µs/request':>10}  {'calls/request':>13}  module\n")
    for name, own, calls in by_module(stats)[:TOP]:
        out.write(f"{own / total:6.1%}  {own / requests * 1e6:10.1f}  {calls / requests:13.1f}  {name}\n")
    return _without_paths(out.getvalue())


def _without_paths(text: str) -> str:
    """Shorter lines: the site-packages and repository prefixes say nothing here."""
    for prefix in sorted({p for p in sys.path if p}, key=len, reverse=True):
        text = text.replace(prefix.rstrip("/") + "/", "")
    return text


def main() -> None:
    if len(sys.argv) < 3:
        standalone()
        return
    out, root = Path(sys.argv[1]), Path(sys.argv[2])
    warm = warm_collector(root)
    text = "".join(report(profile(warm, events), events) for events in (1, 10))
    out.write_text(json.dumps({"text": text}))


def standalone() -> None:
    """Start the local stack for CollectFunction's environment, profile in a child, print the report."""
    import run

    with run.local_stack() as stack:
        result = run.run_script("profile_collect.py", run.function_env(stack, "CollectFunction"), 300)
    print(result["text"])


if __name__ == "__main__":
    main()
