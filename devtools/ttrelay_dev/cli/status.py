"""`ttrelay status`: is the relay keeping up? Outputs, queue depth and age, dead letters, config errors,
TC strings unused for want of TikTok's vendor id.

Targets: --stack-name (a deployed stack's outputs and CloudWatch metrics, with your AWS credentials);
else the running local stack (`make dev`), whose functions publish no CloudWatch metrics, so the age of
the oldest message (unless the queue is empty) and the metric counts show as "unknown" there.

Prints JSON; `attention` lists what needs a look (an empty list: nothing). Exit 0, or 2 when the stack
cannot be found.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from ttrelay_dev.cli.help import HelpFormatter
from ttrelay_dev.cli.targets import add_region_option, deployed_outputs, local_outputs
from ttrelay_dev.local.stack import STATE_FILE


def status_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="ttrelay status", description=__doc__, formatter_class=HelpFormatter
    )
    parser.add_argument("--stack-name", help="a deployed ttrelay stack (reads its outputs and metrics)")
    add_region_option(parser)
    parser.add_argument("--state-file", type=Path, default=STATE_FILE, help="the local stack's state file")
    parser.add_argument(
        "--window-minutes",
        type=int,
        default=60,
        help="how far back configuration errors and unused TC strings (TcfVendorUnconfigured) are counted",
    )
    args = parser.parse_args(argv)
    from ttrelay.adapters import aws
    from ttrelay.adapters.stack_status import read_status
    from ttrelay.observability.status import summarise

    try:
        outputs = (
            deployed_outputs(args.stack_name, args.region)
            if args.stack_name
            else local_outputs(args.state_file)
        )
    except LookupError as exc:
        print(f"ttrelay status: {exc}", file=sys.stderr)
        return 2
    readings = read_status(
        outputs,
        aws.sqs(),
        aws.cloudwatch() if args.stack_name else None,
        dt.datetime.now(dt.UTC),
        args.window_minutes,
    )
    print(json.dumps({"stack": args.stack_name or "local", **summarise(readings)}, indent=2))
    return 0
