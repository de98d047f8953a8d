"""`ttrelay invoke FUNCTION --event FILE`: `sam local invoke` without containers.

Uses the running local stack's resources when `make dev` is up; otherwise starts a private stack (no
queue pollers, so nothing else consumes the queue) for the one call. Prints the handler's result.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

from ttrelay_dev.cli.help import HelpFormatter
from ttrelay_dev.local.invoker import FunctionRunner
from ttrelay_dev.local.provision import FunctionSpec
from ttrelay_dev.local.stack import STATE_FILE, LocalStack, StackOptions, worker_env


def invoke_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="ttrelay invoke", description=__doc__, formatter_class=HelpFormatter
    )
    parser.add_argument("function", help="logical id in template.yaml, e.g. CollectFunction")
    parser.add_argument("--event", "-e", type=Path, required=True, help="event JSON file (events/*.json)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root holding template.yaml")
    parser.add_argument("--state-file", type=Path, default=None, help="a running local stack's state file")
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text())
    root = args.root.resolve()
    running = _running_stack(args.state_file or root / STATE_FILE)
    stack = None
    if running is not None:
        spec_doc = running["functions"].get(args.function)
        spec = (
            FunctionSpec(
                args.function,
                Path(spec_doc["code_dir"]),
                spec_doc["handler"],
                spec_doc["environment"],
                spec_doc["timeout"],
                spec_doc["memory_mb"],
            )
            if spec_doc
            else None
        )
        env = worker_env(str(running["moto_endpoint"]))
    else:
        stack = LocalStack(
            StackOptions(root=root, port=0, event_sources=False, log_output=sys.stderr)
        ).start()
        spec = stack.provisioned.functions.get(args.function) if stack.provisioned else None
        env = stack.worker_env()
    try:
        if spec is None:
            print(f"ttrelay invoke: no function {args.function!r} in template.yaml", file=sys.stderr)
            return 2
        runner = FunctionRunner(spec, {**env, **_QUIET_WHEN_NO_METRICS}, output=sys.stderr)
        try:
            outcome = runner.invoke(event)
        finally:
            runner.close()
    finally:
        if stack is not None:
            stack.stop()
    print(json.dumps(outcome.result if outcome.ok else outcome.error, indent=2))
    return 0 if outcome.ok else 1


# The handler's shared Metrics is flushed on every invocation, and its counts go into per-pixel blobs
# (ttrelay.observability.pixel_metrics) instead, so Powertools warns that it is empty; in a fresh worker
# per invoke the warning would follow every call. Only that message is silenced: other warnings show.
_QUIET_WHEN_NO_METRICS = {"PYTHONWARNINGS": "ignore:No application metrics to publish:UserWarning"}


def _running_stack(state_file: Path) -> dict[str, Any] | None:
    if not state_file.is_file():
        return None
    state: dict[str, Any] = json.loads(state_file.read_text())
    try:
        with urllib.request.urlopen(f"{state['base_url']}/_local/queue", timeout=2):  # noqa: S310 - loopback
            return state
    except OSError:
        return None  # a stale file from a stack that is gone
