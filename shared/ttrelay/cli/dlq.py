"""`ttrelay dlq inspect|redrive`: what the dead-letter queue holds, and sending it back to be delivered.

Targets, in this order: --dlq-url/--queue-url; --stack-name (a deployed stack's outputs, with your AWS
credentials); else the running local stack (`make dev`).

inspect prints counts by reason, pixel and event name, and per reason TikTok's message and request ids
(never an event body). redrive moves messages back to the events queue; delivery is idempotent, so
events TikTok already accepted are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ttrelay.cli.help import HelpFormatter
from ttrelay.cli.targets import deployed_outputs, local_outputs
from ttrelay.local.stack import STATE_FILE


def dlq_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ttrelay dlq", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument(
        "action",
        choices=["inspect", "redrive"],
        help="inspect: summarise without removing anything; redrive: move messages to the events queue",
    )
    parser.add_argument("--limit", type=int, default=1000, help="at most this many messages")
    parser.add_argument("--stack-name", help="a deployed ttrelay stack (reads its outputs)")
    parser.add_argument("--dlq-url", help="the dead-letter queue's URL, instead of --stack-name")
    parser.add_argument("--queue-url", help="where redrive sends messages (the events queue)")
    parser.add_argument("--state-file", type=Path, default=STATE_FILE, help="the local stack's state file")
    args = parser.parse_args(argv)
    try:
        dlq_url, queue_url = _targets(args)
    except LookupError as exc:
        print(f"ttrelay dlq: {exc}", file=sys.stderr)
        return 2
    from ttrelay.adapters import sqs
    from ttrelay.dlq import parked_message, summarise, with_claim_id

    if args.action == "inspect":
        parked = [parked_message(message) for message in sqs.peek(dlq_url, args.limit)]
        print(json.dumps(summarise(parked).as_dict(), indent=2))
        return 0
    if not queue_url:
        print("ttrelay dlq: redrive needs --queue-url (or --stack-name)", file=sys.stderr)
        return 2
    moved = sqs.move(dlq_url, queue_url, args.limit, prepare=with_claim_id)
    print(json.dumps({"redriven": moved}))
    return 0


def _targets(args: argparse.Namespace) -> tuple[str, str | None]:
    if args.dlq_url:
        return args.dlq_url, args.queue_url
    outputs = deployed_outputs(args.stack_name) if args.stack_name else local_outputs(args.state_file)
    return outputs["EventsDLQUrl"], outputs.get("EventsQueueUrl")
