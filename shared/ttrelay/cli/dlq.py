"""`ttrelay dlq inspect|redrive`: what the dead-letter queue holds, and sending it back to be delivered.

Targets, in this order: --dlq-url/--queue-url; --stack-name (a deployed stack's outputs, with your AWS
credentials); else the running local stack (`make dev`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ttrelay.local.stack import STATE_FILE, worker_env


def dlq_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ttrelay dlq", description=__doc__)
    parser.add_argument("action", choices=["inspect", "redrive"])
    parser.add_argument("--limit", type=int, default=1000, help="at most this many messages (default 1000)")
    parser.add_argument("--stack-name", help="a deployed ttrelay stack (reads its outputs)")
    parser.add_argument("--dlq-url")
    parser.add_argument("--queue-url", help="where redrive sends messages (the events queue)")
    parser.add_argument("--state-file", type=Path, default=STATE_FILE, help="the local stack's state file")
    args = parser.parse_args(argv)
    try:
        dlq_url, queue_url = _targets(args)
    except LookupError as exc:
        print(f"ttrelay dlq: {exc}", file=sys.stderr)
        return 2
    from ttrelay.adapters import sqs
    from ttrelay.dlq import parked_message, summarise

    if args.action == "inspect":
        parked = [parked_message(message) for message in sqs.peek(dlq_url, args.limit)]
        print(json.dumps(summarise(parked).as_dict(), indent=2))
        return 0
    if not queue_url:
        print("ttrelay dlq: redrive needs --queue-url (or --stack-name)", file=sys.stderr)
        return 2
    moved = sqs.move(dlq_url, queue_url, args.limit)
    print(json.dumps({"redriven": moved}))
    return 0


def _targets(args: argparse.Namespace) -> tuple[str, str | None]:
    if args.dlq_url:
        return args.dlq_url, args.queue_url
    if args.stack_name:
        from ttrelay.adapters.aws import stack_outputs

        outputs = stack_outputs(args.stack_name)
        return outputs["EventsDLQUrl"], outputs.get("EventsQueueUrl")
    state_file = args.state_file
    if not state_file.is_file():
        raise LookupError("no --dlq-url or --stack-name, and no local stack running (make dev)")
    state = json.loads(state_file.read_text())
    # The local stack's queues live in its moto server.
    os.environ.update(worker_env(state["moto_endpoint"]))
    return state["queues"]["EventsDLQ"], state["queues"]["EventsQueue"]
