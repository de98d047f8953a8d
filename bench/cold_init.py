"""Figure 1: cold init of each handler module against a bare `import boto3`, in fresh interpreters.

Each repetition runs every variant once, in turn, so a slow moment of the machine hits all of them alike.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fixtures

CHILD = Path(__file__).with_name("cold_child.py")
MARKER = "@@bench "
VARIANTS = ("boto3", "forward", "collect-memory", "collect-moto")


def run_child(variant: str, root: Path, env: Mapping[str, str], spec_file: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, str(CHILD), variant, str(root), str(spec_file)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            return result
    raise RuntimeError(f"cold_child {variant} failed ({completed.returncode}):\n{completed.stderr[-2000:]}")


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p90": p90, "min": ordered[0], "n": len(ordered)}


def measure(root: Path, envs: Mapping[str, Mapping[str, str]], repeats: int) -> dict[str, Any]:
    """`envs` maps each variant to its process environment (the function's, from the template)."""
    with tempfile.TemporaryDirectory(prefix="ttrelay-bench-") as scratch:
        spec_file = Path(scratch) / "first-request.json"
        spec_file.write_text(
            json.dumps(
                {
                    "event": fixtures.collect_event(events=1),
                    "signing_secret": fixtures.SIGNING_SECRET,
                    "origin_secret": fixtures.ORIGIN_SECRET,
                    "now": fixtures.PINNED_NOW,
                }
            )
        )
        for variant in VARIANTS:  # warm the .pyc cache and the page cache; not measured
            run_child(variant, root, envs[variant], spec_file)
        runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
        for _ in range(repeats):
            for variant in VARIANTS:
                runs[variant].append(run_child(variant, root, envs[variant], spec_file))

    def series(variant: str, key: str) -> list[float]:
        return [float(run[key]) for run in runs[variant]]

    collect_memory, collect_moto = runs["collect-memory"], runs["collect-moto"]
    init_and_first = [run["import_ms"] + run["first_request_ms"] for run in collect_memory]
    init_and_first_moto = [run["import_ms"] + run["first_request_ms"] for run in collect_moto]
    result = {
        "boto3_import_ms": summary(series("boto3", "import_ms")),
        # The collect module's import is the first phase of every collect run; both collect variants
        # import the same way, so the in-memory runs give the (b) figure.
        "collect_import_ms": summary(series("collect-memory", "import_ms")),
        "forward_import_ms": summary(series("forward", "import_ms")),
        "collect_first_request_memory_ms": summary(series("collect-memory", "first_request_ms")),
        "collect_init_first_request_memory_ms": summary(init_and_first),
        "collect_first_request_moto_ms": summary(series("collect-moto", "first_request_ms")),
        "collect_init_first_request_moto_ms": summary(init_and_first_moto),
        "modules_after_collect_import": collect_memory[-1]["after_import"],
        "modules_after_collect_first_request_memory": collect_memory[-1]["after_all"],
        "modules_after_collect_first_request_moto": collect_moto[-1]["after_all"],
        "modules_after_forward_import": runs["forward"][-1]["after_all"],
        "first_request_outcomes": sorted(
            {
                f"{run['variant']}:{run['status']}:accepted={run['accepted']}"
                for run in collect_memory + collect_moto
            }
        ),
    }
    boto3 = result["boto3_import_ms"]["median"]
    result["collect_import_vs_boto3"] = result["collect_import_ms"]["median"] / boto3
    result["forward_import_vs_boto3"] = result["forward_import_ms"]["median"] / boto3
    result["collect_init_first_request_memory_vs_boto3"] = (
        result["collect_init_first_request_memory_ms"]["median"] / boto3
    )
    return result
