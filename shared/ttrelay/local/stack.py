"""The local stack behind `make dev`: moto + resources from template.yaml + the real handlers.

HTTP :PORT  ──/events──▶ CollectFunction worker ──▶ moto SQS ──▶ event source ──▶ ForwardFunction worker
    │                                                                                  │
    └──/_local/tiktok/…  ◀───────────── fake Events API ◀──────────── httpx ───────────┘
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ttrelay.config import TIKTOK_BASE_URL
from ttrelay.local.event_source import SqsEventSource
from ttrelay.local.fake_events_api import FakeEventsApi
from ttrelay.local.http_front import FAKE_PREFIX, LocalFront
from ttrelay.local.invoker import FunctionRunner
from ttrelay.local.moto_process import MotoProcess
from ttrelay.local.provision import Provisioned, provision
from ttrelay.local.template import Resolver, load_template

LOCAL_PIXEL = "CTTRELAYLOCALDEV0001"
LOCAL_ACCESS_TOKEN = "local-dev-token"  # noqa: S105 - the fake Events API's token, not a secret
# Locally the CloudFront origin-verify secret is a known value, so curl and tests can act as CloudFront.
LOCAL_ORIGIN_SECRET = "local-origin-verify-secret"  # noqa: S105 - local only, documented
REGION = "us-east-1"
STATE_FILE = Path(".local-stack/state.json")


@dataclass
class StackOptions:
    root: Path
    port: int = 3000
    host: str = "127.0.0.1"
    pixel_codes: tuple[str, ...] = (LOCAL_PIXEL,)
    visibility_timeout: int | None = None  # None keeps the template's value
    access_token: str | None = None  # a real token sends to TikTok unless events_api_base_url is set
    events_api_base_url: str | None = None
    test_event_code: str = ""
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    event_sources: bool = True
    pollers: int = 2  # concurrent forward invocations (the mapping's MaximumConcurrency, scaled down)
    function_environment: dict[str, dict[str, str]] = field(default_factory=dict)  # per logical id
    log_output: IO[str] | None = None


class LocalStack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.fake = FakeEventsApi(access_tokens=(LOCAL_ACCESS_TOKEN,))
        self._moto: MotoProcess | None = None
        self._clients: dict[str, Any] = {}
        self._front: LocalFront | None = None
        self._runners: dict[str, FunctionRunner] = {}
        self._sources: list[SqsEventSource] = []
        self.provisioned: Provisioned | None = None
        self.moto_endpoint = ""

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        self._moto = MotoProcess()
        self.moto_endpoint = self._moto.start()
        opts = self.options
        # Bind the port first: the fake's URL goes into the forwarder's environment.
        front = LocalFront(
            opts.host,
            opts.port,
            collect=None,
            fake=self.fake,
            queue_state=self.queue_state,
            web_root=opts.root / "web",
        )
        self.port = front.server_address[1]
        template = load_template(opts.root / "template.yaml")
        resolver = Resolver.for_template(template, self._parameters())
        self.provisioned = provision(
            opts.root, resolver, self.clients(), self._secret_values(), opts.visibility_timeout
        )
        env = self.worker_env()
        for logical_id, template_spec in self.provisioned.functions.items():
            overrides = opts.function_environment.get(logical_id, {})
            spec = dataclasses.replace(template_spec, environment={**template_spec.environment, **overrides})
            self._runners[logical_id] = FunctionRunner(
                spec, env, concurrency=opts.pollers, output=opts.log_output
            )
        front.collect = self._runners["CollectFunction"]
        self._front = front
        front.start()
        if opts.event_sources:
            for mapping in self.provisioned.mappings:
                source = SqsEventSource(
                    mapping, self._runners[mapping.function], self.clients()["sqs"], pollers=opts.pollers
                )
                source.start()
                self._sources.append(source)
        return self

    def stop(self) -> None:
        for source in self._sources:
            source.stop()
        if self._front is not None:
            self._front.stop()
        for runner in self._runners.values():
            runner.close()
        if self._moto is not None:
            self._moto.stop()

    # -- configuration ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    def events_api_base_url(self) -> str:
        opts = self.options
        if opts.events_api_base_url:
            return opts.events_api_base_url
        return TIKTOK_BASE_URL if opts.access_token else f"{self.base_url}{FAKE_PREFIX}"

    def _parameters(self) -> dict[str, str]:
        opts = self.options
        return {
            "PixelCodes": ",".join(opts.pixel_codes),
            "EventsApiBaseUrl": self.events_api_base_url(),
            "TestEventCode": opts.test_event_code,
            "LogLevel": "INFO",
            **opts.parameter_overrides,
        }

    def _secret_values(self) -> dict[str, str]:
        return {
            "AccessTokenSecret": json.dumps({"default": self.options.access_token or LOCAL_ACCESS_TOKEN}),
            "OriginVerifySecret": LOCAL_ORIGIN_SECRET,
        }

    def worker_env(self) -> dict[str, str]:
        return worker_env(self.moto_endpoint)

    def clients(self) -> dict[str, Any]:
        """boto3 clients of the stack's moto server, made once (thread-safe, and not cheap to make)."""
        if not self._clients:
            import boto3

            session = boto3.session.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106
                region_name=REGION,
            )
            self._clients = {
                name: session.client(name, endpoint_url=self.moto_endpoint)
                for name in ("sqs", "dynamodb", "secretsmanager")
            }
        return self._clients

    # -- state -----------------------------------------------------------------------------------
    def queue_state(self) -> dict[str, int]:
        assert self.provisioned is not None
        sqs = self.clients()["sqs"]

        def counts(url: str) -> tuple[int, int]:
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            hidden = int(attrs["ApproximateNumberOfMessagesNotVisible"]) + int(
                attrs["ApproximateNumberOfMessagesDelayed"]
            )
            return int(attrs["ApproximateNumberOfMessages"]), hidden

        visible, in_flight = counts(self.provisioned.queue_urls["EventsQueue"])
        dlq_visible, dlq_hidden = counts(self.provisioned.queue_urls["EventsDLQ"])
        return {"visible": visible, "in_flight": in_flight, "dlq": dlq_visible + dlq_hidden}

    def invoke(self, logical_id: str, event: Any) -> Any:
        return self._runners[logical_id].invoke(event)

    def write_state(self, path: Path) -> None:
        assert self.provisioned is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "base_url": self.base_url,
                    "moto_endpoint": self.moto_endpoint,
                    "queues": self.provisioned.queue_urls,
                    "functions": {
                        lid: {
                            "code_dir": str(spec.code_dir),
                            "handler": spec.handler,
                            "environment": spec.environment,
                            "timeout": spec.timeout,
                            "memory_mb": spec.memory_mb,
                        }
                        for lid, spec in self.provisioned.functions.items()
                    },
                },
                indent=2,
            )
        )

    def describe(self) -> str:
        base = self.base_url
        lines = [
            f"ttrelay local stack (moto at {self.moto_endpoint})",
            f"  POST {base}/events                  collector (function URL payload 2.0)",
            f"  GET  {base}/_local/tiktok/requests  what the Events API received"
            + ("" if self.events_api_base_url().startswith(base) else "  [forwarding to TikTok itself]"),
            f"  POST {base}/_local/tiktok/faults    fault injection",
            f"  GET  {base}/_local/queue            queue depth (visible, in_flight, dlq)",
            f"  GET  {base}/sdk/ttrelay.js          browser snippet;  {base}/demo/  demo site",
            f"  pixel codes: {', '.join(self.options.pixel_codes)}",
        ]
        return "\n".join(lines)


def worker_env(moto_endpoint: str) -> dict[str, str]:
    """What a function sees besides its template environment: credentials and the moto endpoint."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "VIRTUAL_ENV")
    return {
        **{key: os.environ[key] for key in keep if key in os.environ},
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


def print_banner(stack: LocalStack) -> None:
    print(stack.describe(), flush=True)
    print("Ctrl-C to stop.", file=sys.stderr, flush=True)
