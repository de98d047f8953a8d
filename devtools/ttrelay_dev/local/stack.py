"""The local stack behind `make dev`: moto + resources from template.yaml + the real handlers.

HTTP :PORT  ──/events──▶ CollectFunction worker ──▶ moto SQS ──▶ event source ──▶ ForwardFunction worker
    │                                                                                  │
    └──/_local/tiktok/…  ◀───────────── fake Events API ◀──────────── httpx ───────────┘
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ttrelay.config import TIKTOK_BASE_URL

from ttrelay_dev.local.dead_letter_watch import DeadLetterWatch
from ttrelay_dev.local.event_source import SqsEventSource
from ttrelay_dev.local.fake_events_api import FakeEventsApi
from ttrelay_dev.local.http_front import FAKE_PREFIX, INSPECTOR_PREFIX, LocalFront
from ttrelay_dev.local.inspector import Inspector
from ttrelay_dev.local.invoker import FunctionRunner
from ttrelay_dev.local.moto_process import MotoProcess
from ttrelay_dev.local.provision import FunctionSpec, Provisioned, provision
from ttrelay_dev.local.template import Resolver, load_template

LOCAL_PIXEL = "CTTRELAYLOCALDEV0001"
LOCAL_ACCESS_TOKEN = "local-dev-token"  # noqa: S105 - the fake Events API's token, not a secret
# Locally the CloudFront origin-verify secret is a known value, so curl and tests can act as CloudFront.
LOCAL_ORIGIN_SECRET = "local-origin-verify-secret"  # noqa: S105 - local only, documented
# TikTokVendorId locally: a TEST value so TCF paths grant (the demo's test vendor list has it). In IAB's
# list 986 is ByteDance's Pangle, not confirmed as TikTok (reference/consent.md 1.9); never copy it into
# a deployment without checking. `--parameter-overrides TikTokVendorId=` runs without one.
LOCAL_TIKTOK_VENDOR_ID = "986"
# The backend API key the local stack accepts (DESIGN.md "Who may send"), stored hashed like `ttrelay keys`.
LOCAL_API_KEY = "ttrelay-local-dev-key"
# The publishable site key the local stack accepts for its pixels, from any page host: what a sandboxed page
# such as a Shopify custom pixel sends (`site_key`), printed in the banner.
LOCAL_SITE_KEY = "ttrelay-local-site-key"
# Where the forwarder reads the Events API base URL. Locally it points at the plain-http fake, which the
# template's https-only EventsApiBaseUrl parameter refuses, so it is set as an environment override.
EVENTS_API_BASE_URL_VARIABLE = "EVENTS_API_BASE_URL"
# The shop of events/*.json and the docs' examples.
SAMPLE_SITE_ORIGIN = "https://shop.example.com"
REGION = "us-east-1"
STATE_FILE = Path(".local-stack/state.json")


class PortInUse(Exception):
    """The front's port is taken, most likely by another `make dev`: nothing was started."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"port {port} is in use: another `make dev`? stop it or use `make dev PORT={port + 100}`"
        )
        self.port = port


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
        """Binds the port before anything starts (a taken port raises PortInUse), then starts the rest;
        a failure on the way stops whatever had started, so no moto server or worker outlives it."""
        self._front = self._bind()
        try:
            self._start_behind(self._front)
        except BaseException:  # Ctrl-C during startup too
            self.stop()
            raise
        return self

    def _bind(self) -> LocalFront:
        opts = self.options
        try:
            front = LocalFront(
                opts.host,
                opts.port,
                collect=None,
                fake=self.fake,
                queue_state=self.queue_state,
                web_root=opts.root / "web",
            )
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(opts.port) from None
            raise
        # The bound port (PORT=0 picks one) goes into the forwarder's environment as the fake's URL.
        self.port = front.server_address[1]
        return front

    def _start_behind(self, front: LocalFront) -> None:
        opts = self.options
        self._moto = MotoProcess()
        self.moto_endpoint = self._moto.start()
        resolver = Resolver.for_template(load_template(opts.root / "template.yaml"), self._parameters())
        front.front_door = resolver.condition("FrontDoorOn")
        self.provisioned = provision(
            opts.root, resolver, self.clients(), self._secret_values(), opts.visibility_timeout
        )
        env = self.worker_env()
        dead_letters = DeadLetterWatch(self.clients()["sqs"], self.provisioned.queue_urls["EventsDLQ"])
        follows_fake = self.events_api_base_url().startswith(self.base_url)
        front.inspector = Inspector(self.queue_state, dead_letters.messages, follows_fake=follows_fake)
        if follows_fake:
            self.fake.subscribe(front.inspector.events_api_request)
        for logical_id, template_spec in self.provisioned.functions.items():
            spec = dataclasses.replace(template_spec, environment=self._environment(template_spec))
            # What runs is what `ttrelay invoke` and the state file see.
            self.provisioned.functions[logical_id] = spec
            # The collector's `collected` log line holds the consent receipt the inspector shows.
            listener = front.inspector.collect_log_line if logical_id == "CollectFunction" else None
            self._runners[logical_id] = FunctionRunner(
                spec, env, concurrency=opts.pollers, output=opts.log_output, on_log_line=listener
            )
        front.collect = self._runners["CollectFunction"]
        front.start()
        if opts.event_sources:
            for mapping in self.provisioned.mappings:
                source = SqsEventSource(
                    mapping, self._runners[mapping.function], self.clients()["sqs"], pollers=opts.pollers
                )
                source.start()
                self._sources.append(source)

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
        override = self._events_api_override()
        return override or self.options.parameter_overrides.get("EventsApiBaseUrl", TIKTOK_BASE_URL)

    def _events_api_override(self) -> str | None:
        """The forwarder's Events API URL when it is not the template's: the fake, unless a real token or
        an EventsApiBaseUrl parameter override says to send elsewhere."""
        opts = self.options
        if opts.events_api_base_url:
            return opts.events_api_base_url
        if opts.access_token or "EventsApiBaseUrl" in opts.parameter_overrides:
            return None
        return f"{self.base_url}{FAKE_PREFIX}"

    def _environment(self, spec: FunctionSpec) -> dict[str, str]:
        """A function's template environment, the local Events API URL, then the caller's overrides."""
        environment = dict(spec.environment)
        override = self._events_api_override()
        if override and EVENTS_API_BASE_URL_VARIABLE in environment:
            environment[EVENTS_API_BASE_URL_VARIABLE] = override
        if "API_KEYS_SECRET_ARN" in environment:
            # `ttrelay keys create|revoke` should count at once locally, not after the 5-minute cache.
            environment["API_KEYS_CACHE_SECONDS"] = "1"
        return {**environment, **self.options.function_environment.get(spec.logical_id, {})}

    def _parameters(self) -> dict[str, str]:
        opts = self.options
        return {
            "PixelCodes": ",".join(opts.pixel_codes),
            # The stack's own pages (demo site, snippet) are a browser origin like any site's, and so is
            # the example shop that the sample events in events/ come from.
            "AllowedOrigins": f"http://127.0.0.1:{self.port},http://localhost:{self.port},{SAMPLE_SITE_ORIGIN}",
            "TestEventCode": opts.test_event_code,
            "TikTokVendorId": LOCAL_TIKTOK_VENDOR_ID,
            "LogLevel": "INFO",
            **opts.parameter_overrides,
        }

    def _secret_values(self) -> dict[str, str]:
        local_key = {
            "id": "local-dev",
            "label": "local stack",
            "hash": hashlib.sha256(LOCAL_API_KEY.encode()).hexdigest(),
            "pixels": ["*"],
            "created_at": 0,
        }
        local_site_key = {
            "id": "local-site",
            "label": "local stack pages",
            "hash": hashlib.sha256(LOCAL_SITE_KEY.encode()).hexdigest(),
            "pixels": list(self.options.pixel_codes),
            "created_at": 0,
            "kind": "publishable",
        }
        return {
            "AccessTokenSecret": json.dumps({"default": self.options.access_token or LOCAL_ACCESS_TOKEN}),
            "OriginVerifySecret": LOCAL_ORIGIN_SECRET,
            "ApiKeysSecret": json.dumps({"keys": [local_key, local_site_key]}),
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
            *(
                [f"  POST {base}/_t/events               front door: 403 without x-amz-content-sha256"]
                if self._front is not None and self._front.front_door
                else []
            ),
            f"  GET  {base}/_local/tiktok/requests  what the Events API received"
            + ("" if self.events_api_base_url().startswith(base) else "  [forwarding to TikTok itself]"),
            f"  POST {base}/_local/tiktok/faults    fault injection",
            f"  GET  {base}/_local/queue            queue depth (visible, in_flight, dlq)",
            f"  GET  {base}/sdk/ttrelay.js          browser snippet;  {base}/demo/  demo site",
            f"  GET  {base}{INSPECTOR_PREFIX}/      live inspector: each request's consent and delivery",
            f"  pixel codes: {', '.join(self.options.pixel_codes)}",
            f"  backend API key: {LOCAL_API_KEY};  site key (sandboxed pages, e.g. a Shopify custom pixel): "
            f"{LOCAL_SITE_KEY}",
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
