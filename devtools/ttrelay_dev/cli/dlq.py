"""`ttrelay dlq inspect|redrive`: what the dead-letter queue holds, and sending it back to be delivered.

Targets, in this order: --dlq-url/--queue-url; --stack-name (a deployed stack's outputs, with your AWS
credentials); else the running local stack (`make dev`).

inspect prints counts by reason, pixel and event name, per reason TikTok's message and request ids, and
per parked message its reason, pixel and events' ids and names (never an event body). redrive moves
messages back to the events queue; delivery is idempotent, so events TikTok already accepted are not sent
again. A message the dedup table may have forgotten (received
longer ago than its TTL, DedupTtlHours, less a day) is left in the DLQ and counted, unless
--include-expired: its events would be sent even if TikTok accepted them before.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ttrelay.forward.dedup import DEDUP_TTL_HOURS

from ttrelay_dev.cli.help import HelpFormatter
from ttrelay_dev.cli.region import use_region
from ttrelay_dev.cli.targets import add_region_option, deployed_outputs, local_outputs
from ttrelay_dev.local.stack import STATE_FILE


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
    add_region_option(parser)
    parser.add_argument("--state-file", type=Path, default=STATE_FILE, help="the local stack's state file")
    parser.add_argument(
        "--dedup-ttl-hours",
        type=int,
        help=f"the stack's DedupTtlHours (default: the stack's output, else {DEDUP_TTL_HOURS})",
    )
    parser.add_argument(
        "--include-expired",
        action="store_true",
        help="redrive messages older than the dedup memory too, accepting that TikTok may count them twice",
    )
    args = parser.parse_args(argv)
    try:
        dlq_url, queue_url, ttl_hours = _targets(args)
    except LookupError as exc:
        print(f"ttrelay dlq: {exc}", file=sys.stderr)
        return 2
    from ttrelay.adapters import sqs
    from ttrelay.forward.dlq import (
        REDRIVE_MARGIN_SECONDS,
        outlived_dedup_memory,
        parked_message,
        summarise,
        with_claim_id,
    )

    if args.action == "inspect":
        parked = [parked_message(message) for message in sqs.peek(dlq_url, args.limit)]
        print(json.dumps(summarise(parked).as_dict(), indent=2))
        return 0
    if not queue_url:
        print("ttrelay dlq: redrive needs --queue-url (or --stack-name)", file=sys.stderr)
        return 2
    now, ttl_seconds = time.time(), ttl_hours * 3600

    def prepare(body: str, message_id: str) -> str | None:
        if not args.include_expired and outlived_dedup_memory(body, now, ttl_seconds):
            return None
        return with_claim_id(body, message_id)

    moved, left = sqs.move(dlq_url, queue_url, args.limit, prepare=prepare)
    print(json.dumps({"redriven": moved, "left_older_than_dedup_memory": left}))
    if left:
        hours = ttl_hours - REDRIVE_MARGIN_SECONDS // 3600
        print(
            f"ttrelay dlq: left {left} message(s) in the DLQ, received over {hours} h ago: the dedup table "
            "may have forgotten that TikTok accepted their events (--include-expired sends them anyway)",
            file=sys.stderr,
        )
    return 0


def _targets(args: argparse.Namespace) -> tuple[str, str | None, int]:
    """The DLQ, the events queue and the stack's dedup TTL in hours."""
    if args.dlq_url:
        use_region(args.region)
        return args.dlq_url, args.queue_url, args.dedup_ttl_hours or DEDUP_TTL_HOURS
    outputs = (
        deployed_outputs(args.stack_name, args.region) if args.stack_name else local_outputs(args.state_file)
    )
    ttl_hours = args.dedup_ttl_hours or int(outputs.get("DedupTtlHours") or DEDUP_TTL_HOURS)
    return outputs["EventsDLQUrl"], outputs.get("EventsQueueUrl"), ttl_hours
