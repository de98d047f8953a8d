"""`ttrelay chaos`: the delivery-guarantee harness on the local stack (see ttrelay_dev.local.chaos)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ttrelay.forward.dedup import DedupMode

from ttrelay_dev.cli.help import HelpFormatter
from ttrelay_dev.local.chaos import ChaosConfig, run


def chaos_command(argv: list[str]) -> int:
    defaults = ChaosConfig()
    parser = argparse.ArgumentParser(prog="ttrelay chaos", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--events", type=int, default=defaults.events, help="unique events to send")
    parser.add_argument(
        "--error-rate", type=float, default=defaults.error_rate, help="share of Events API requests faulted"
    )
    parser.add_argument(
        "--crash-rate",
        type=float,
        default=defaults.crash_rate,
        help="share of forwarder checkpoints (after claiming, after sending) that kill the process",
    )
    parser.add_argument(
        "--duplicate-share",
        type=float,
        default=defaults.duplicate_share,
        help="share of requests sent again (later, or twice at the same time)",
    )
    parser.add_argument(
        "--permanent-events",
        type=int,
        default=defaults.permanent_events,
        help="events the fake Events API always rejects (40002): they must end in the DLQ",
    )
    parser.add_argument(
        "--refused-copies",
        type=int,
        default=defaults.refused_copies,
        help="events also sent as a copy TikTok refuses, at the same moment: the good copy must arrive",
    )
    parser.add_argument(
        "--pre-claims",
        type=int,
        default=defaults.pre_claims,
        help="events whose refused copy is sent just before the real one (a pre-claim): it must arrive",
    )
    parser.add_argument(
        "--lease-seconds", type=int, default=defaults.lease_seconds, help="the dedup claim lease for the run"
    )
    parser.add_argument(
        "--dedup-mode",
        type=DedupMode,
        choices=list(DedupMode),
        default=defaults.dedup_mode,
        help="who owns a dedup claim: the queued message (one write) or a worker's lease (claim-then-mark)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=defaults.batch_size, help="ForwardBatchSize for the run"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="makes a run repeatable")
    parser.add_argument(
        "--delivery-bound",
        type=float,
        default=defaults.delivery_bound_s,
        help="seconds after the last POST by which every event must reach TikTok",
    )
    parser.add_argument(
        "--drain-bound",
        type=float,
        default=defaults.drain_bound_s,
        help="seconds after the last delivery by which the events queue must be empty",
    )
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=defaults.visibility_timeout_s,
        help="the queue's VisibilityTimeout (s) for the run (default: the claim lease + 5 s)",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project (template.yaml, web/)")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep function and crash logs here")
    args = parser.parse_args(argv)
    config = ChaosConfig(
        events=args.events,
        error_rate=args.error_rate,
        crash_rate=args.crash_rate,
        duplicate_share=args.duplicate_share,
        permanent_events=args.permanent_events,
        refused_copies=args.refused_copies,
        pre_claims=args.pre_claims,
        lease_seconds=args.lease_seconds,
        dedup_mode=args.dedup_mode,
        batch_size=args.batch_size,
        seed=args.seed,
        delivery_bound_s=args.delivery_bound,
        drain_bound_s=args.drain_bound,
        visibility_timeout_s=args.visibility_timeout,
    )
    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)
    result = run(args.root.resolve(), config, args.log_dir)
    print(json.dumps(result.figures, indent=2))
    latency = result.figures.get("delivery_latency_s", {})
    print(
        "chaos: delivery latency POST -> TikTok p50 {p50_s} s, p99 {p99_s} s, max {max_s} s; last event "
        "{last_delivery_after_last_post_s} s after the last POST".format(**latency),
        f"(queues drained {result.figures.get('drained_after_last_post_s')} s after it)",
    )
    print(
        f"chaos: queue empty {result.figures.get('queue_empty_after_last_delivery_s')} s after the last "
        f"delivery (bound {config.drain_bound_s} s)"
    )
    for problem in result.problems:
        print(f"FAIL {problem}")
    print("chaos: every unique event delivered exactly once" if result.passed else "chaos: FAILED")
    return 0 if result.passed else 1
