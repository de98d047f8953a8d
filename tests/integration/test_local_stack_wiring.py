"""What the local stack derives from template.yaml for itself: its own origin, the fake's URL, the dev key,
and the collector's reserved concurrency."""

import hashlib
import json
from collections.abc import Iterator

import pytest
from support.paths import ROOT
from ttrelay_dev.local.stack import LOCAL_API_KEY, LOCAL_PIXEL, LOCAL_SITE_KEY, LocalStack, StackOptions
from ttrelay_dev.local.template import ParameterError


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(
        StackOptions(
            root=ROOT, port=0, event_sources=False, parameter_overrides={"CollectReservedConcurrency": "1"}
        )
    ).start()
    yield local
    local.stop()


def test_the_stack_admits_its_own_origin(stack: LocalStack) -> None:
    assert stack.provisioned is not None
    origins = stack.provisioned.functions["CollectFunction"].environment["ALLOWED_ORIGINS"].split(",")
    assert {f"http://127.0.0.1:{stack.port}", f"http://localhost:{stack.port}"} <= set(origins)


def test_allowed_origins_given_as_a_parameter_replace_the_stack_default() -> None:
    options = StackOptions(
        root=ROOT, port=0, event_sources=False, parameter_overrides={"AllowedOrigins": "https://a.example"}
    )
    local = LocalStack(options).start()
    try:
        assert local.provisioned is not None
        environment = local.provisioned.functions["CollectFunction"].environment
        assert environment["ALLOWED_ORIGINS"] == "https://a.example"
    finally:
        local.stop()


def test_the_forwarder_reaches_the_fake_by_environment_not_by_parameter(stack: LocalStack) -> None:
    assert stack.provisioned is not None
    forward_env = stack.provisioned.functions["ForwardFunction"].environment
    assert forward_env["EVENTS_API_BASE_URL"] == f"{stack.base_url}/_local/tiktok"
    # The template's parameter keeps its https default; only the function's environment points elsewhere.
    assert stack.provisioned.resolver.parameters["EventsApiBaseUrl"] == "https://business-api.tiktok.com"


def test_the_api_keys_secret_holds_the_local_dev_key_and_site_key_hashed(stack: LocalStack) -> None:
    assert stack.provisioned is not None
    arn = stack.provisioned.functions["CollectFunction"].environment["API_KEYS_SECRET_ARN"]
    secret = json.loads(stack.clients()["secretsmanager"].get_secret_value(SecretId=arn)["SecretString"])
    assert secret == {
        "keys": [
            {
                "id": "local-dev",
                "label": "local stack",
                "hash": hashlib.sha256(b"ttrelay-local-dev-key").hexdigest(),
                "pixels": ["*"],
                "created_at": 0,
            },
            {
                "id": "local-site",
                "label": "local stack pages",
                "hash": hashlib.sha256(b"ttrelay-local-site-key").hexdigest(),
                "pixels": [LOCAL_PIXEL],
                "created_at": 0,
                "kind": "publishable",
            },
        ]
    }
    assert LOCAL_API_KEY not in json.dumps(secret) and LOCAL_SITE_KEY not in json.dumps(secret)


def test_the_collector_gets_the_reserved_concurrency_parameter(stack: LocalStack) -> None:
    assert stack.provisioned is not None
    assert stack.provisioned.functions["CollectFunction"].reserved_concurrency == 1
    assert stack.provisioned.functions["ForwardFunction"].reserved_concurrency is None


def test_a_plain_http_events_api_parameter_is_refused_as_cloudformation_would() -> None:
    options = StackOptions(
        root=ROOT,
        port=0,
        event_sources=False,
        parameter_overrides={"EventsApiBaseUrl": "http://example.com"},
    )
    stack = LocalStack(options)
    try:
        with pytest.raises(ParameterError, match="EventsApiBaseUrl"):
            stack.start()
    finally:
        stack.stop()
