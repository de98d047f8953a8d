"""One cold start, timed from inside a fresh interpreter (interpreter start-up itself is not counted).

    python bench/cold_child.py boto3|forward|collect-memory|collect-moto ROOT [INPUT.json]

Prints one line `@@bench {json}` (the handler's own logs go to stdout too). Only the standard library is
imported before the clock starts, the same set for every variant, so the variants compare fairly.
"""

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

# Modules whose presence says what a cold start really paid for (boto3 proper, X-Ray, libphonenumber).
WATCHED = (
    "boto3",
    "botocore.session",
    "aws_xray_sdk",
    "phonenumbers",
    "httpx",
    "aws_lambda_powertools.utilities.parameters",
)


class Context:
    """The Lambda context attributes Powertools reads."""

    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000  # ForwardFunction's timeout in template.yaml


def load_app(code_dir: Path) -> Any:
    """Import `app` from a function's CodeUri the way the Lambda runtime does (module name `app`)."""
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location("app", code_dir / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    return module


def loaded() -> dict[str, bool]:
    return {name: name in sys.modules for name in WATCHED}


def in_memory_first_request(app: Any, spec: dict[str, Any]) -> Any:
    """First request with the queue and the secrets replaced in memory: no AWS call, no boto3 client."""
    from ttrelay.collect.cookie import SigningKeys
    from ttrelay.collect.use_case import CollectDeps
    from ttrelay.config import collect_settings
    from ttrelay.consent.policy import load_policy, with_vendor

    settings = collect_settings()
    sent: list[str] = []

    class ListQueue:
        def send(self, body: str) -> None:
            sent.append(body)

    keys = SigningKeys.from_secret(spec["signing_secret"])
    deps = CollectDeps(
        settings=settings,
        queue=ListQueue(),
        policy=with_vendor(load_policy(settings.policy_file or None), settings.tiktok_vendor_id),
        signing_keys=lambda: keys,
        origin_secret=lambda: spec["origin_secret"],
        clock=lambda: spec["now"],
    )
    app.collect_deps = lambda: deps
    return app.handler(spec["event"], Context())


def main() -> None:
    variant, root = sys.argv[1], Path(sys.argv[2])
    spec = json.loads(Path(sys.argv[3]).read_text()) if len(sys.argv) > 3 else {}
    context = Context()
    result: dict[str, Any] = {"variant": variant}
    start = time.perf_counter()
    if variant == "boto3":
        import boto3  # noqa: F401 - the baseline: what a bare `import boto3` costs

        result["import_ms"] = (time.perf_counter() - start) * 1000
    elif variant == "forward":
        load_app(root / "functions" / "forward")
        result["import_ms"] = (time.perf_counter() - start) * 1000
    elif variant in ("collect-memory", "collect-moto"):
        app = load_app(root / "functions" / "collect")
        imported = time.perf_counter()
        result["import_ms"] = (imported - start) * 1000
        result["after_import"] = loaded()
        if variant == "collect-memory":
            response = in_memory_first_request(app, spec)
        else:  # the real runtime wiring: secret from Secrets Manager, message to SQS (moto here)
            response = app.handler(spec["event"], context)
        result["first_request_ms"] = (time.perf_counter() - imported) * 1000
        result["status"] = response.get("statusCode")
        result["accepted"] = json.loads(response.get("body") or "{}").get("accepted")
    else:
        raise SystemExit(f"unknown variant {variant}")
    result["after_all"] = loaded()
    print("@@bench " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
