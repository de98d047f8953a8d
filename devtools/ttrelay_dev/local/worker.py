"""One Lambda execution environment: imports a handler once and serves invocations over a pipe.

Run as ``python -m ttrelay_dev.local.worker`` by the local stack with the function's environment. Requests
and results travel as JSON lines over two inherited pipe descriptors, so the handler's own stdout
(logs, EMF metrics) flows to the terminal untouched, as in CloudWatch.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ttrelay.forward.use_case import Forwarder


class LocalLambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, function_name: str, memory_mb: int, timeout_s: int, request_id: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(code_dir: Path, handler: str, module_alias: str) -> Any:
    """Imports `module.function` from the function's CodeUri, as the Lambda runtime does."""
    module_name, function_name = handler.rsplit(".", 1)
    path = code_dir / f"{module_name.replace('.', '/')}.py"
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(module_alias, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load handler module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_alias] = module
    spec.loader.exec_module(module)
    return getattr(module, function_name)


class _RuntimeJsonFormatter(logging.Formatter):
    """The shape of the lines Lambda's Python runtime writes for records that reach the root logger."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": self.formatTime(record),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        return json.dumps(line, default=str)


def configure_runtime_logging() -> None:
    """Lambda's runtime, with the JSON log format, puts a handler on the root logger at the application
    log level (AWS_LAMBDA_LOG_LEVEL): every library logger that propagates writes there. Done here too,
    so that what a library logs at LogLevel=DEBUG shows locally as it would in CloudWatch."""
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") != "JSON":
        return
    level = logging.getLevelName(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper())
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_RuntimeJsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else logging.INFO)


CRASH_RATE_VARIABLE = "LOCAL_CRASH_RATE"
CRASH_LOG_VARIABLE = "LOCAL_CRASH_LOG"


def install_crash_hook() -> None:
    """Wires the chaos harness's crash hook (ttrelay_dev.local.crash) into the forwarder of this process.

    The hook lives in the local stack, which the Lambda layer does not ship, so the runtime cannot import
    it: the worker takes the variables out of the function's environment (the runtime never sees them)
    and hands `ttrelay.runtime.forwarder` a copy of the real Forwarder with the crash checkpoint in it.
    """
    rate = float(os.environ.pop(CRASH_RATE_VARIABLE, "0") or 0)
    log_path = os.environ.pop(CRASH_LOG_VARIABLE, "")
    if not rate:
        return
    from ttrelay import runtime

    from ttrelay_dev.local.crash import crash_hook

    build_forwarder = runtime.forwarder
    checkpoint = crash_hook(rate, log_path)

    @functools.cache
    def forwarder_with_crashes() -> Forwarder:
        return dataclasses.replace(build_forwarder(), checkpoint=checkpoint)

    # Before the handler module is imported, so its `from ttrelay.runtime import forwarder` binds this one.
    runtime.forwarder = forwarder_with_crashes


def serve(args: argparse.Namespace) -> None:
    requests = os.fdopen(args.requests_fd, "r", encoding="utf-8")
    results = os.fdopen(args.results_fd, "w", encoding="utf-8")
    init_error: dict[str, str] | None = None
    try:
        configure_runtime_logging()
        install_crash_hook()
        handler = load_handler(Path(args.code_dir), args.handler, f"ttrelay_local_fn_{args.function_name}")
    except Exception as exc:  # an init error is reported on every invocation, like Lambda
        init_error = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_exc(),
        }
    for line in requests:
        request = json.loads(line)
        if init_error is not None:
            reply: dict[str, Any] = {"ok": False, "error": init_error}
        else:
            context = LocalLambdaContext(
                args.function_name, args.memory_mb, args.timeout, request["request_id"]
            )
            try:
                reply = {"ok": True, "result": handler(request["event"], context)}
            except Exception as exc:
                traceback.print_exc()
                reply = {"ok": False, "error": {"errorType": type(exc).__name__, "errorMessage": str(exc)}}
        sys.stdout.flush()
        results.write(json.dumps(reply) + "\n")
        results.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--code-dir", required=True)
    parser.add_argument("--handler", required=True)
    parser.add_argument("--function-name", required=True)
    parser.add_argument("--memory-mb", type=int, default=128)
    parser.add_argument("--timeout", type=int, default=3)
    parser.add_argument("--requests-fd", type=int, required=True)
    parser.add_argument("--results-fd", type=int, required=True)
    serve(parser.parse_args())


if __name__ == "__main__":
    main()
