"""`ttrelay dev`: run the local stack until Ctrl-C.

The collector at http://127.0.0.1:PORT/events, the queue poller and the forwarder on moto, and a fake
TikTok Events API (README, "The local stack"). Environment: TTRELAY_PIXEL_CODES, and for a real
TikTok pixel TTRELAY_TIKTOK_ACCESS_TOKEN (and TTRELAY_EVENTS_API_BASE_URL to override the endpoint).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from ttrelay_dev.cli.help import HelpFormatter
from ttrelay_dev.local.stack import LOCAL_PIXEL, STATE_FILE, LocalStack, PortInUse, StackOptions, print_banner
from ttrelay_dev.local.template import ParameterError


def dev_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ttrelay dev", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "3000")),
        help="HTTP port of the local front (reads $PORT)",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root holding template.yaml")
    parser.add_argument(
        "--pixel",
        action="append",
        help=f"pixel code to accept, repeatable (default: $TTRELAY_PIXEL_CODES, else {LOCAL_PIXEL})",
    )
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=None,
        help="override the queue's VisibilityTimeout (s) to see retries sooner",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help=f"where `ttrelay invoke` and `ttrelay dlq` find this stack (default ROOT/{STATE_FILE})",
    )
    parser.add_argument(
        "--test-event-code",
        default=os.environ.get("TTRELAY_TEST_EVENT_CODE", ""),
        help="TikTok test event code for every request (template TestEventCode; $TTRELAY_TEST_EVENT_CODE)",
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters, as for `sam deploy`, e.g. ForwardBatchWindowSeconds=1",
    )
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.parameter_overrides if "=" in item)
    options = StackOptions(
        root=args.root.resolve(),
        port=args.port,
        pixel_codes=tuple(args.pixel or os.environ.get("TTRELAY_PIXEL_CODES", LOCAL_PIXEL).split(",")),
        visibility_timeout=args.visibility_timeout,
        # A real token (never committed: from the environment) sends to TikTok unless a base URL is set.
        access_token=os.environ.get("TTRELAY_TIKTOK_ACCESS_TOKEN") or None,
        events_api_base_url=os.environ.get("TTRELAY_EVENTS_API_BASE_URL") or None,
        test_event_code=args.test_event_code,
        parameter_overrides=overrides,
    )
    try:
        stack = LocalStack(options).start()
    except (PortInUse, ParameterError) as refused:  # one line, no traceback: the fix is the user's
        print(f"ttrelay dev: {refused}", file=sys.stderr)
        return 1
    state_file = args.state_file or options.root / STATE_FILE
    stack.write_state(state_file)
    print_banner(stack)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    stack.stop()
    state_file.unlink(missing_ok=True)
    return 0
