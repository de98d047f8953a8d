"""template.yaml, samconfig.toml and the layer's requirements: what `sam deploy` will create.

The structural tests read template.yaml directly; the `sam` ones run the pinned SAM CLI and cfn-lint from the
tool venv (`make setup`), exactly as a user's `sam validate --lint` / `sam build` would.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
LAYER_REQUIREMENTS = REPO_ROOT / "shared" / "requirements.txt"

# What the layer must carry, and what it must not: the runtime ships boto3; moto and pyyaml are local-only.
LAYER_ROOTS = ("aws-lambda-powertools", "pydantic", "httpx", "phonenumbers", "iptocc")
NOT_IN_LAYER = ("boto3", "botocore", "s3transfer", "moto", "pyyaml")
# The Lambda python3.13 arm64 environment, for evaluating dependency markers in uv.lock.
LAMBDA_MARKER_ENV = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}


# --- reading the template ---------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short tags (!Ref, !GetAtt, !Sub, ...) as their JSON form."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    # !Condition X is {"Condition": "X"} in JSON, every other short tag is Ref or Fn::<tag>.
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {key: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    with TEMPLATE.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return loaded


def _props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return props


def _function_env(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's environment as deployed: Globals merged under the function's own variables."""
    env = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    env.update(_props(template, logical_id)["Environment"]["Variables"])
    return env


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


# --- structure --------------------------------------------------------------------------------------


def test_functions_run_python313_on_arm64(template: dict[str, Any]) -> None:
    globals_fn = template["Globals"]["Function"]
    assert globals_fn["Runtime"] == "python3.13"
    assert globals_fn["Architectures"] == ["arm64"]
    assert globals_fn["Layers"] == [{"Ref": "TtrelayLayer"}]
    for name in ("CollectFunction", "ForwardFunction"):
        props = _props(template, name)
        assert props.get("Runtime", "python3.13") == "python3.13", name
        assert props.get("Architectures", ["arm64"]) == ["arm64"], name
        assert props["Handler"] == "app.handler"

    layer = template["Resources"]["TtrelayLayer"]
    assert layer["Properties"]["ContentUri"] == "shared/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    # shared/Makefile builds it, leaving the local stack and the CLI out (asserted on a real build below).
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert (REPO_ROOT / "shared" / "Makefile").is_file()


def test_forward_reports_partial_batch_failures(template: dict[str, Any]) -> None:
    forward = _props(template, "ForwardFunction")
    sqs_events = [e["Properties"] for e in forward["Events"].values() if e["Type"] == "SQS"]
    assert len(sqs_events) == 1
    event = sqs_events[0]
    assert event["Queue"] == {"Fn::GetAtt": ["EventsQueue", "Arn"]}
    # One bad message must not redeliver its neighbours (DESIGN: partial batch responses).
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["BatchSize"] == {"Ref": "ForwardBatchSize"}
    assert event["MaximumBatchingWindowInSeconds"] == {"Ref": "ForwardBatchWindowSeconds"}
    assert event["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "ForwardMaxConcurrency"}}
    # Lambda's floor for MaximumConcurrency is 2.
    assert template["Parameters"]["ForwardMaxConcurrency"]["MinValue"] >= 2


def test_queue_redrives_to_dlq_and_outlives_forward_timeout(template: dict[str, Any]) -> None:
    queue = _props(template, "EventsQueue")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["EventsDLQ", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    # AWS guidance: visibility timeout at least 6x the consumer's timeout, or batches are redelivered
    # while still in flight.
    assert queue["VisibilityTimeout"] >= 6 * _props(template, "ForwardFunction")["Timeout"]
    assert queue["MessageRetentionPeriod"] == 4 * 24 * 3600
    dlq = _props(template, "EventsDLQ")
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    # Retention in the DLQ must outlast the main queue, or parked events could expire before a redrive.
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    for name in ("EventsQueue", "EventsDLQ"):
        assert _props(template, name)["SqsManagedSseEnabled"] is True, name


def test_dedup_table_expires_claims_by_ttl(template: dict[str, Any]) -> None:
    table = _props(template, "DedupTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_cors_is_left_to_the_handler(template: dict[str, Any]) -> None:
    collect = _props(template, "CollectFunction")
    # Public unless the CloudFront front door is on (test_front_door_* below).
    assert collect["FunctionUrlConfig"]["AuthType"] == {"Fn::If": ["FrontDoorOn", "AWS_IAM", "NONE"]}
    assert "Cors" not in collect["FunctionUrlConfig"]
    api = _props(template, "CollectHttpApi")
    assert "CorsConfiguration" not in api
    assert "DestinationArn" in api["AccessLogSettings"]
    routes = {
        (e["Properties"]["Method"], e["Properties"]["Path"])
        for e in collect["Events"].values()
        if e["Type"] == "HttpApi"
    }
    # Without platform CORS, the preflight must reach the handler too.
    assert routes == {("POST", "/events"), ("OPTIONS", "/events")}
    for event in collect["Events"].values():
        assert event["Properties"]["ApiId"] == {"Ref": "CollectHttpApi"}


def test_functions_get_the_environment_their_settings_read(template: dict[str, Any]) -> None:
    common = {"POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME", "LOG_LEVEL", "PIXEL_CODES"}
    collect = _function_env(template, "CollectFunction")
    assert {
        *common,
        "EVENTS_QUEUE_URL",
        "COOKIE_KEYS_SECRET_ARN",
        "ORIGIN_VERIFY_SECRET_ARN",
        "ORIGIN_VERIFY_HEADER_NAME",
        "ALLOWED_ORIGINS",
        "COOKIE_DOMAIN",
        "TIKTOK_VENDOR_ID",
        "API_KEYS_SECRET_ARN",
        "TRUST_IP_COUNTRY",
    } <= collect.keys()
    assert collect["API_KEYS_SECRET_ARN"] == {"Ref": "ApiKeysSecret"}
    assert collect["TRUST_IP_COUNTRY"] == {"Ref": "TrustIpCountry"}
    assert collect["EVENTS_QUEUE_URL"] == {"Ref": "EventsQueue"}
    assert collect["COOKIE_KEYS_SECRET_ARN"] == {"Ref": "CookieKeysSecret"}
    assert collect["ORIGIN_VERIFY_SECRET_ARN"] == {"Ref": "OriginVerifySecret"}
    assert collect["ALLOWED_ORIGINS"] == {"Fn::Join": [",", {"Ref": "AllowedOrigins"}]}
    assert collect["POWERTOOLS_SERVICE_NAME"] == "ttrelay-collect"

    forward = _function_env(template, "ForwardFunction")
    assert {
        *common,
        "DEDUP_TABLE_NAME",
        "ACCESS_TOKEN_SECRET_ARN",
        "EVENTS_API_BASE_URL",
        "TEST_EVENT_CODE",
        "EVENTS_DLQ_URL",
        "DEDUP_MODE",
    } <= forward.keys()
    assert forward["DEDUP_TABLE_NAME"] == {"Ref": "DedupTable"}
    assert forward["ACCESS_TOKEN_SECRET_ARN"] == {"Ref": "AccessTokenSecret"}
    assert forward["EVENTS_DLQ_URL"] == {"Ref": "EventsDLQ"}
    assert forward["POWERTOOLS_SERVICE_NAME"] == "ttrelay-forward"
    assert template["Parameters"]["EventsApiBaseUrl"]["Default"] == "https://business-api.tiktok.com"


# Lambda's levels (LoggingConfig): the system log levels, and the application ones, least to most severe.
LAMBDA_SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
LAMBDA_APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def _function_logging(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's LoggingConfig as SAM deploys it: Globals merged under the function's own keys."""
    logging_config = dict(template["Globals"]["Function"].get("LoggingConfig", {}))
    logging_config.update(_props(template, logical_id).get("LoggingConfig", {}))
    return logging_config


def _lambda_application_log_level(template: dict[str, Any], log_level: str) -> str:
    """The ApplicationLogLevel both functions get for a LogLevel value, its Fn::FindInMap resolved."""
    levels = set()
    for name in ("CollectFunction", "ForwardFunction"):
        mapping, key, attribute = _function_logging(template, name)["ApplicationLogLevel"]["Fn::FindInMap"]
        assert key == {"Ref": "LogLevel"}, name
        levels.add(template["Mappings"][mapping][log_level][attribute])
    (level,) = levels
    assert isinstance(level, str)
    return level


def test_both_functions_log_json_without_platform_lines_by_default(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["PlatformLogLevel"]
    assert parameter["Type"] == "String"
    # WARN: Lambda writes no START/END/REPORT lines (~280 bytes an invocation), only its warnings.
    assert parameter["Default"] == "WARN"
    assert parameter["AllowedValues"] == ["WARN", "INFO", "DEBUG"]
    assert set(parameter["AllowedValues"]) <= set(LAMBDA_SYSTEM_LOG_LEVELS)
    operations = next(
        group["Parameters"]
        for group in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        if group["Label"]["default"] == "Operations"
    )
    assert "PlatformLogLevel" in operations

    declared_groups = {
        props["LogGroupName"]["Fn::Sub"]: logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Logs::LogGroup"
        for props in [resource["Properties"]]
    }
    for name in ("CollectFunction", "ForwardFunction"):
        logging_config = _function_logging(template, name)
        # Level filtering needs the JSON format; Powertools' lines and EMF documents are JSON already.
        assert logging_config["LogFormat"] == "JSON", name
        assert logging_config["SystemLogLevel"] == {"Ref": "PlatformLogLevel"}, name
        assert "ApplicationLogLevel" in logging_config, name
        # The function still logs to the group declared for it (retention): the default name, or that group.
        assert declared_groups[f"/aws/lambda/${{{name}}}"] == f"{name}LogGroup"
        assert logging_config.get("LogGroup", {"Ref": f"{name}LogGroup"}) == {"Ref": f"{name}LogGroup"}, name


def test_lambda_application_log_level_follows_log_level(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
    from aws_lambda_powertools.shared.constants import LAMBDA_ADVANCED_LOGGING_LEVELS

    def severity(python_level: str) -> int:
        number = logging.getLevelName(python_level)
        assert isinstance(number, int), python_level
        return number

    emf = EphemeralMetrics(namespace="ttrelay")
    emf.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=1)
    assert "level" not in emf.serialize_metric_set()

    log_levels = template["Parameters"]["LogLevel"]["AllowedValues"]
    assert template["Globals"]["Function"]["Environment"]["Variables"]["LOG_LEVEL"] == {"Ref": "LogLevel"}
    (mapping,) = {
        _function_logging(template, fn)["ApplicationLogLevel"]["Fn::FindInMap"][0]
        for fn in ("CollectFunction", "ForwardFunction")
    }
    assert set(template["Mappings"][mapping]) == set(log_levels)
    for log_level in log_levels:
        lambda_level = _lambda_application_log_level(template, log_level)
        assert lambda_level in LAMBDA_APPLICATION_LOG_LEVELS, log_level
        # In Python's names, as Powertools reads AWS_LAMBDA_LOG_LEVEL (WARN -> WARNING, FATAL -> CRITICAL).
        as_python = LAMBDA_ADVANCED_LOGGING_LEVELS[lambda_level]
        assert as_python is not None
        # Lambda never drops a line LogLevel asks for: DEBUG stays DEBUG, INFO stays INFO ...
        assert severity(as_python) <= severity(log_level), log_level
        if severity(log_level) <= logging.INFO:
            assert as_python == log_level
        # ... and never goes above INFO: Lambda counts a line without a "level" key, such as every EMF
        # document (below), as INFO, so WARN or higher would drop the metrics the alarms watch.
        assert severity(as_python) <= logging.INFO, log_level

        # Powertools, given both variables as Lambda sets them, takes Lambda's level without a warning.
        monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", lambda_level)
        monkeypatch.setenv("LOG_LEVEL", log_level)
        monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            logger = Logger(service=f"ttrelay-template-test-{log_level.lower()}")
        assert not [w for w in caught if "Advanced Logging Controls" in str(w.message)], log_level
        assert logger.log_level == severity(as_python), log_level


def test_the_local_stack_resolves_the_platform_log_level_as_cloudformation_would() -> None:
    from ttrelay_dev.local.template import ParameterError, Resolver, load_template

    local = load_template(TEMPLATE)
    assert Resolver.for_template(local, {}).parameters["PlatformLogLevel"] == "WARN"
    assert Resolver.for_template(local, {"PlatformLogLevel": "INFO"}).parameters["PlatformLogLevel"] == "INFO"
    with pytest.raises(ParameterError, match="PlatformLogLevel"):
        Resolver.for_template(local, {"PlatformLogLevel": "ERROR"})


def test_each_function_reaches_only_its_own_resources(template: dict[str, Any]) -> None:
    collect_refs = set(_strings(_props(template, "CollectFunction")["Policies"]))
    forward_refs = set(_strings(_props(template, "ForwardFunction")["Policies"]))
    # The collector never sees the access token or the dedup table; the forwarder never the cookie keys.
    assert {"AccessTokenSecret", "DedupTable"}.isdisjoint(collect_refs)
    # The forwarder may touch EventsQueue only to delay a failed message's return (the exact grant is
    # checked in test_forward_role_grants_only_the_calls_it_makes); it never sends to it.
    assert {"CookieKeysSecret", "OriginVerifySecret", "ApiKeysSecret"}.isdisjoint(forward_refs)
    assert {"EventsQueue", "CookieKeysSecret", "OriginVerifySecret", "ApiKeysSecret"} <= collect_refs
    assert {"AccessTokenSecret", "DedupTable", "EventsDLQ"} <= forward_refs
    for name in ("CollectFunction", "ForwardFunction"):
        assert "*" not in set(_strings(_props(template, name)["Policies"])), name


def test_template_holds_no_secret_value(template: dict[str, Any]) -> None:
    # The token is set after deploy; the generated secrets are made by Secrets Manager, not written here.
    assert _props(template, "AccessTokenSecret")["SecretString"] == "{}"
    # API keys start empty; `ttrelay keys create` adds hashes, never the keys themselves.
    assert json.loads(_props(template, "ApiKeysSecret")["SecretString"]) == {"keys": []}
    cookie_keys = _props(template, "CookieKeysSecret")
    assert "SecretString" not in cookie_keys
    generated = cookie_keys["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == {"active_kid": "k1"}
    assert generated["GenerateStringKey"] == "k1"
    assert "SecretString" not in _props(template, "OriginVerifySecret")
    assert "GenerateSecretString" in _props(template, "OriginVerifySecret")

    for name in ("CollectFunction", "ForwardFunction"):
        for var, value in _function_env(template, name).items():
            if re.search(r"TOKEN|SECRET|KEY", var):
                assert isinstance(value, dict), f"{name}.{var} is a literal; secrets go in Secrets Manager"

    # Nothing random-looking (mixed case and digits, 24+ characters) anywhere in the deploy files.
    looks_random = re.compile(r"^(?=.*\d)(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9_\-]{24,}$")
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    for text in [*_strings(template), *_strings(config)]:
        for word in re.split(r"[\s=,\"']+", text):
            assert not looks_random.match(word), f"possible secret literal: {word[:6]}..."


def test_logs_are_retained_and_alarms_watch_failures(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    log_groups = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Logs::LogGroup"}
    names = [p["LogGroupName"] for p in log_groups.values()]
    assert {"Fn::Sub": "/aws/lambda/${CollectFunction}"} in names
    assert {"Fn::Sub": "/aws/lambda/${ForwardFunction}"} in names
    for props in log_groups.values():
        assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}

    alarms = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::CloudWatch::Alarm"]
    watched = [(a["MetricName"], a["Dimensions"][0]["Value"]) for a in alarms]
    assert ("ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": ["EventsDLQ", "QueueName"]}) in watched
    assert ("Errors", {"Ref": "ForwardFunction"}) in watched


def test_outputs_name_what_an_operator_needs(template: dict[str, Any]) -> None:
    assert {
        "CollectFunctionUrl",
        "CollectHttpApiUrl",
        "EventsQueueUrl",
        "EventsDLQUrl",
        "DedupTableName",
        "AccessTokenSecretArn",
        "CookieKeysSecretArn",
        "OriginVerifySecretArn",
        "ApiKeysSecretArn",
    } <= template["Outputs"].keys()
    assert template["Outputs"]["ApiKeysSecretArn"]["Value"] == {"Ref": "ApiKeysSecret"}
    assert template["Outputs"]["CollectHttpApiUrl"]["Value"]["Fn::Sub"].endswith("/events")


def _policy_statements(template: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    """A function's inline statements; fails on a SAM policy template, whose actions are not listed here."""
    statements: list[dict[str, Any]] = []
    for policy in _props(template, logical_id)["Policies"]:
        assert set(policy) == {"Statement"}, f"{logical_id}: write inline statements, not {set(policy)}"
        statements.extend(policy["Statement"])
    return statements


def test_forward_role_grants_only_the_calls_it_makes(template: dict[str, Any]) -> None:
    granted = set()
    for statement in _policy_statements(template, "ForwardFunction"):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        granted |= {(action, json.dumps(statement["Resource"])) for action in actions}
    table = json.dumps({"Fn::GetAtt": ["DedupTable", "Arn"]})
    # adapters/dynamodb_dedup.py: batch_execute_statement of INSERTs (claim), batch_get_item (the state of
    # keys that exist), update_item (take over a claimable one), batch_write_item (delivered), delete_item
    # (release) - cross-checked against the module's own calls below; adapters/secrets.py: get_secret;
    # adapters/sqs.py: send_message (park) and change_message_visibility_batch (a failed message's retry
    # delay).
    assert granted == {
        ("dynamodb:PartiQLInsert", table),
        ("dynamodb:BatchGetItem", table),
        ("dynamodb:UpdateItem", table),
        ("dynamodb:BatchWriteItem", table),
        ("dynamodb:DeleteItem", table),
        ("secretsmanager:GetSecretValue", json.dumps({"Ref": "AccessTokenSecret"})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["EventsDLQ", "Arn"]})),
        ("sqs:ChangeMessageVisibility", json.dumps({"Fn::GetAtt": ["EventsQueue", "Arn"]})),
    }


DEDUP_ADAPTER = REPO_ROOT / "shared" / "ttrelay" / "adapters" / "dynamodb_dedup.py"
# A PartiQL statement is authorized by its verb, not by the API operation that carries it.
_PARTIQL_OPERATIONS = {"execute_statement", "batch_execute_statement", "execute_transaction"}
_PARTIQL_VERB = re.compile(r"(INSERT|UPDATE|DELETE|SELECT)\s")


def _dedup_adapter_actions() -> set[str]:
    """The IAM actions of the DynamoDB calls adapters/dynamodb_dedup.py makes, read from its source."""
    tree = ast.parse(DEDUP_ADAPTER.read_text(encoding="utf-8"))

    def is_client_factory(node: ast.AST) -> bool:  # aws.dynamodb()
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "dynamodb"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "aws"
        )

    clients = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and is_client_factory(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    operations = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (
            (isinstance(node.func.value, ast.Name) and node.func.value.id in clients)
            or is_client_factory(node.func.value)
        )
    }
    actions = {
        "dynamodb:" + "".join(word.title() for word in operation.split("_"))
        for operation in operations - _PARTIQL_OPERATIONS
    }
    if operations & _PARTIQL_OPERATIONS:
        # The statements' texts (f-strings included) start with their verb.
        verbs = {
            match.group(1)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            for match in [_PARTIQL_VERB.match(node.value)]
            if match
        }
        assert verbs, f"{DEDUP_ADAPTER.name} runs PartiQL, but no statement text was found"
        actions |= {f"dynamodb:PartiQL{verb.title()}" for verb in verbs}
    return actions


def test_forward_role_grants_the_dedup_adapters_calls_on_the_table(template: dict[str, Any]) -> None:
    # The hand list above, checked against the code: a call added to or dropped from the dedup adapter
    # fails here until the template follows.
    table = {"Fn::GetAtt": ["DedupTable", "Arn"]}
    granted = set()
    for statement in _policy_statements(template, "ForwardFunction"):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        granted |= {action for action in actions if action.startswith("dynamodb:")}
        if any(action.startswith("dynamodb:") for action in actions):
            assert statement["Resource"] == table
    assert _dedup_adapter_actions() == granted
    # GetItem went with the per-key claims; BatchGetItem reads existing keys now.
    assert "dynamodb:GetItem" not in granted


def test_dedup_mode_parameter_reaches_the_forwarder(template: dict[str, Any]) -> None:
    from ttrelay.config import ForwardSettings
    from ttrelay.forward.dedup import DedupMode
    from ttrelay_dev.local.template import ParameterError, Resolver, load_template

    parameter = template["Parameters"]["DedupMode"]
    assert parameter["Type"] == "String"
    # Exactly the modes the forwarder knows, and the template's default is the settings' default.
    assert parameter["AllowedValues"] == [mode.value for mode in DedupMode] == ["message", "lease"]
    defaults = ForwardSettings(dedup_table_name="t", access_token_secret_arn="s")
    assert parameter["Default"] == defaults.dedup_mode == "message"
    assert "docs/delivery.md" in parameter["Description"]
    assert _function_env(template, "ForwardFunction")["DEDUP_MODE"] == {"Ref": "DedupMode"}
    assert "DEDUP_MODE" not in _function_env(template, "CollectFunction")

    # The local stack resolves it as CloudFormation would: the default, an override, a refusal.
    local = load_template(TEMPLATE)
    variable = local["Resources"]["ForwardFunction"]["Properties"]["Environment"]["Variables"]["DEDUP_MODE"]
    assert Resolver.for_template(local, {}).resolve(variable) == "message"
    assert Resolver.for_template(local, {"DedupMode": "lease"}).resolve(variable) == "lease"
    with pytest.raises(ParameterError, match="DedupMode"):
        Resolver.for_template(local, {"DedupMode": "worker"})


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://business-api.tiktok.com", True),
        ("https://sandbox.example.com/tiktok", True),
        ("http://business-api.tiktok.com", False),
        ("http://127.0.0.1:3000/_local/tiktok", False),  # the local stack overrides the environment instead
        ("business-api.tiktok.com", False),
    ],
)
def test_events_api_base_url_parameter_is_https_only(
    template: dict[str, Any], url: str, allowed: bool
) -> None:
    pattern = template["Parameters"]["EventsApiBaseUrl"]["AllowedPattern"]
    assert (re.fullmatch(pattern, url) is not None) is allowed


def test_collector_is_throttled_by_concurrency_and_route_limits(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert params["CollectReservedConcurrency"]["Default"] == 50
    assert params["CollectReservedConcurrency"]["MinValue"] == 0
    # 0 means "no reservation": a reservation of 0 would switch the collector off.
    assert template["Conditions"]["HasCollectReservedConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CollectReservedConcurrency"}, "0"]}]
    }
    assert _props(template, "CollectFunction")["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasCollectReservedConcurrency",
            {"Ref": "CollectReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert params["CollectThrottleRateLimit"]["Default"] == 100
    assert params["CollectThrottleBurstLimit"]["Default"] == 200
    assert _props(template, "CollectHttpApi")["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "CollectThrottleRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "CollectThrottleBurstLimit"},
    }


def test_collector_reads_its_api_keys_and_ip_country_trust(template: dict[str, Any]) -> None:
    secret = template["Resources"]["ApiKeysSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert "hashed" in secret["Properties"]["Description"]
    assert {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "ApiKeysSecret"}}} in _props(
        template, "CollectFunction"
    )["Policies"]
    trust = template["Parameters"]["TrustIpCountry"]
    assert (trust["Type"], trust["Default"], trust["AllowedValues"]) == ("String", "false", ["false", "true"])
    assert "stricter" in trust["Description"]


def test_allowed_origins_says_empty_admits_no_browser(template: dict[str, Any]) -> None:
    description = template["Parameters"]["AllowedOrigins"]["Description"]
    assert "empty list admits NO browser origin" in " ".join(description.split())


def test_every_parameter_sits_in_exactly_one_console_group(template: dict[str, Any]) -> None:
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])


def _locked_runtime_closure(locked: dict[str, Any]) -> set[str]:
    """The layer's root packages and everything they pull in on Lambda, as resolved in uv.lock."""
    closure: set[str] = set()
    pending: list[str] = [canonicalize_name(n) for n in LAYER_ROOTS]
    while pending:
        package = pending.pop()
        if package in closure:
            continue
        closure.add(package)
        for dep in locked[package].get("dependencies", []):
            marker = dep.get("marker")
            if marker is None or Marker(marker).evaluate(LAMBDA_MARKER_ENV):
                pending.append(canonicalize_name(dep["name"]))
    return closure


def _layer_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LAYER_REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip().rstrip("\\").strip()
        if requirement and not requirement.startswith("--hash="):
            name, sep, version = requirement.partition("==")
            assert sep, f"unpinned layer requirement: {requirement}"
            pins[canonicalize_name(name)] = version.split(";", 1)[0].strip()
    return pins


def test_layer_requirements_pin_the_locked_runtime_closure() -> None:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked: dict[str, Any] = {canonicalize_name(p["name"]): p for p in lock["package"]}
    pins = _layer_pins()

    assert set(pins) == _locked_runtime_closure(locked), (
        "shared/requirements.txt must pin exactly the runtime closure from uv.lock"
    )
    for package, version in pins.items():
        assert version == locked[package]["version"], f"{package} {version} differs from uv.lock"
    assert not {canonicalize_name(n) for n in NOT_IN_LAYER} & set(pins)


def test_layer_requirements_are_the_hashed_export_of_uv_lock(tmp_path: Path) -> None:
    # `make layer-requirements` holds the one export command; a hand edit or a stale file fails here.
    exported = tmp_path / "requirements.txt"
    result = _run(["make", "-s", "layer-requirements", f"LAYER_REQUIREMENTS={exported}"], timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert LAYER_REQUIREMENTS.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8"), (
        "shared/requirements.txt differs from uv.lock's export: run `make layer-requirements`"
    )
    text = exported.read_text(encoding="utf-8")
    pins = re.findall(r"^\S+==", text, flags=re.MULTILINE)
    hashed_pins = re.findall(r"^\S+==\S+ \\\n    --hash=sha256:[0-9a-f]{64}", text, flags=re.MULTILINE)
    # pip --require-hashes refuses a file where any pin lacks a hash.
    assert pins and len(hashed_pins) == len(pins)


def test_shipped_modules_import_nothing_the_layer_leaves_out() -> None:
    # In Lambda such an import fails at the first call that reaches it, not at build time.
    package = REPO_ROOT / "shared" / "ttrelay"
    left_out = ("ttrelay_dev.local", "ttrelay_dev.cli", "yaml", "moto")
    offenders = []
    for module in package.rglob("*.py"):
        if module.relative_to(package).parts[0] in ("local", "cli"):
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{module.relative_to(package)}: {name}"
                for name in names
                if any(name == root or name.startswith(f"{root}.") for root in left_out)
            ]
    assert offenders == []


# --- the real tools -----------------------------------------------------------------------------------


def _tool(env_var: str, relative: str) -> str:
    # The Makefile passes paths relative to the repository root.
    path = REPO_ROOT / (os.environ.get(env_var) or relative)
    if not path.is_file():
        pytest.fail(f"{path} not found: run `make setup` (installs the SAM CLI and cfn-lint into .tools/sam)")
    return str(path)


def _tool_env() -> dict[str, str]:
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    # sam build looks for python3.13 on PATH; the interpreter behind this venv is one (and has pip).
    env["PATH"] = os.pathsep.join([env.get("PATH", ""), str(Path(sys.base_prefix) / "bin")])
    return env


def _run(args: list[str], timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=REPO_ROOT, env=_tool_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def sam_bin() -> str:
    return _tool("TTRELAY_SAM_BIN", ".tools/sam/bin/sam")


@pytest.fixture(scope="module")
def cfn_lint_bin() -> str:
    return _tool("TTRELAY_CFN_LINT_BIN", ".tools/sam/bin/cfn-lint")


@pytest.mark.sam
def test_sam_validate_lint_passes(sam_bin: str) -> None:
    result = _run([sam_bin, "validate", "--lint", "--template-file", str(TEMPLATE)], timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


@pytest.mark.sam
def test_cfn_lint_has_no_findings(cfn_lint_bin: str) -> None:
    result = _run([cfn_lint_bin, str(TEMPLATE)], timeout=180)
    # cfn-lint exits non-zero on errors (2), warnings (4) and informational findings (8).
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.sam
@pytest.mark.timeout(600)  # pip fetches the layer's wheels from PyPI on every uncached build
def test_sam_build_packages_an_arm64_layer(sam_bin: str, tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    result = _run(
        [sam_bin, "build", "--template-file", str(TEMPLATE), "--build-dir", str(build_dir), "--no-cached"],
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    site = build_dir / "TtrelayLayer" / "python"
    listing = sorted(path.name for path in site.iterdir())
    # The runtime package, without the local stack (its crash hook included) or the CLI.
    assert (site / "ttrelay" / "__init__.py").is_file()
    assert (site / "ttrelay" / "runtime.py").is_file()
    assert (site / "ttrelay" / "consent" / "default_policy.json").is_file()
    assert not (site / "ttrelay" / "local").exists()
    assert not (site / "ttrelay" / "cli").exists()
    assert not list(site.rglob("__pycache__"))
    # The runtime dependencies, and nothing local-only or already in the runtime, not even transitively.
    for package in (
        "aws_lambda_powertools",
        "pydantic",
        "httpx",
        "phonenumbers",
        "iptocc",
    ):
        assert (site / package).is_dir(), (package, listing)
    absent_packages = ("moto", "yaml", "_yaml", "boto3", "botocore", "s3transfer", "werkzeug", "bin")
    for absent in (*absent_packages, "pydantic_settings"):
        assert absent not in listing, (absent, listing)
    assert not [name for name in listing if name.lower().startswith(("pyyaml", "moto-", "boto3-"))], listing
    # Native code is built for Lambda's arm64: ELF e_machine 183 is EM_AARCH64.
    native = [*site.glob("pydantic_core/_pydantic_core.*.so"), *site.glob("iptocc/*.so")]
    assert {so.parent.name for so in native} == {"pydantic_core", "iptocc"}, native
    for so in native:
        assert int.from_bytes(so.read_bytes()[18:20], "little") == 183, so.name

    for function in ("CollectFunction", "ForwardFunction"):
        assert (build_dir / function / "app.py").is_file(), function
    assert (build_dir / "template.yaml").is_file()


def test_privacy_and_input_limit_parameters_reach_the_collector(template: dict[str, Any]) -> None:
    env = _props(template, "CollectFunction")["Environment"]["Variables"]
    assert env["URL_PARAM_MODE"] == {"Ref": "UrlParamMode"}
    assert env["URL_PII_PARAMS"] == {"Fn::Join": [",", {"Ref": "UrlPiiParams"}]}
    assert env["URL_ALLOWED_PARAMS"] == {"Fn::Join": [",", {"Ref": "UrlAllowedParams"}]}
    assert env["PERSON_NAME_PARTS"] == {"Fn::Join": [",", {"Ref": "PersonNameParts"}]}
    assert env["EVENT_TIME_MAX_AGE_SECONDS"] == {"Ref": "EventTimeMaxAgeSeconds"}
    assert env["EVENT_TIME_MAX_FUTURE_SECONDS"] == {"Ref": "EventTimeMaxFutureSeconds"}
    parameters = template["Parameters"]
    assert parameters["UrlParamMode"]["AllowedValues"] == ["denylist", "allowlist"]
    # The template's defaults are the settings' defaults, so an unset parameter changes nothing.
    from ttrelay.config import CollectSettings

    defaults = CollectSettings(events_queue_url="q", cookie_keys_secret_arn="s")
    assert parameters["UrlParamMode"]["Default"] == defaults.url_param_mode
    assert parameters["PersonNameParts"]["Default"].split(",") == list(defaults.person_name_parts)
    assert int(parameters["EventTimeMaxAgeSeconds"]["Default"]) == defaults.event_time_max_age_seconds
    assert int(parameters["EventTimeMaxFutureSeconds"]["Default"]) == defaults.event_time_max_future_seconds


# --- alarms and the operations dashboard (docs/operations.md) -----------------------------------------

OBSERVABILITY_SOURCE = REPO_ROOT / "shared" / "ttrelay" / "observability" / "telemetry.py"
# Alarm logical id -> (namespace, metric, dimension name, the resource or service the dimension names,
# statistic, threshold).
EXPECTED_ALARMS = {
    "EventsDLQMessagesAlarm": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "EventsDLQ", 0),
    "ForwardErrorsAlarm": ("AWS/Lambda", "Errors", "FunctionName", "ForwardFunction", 0),
    "CollectErrorsAlarm": ("AWS/Lambda", "Errors", "FunctionName", "CollectFunction", 0),
    "CollectThrottlesAlarm": ("AWS/Lambda", "Throttles", "FunctionName", "CollectFunction", 0),
    "ForwardThrottlesAlarm": ("AWS/Lambda", "Throttles", "FunctionName", "ForwardFunction", 0),
    "OldestQueuedEventAlarm": ("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "EventsQueue", 900),
    "EventsApiConfigurationErrorAlarm": (
        "ttrelay",
        "EventsApiConfigurationError",
        "service",
        "ForwardFunction",
        0,
    ),
    "OriginVerificationFailedAlarm": ("ttrelay", "OriginVerificationFailed", "service", "CollectFunction", 0),
}


def _dimension_target(template: dict[str, Any], name: str, value: Any) -> str:
    """The logical id a dimension value points at; for `service`, the function with that service name."""
    if name == "service":
        functions = ("CollectFunction", "ForwardFunction")
        return next(fn for fn in functions if _function_env(template, fn)["POWERTOOLS_SERVICE_NAME"] == value)
    return value.get("Ref") or value["Fn::GetAtt"][0]


def test_each_alarm_watches_its_metric_with_its_threshold(template: dict[str, Any]) -> None:
    alarms = {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert set(alarms) == set(EXPECTED_ALARMS)
    emitted = OBSERVABILITY_SOURCE.read_text()
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    for logical_id, (namespace, metric, dimension, target, threshold) in EXPECTED_ALARMS.items():
        props = alarms[logical_id]
        assert (props["Namespace"], props["MetricName"]) == (namespace, metric), logical_id
        (only,) = props["Dimensions"]  # exactly the dimensions the metric is emitted with
        assert only["Name"] == dimension, logical_id
        assert _dimension_target(template, dimension, only["Value"]) == target, logical_id
        assert props["Threshold"] == threshold and props["ComparisonOperator"] == "GreaterThanThreshold"
        assert props["TreatMissingData"] == "notBreaching", logical_id
        if namespace == "ttrelay":
            assert globals_env["POWERTOOLS_METRICS_NAMESPACE"] == "ttrelay"
            assert f'"{metric}"' in emitted, f"{metric} is not emitted by ttrelay.observability.telemetry"


def test_alarms_notify_the_topic_parameter_and_the_optional_email_topic(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert resources["AlarmEmailTopic"]["Condition"] == "HasAlarmEmail"
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmEmailTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    targets = [
        {"Fn::If": ["HasAlarmTopic", {"Ref": "AlarmTopicArn"}, {"Ref": "AWS::NoValue"}]},
        {"Fn::If": ["HasAlarmEmail", {"Ref": "AlarmEmailTopic"}, {"Ref": "AWS::NoValue"}]},
    ]
    for logical_id in EXPECTED_ALARMS:
        props = resources[logical_id]["Properties"]
        assert props["AlarmActions"] == targets and props["OKActions"] == targets, logical_id


def _dashboard(template: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The dashboard body as deployed (substitutions filled with placeholders) and what it substitutes."""
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    substituted = set(re.findall(r"\$\{([^}]+)\}", body))
    return json.loads(re.sub(r"\$\{([^}]+)\}", "placeholder", body)), substituted


def test_the_dashboard_body_is_json_graphing_every_emitted_metric_family(template: dict[str, Any]) -> None:
    dashboard, substituted = _dashboard(template)
    widgets = dashboard["widgets"]
    rows = [row for widget in widgets for row in widget["properties"].get("metrics", [])]
    plain = {(row[0], row[1]) for row in rows if isinstance(row[0], str)}
    expressions = " ".join(row[0]["expression"] for row in rows if isinstance(row[0], dict))
    emitted = OBSERVABILITY_SOURCE.read_text()
    for namespace, metric in plain:
        if namespace == "ttrelay":
            assert f'"{metric}"' in emitted, metric
    for metric in re.findall(r'MetricName=\\?"(\w+)\\?"', expressions):
        assert f'"{metric}"' in emitted, metric
    names = {metric for _, metric in plain} | set(re.findall(r'MetricName=\\?"(\w+)\\?"', expressions))
    assert {
        "EventsReceived",
        "EventsDroppedByReason",
        "EventErrors",
        "EventsDelivered",
        "EventsApiLatency",
        "EventsApiAnswers",
        "EventsParkedByReason",
        "EventsWithTtclid",
        "EventsWithIpAndUserAgent",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "Throttles",
    } <= names
    # Coverage shares are metric math over hidden counts, each divided by the accepted events.
    shares = [
        row[0]["expression"]
        for row in rows
        if isinstance(row[0], dict) and "/ accepted" in row[0]["expression"]
    ]
    assert len(shares) == 6
    assert {
        "EventsQueue.QueueName",
        "EventsDLQ.QueueName",
        "CollectFunction",
        "ForwardFunction",
    } <= substituted
    alarm_widget = next(widget for widget in widgets if widget["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == len(EXPECTED_ALARMS)
    assert {f"{alarm}.Arn" for alarm in EXPECTED_ALARMS} <= substituted
    url = template["Outputs"]["OperationsDashboardUrl"]["Value"]["Fn::Sub"]
    assert "#dashboards:name=${OperationsDashboard}" in url


# --- the front door: CloudFront + origin access control + WAF (docs/deploy.md, "The front door") --------

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CloudFront's managed CachingDisabled policy
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000"
WEB_ACL_ARN = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/0a1b2c3d-0000-4000-8000-000000000000"
FRONT_DOOR_TYPES = ("AWS::CloudFront::", "AWS::WAFv2::")


def _deployed(overrides: dict[str, str], region: str = "us-east-1") -> tuple[Any, dict[str, Any], set[str]]:
    """What CloudFormation would create for these parameter values: the resolver, the resources whose
    condition holds, and the outputs that exist."""
    from ttrelay_dev.local.template import Resolver, load_template

    local = load_template(TEMPLATE)
    resolver = Resolver.for_template(local, overrides)
    resolver.pseudo["AWS::Region"] = region

    def exists(node: dict[str, Any]) -> bool:
        return "Condition" not in node or resolver.condition(node["Condition"])

    resources = {name: node for name, node in local["Resources"].items() if exists(node)}
    outputs = {name for name, node in local["Outputs"].items() if exists(node)}
    return resolver, resources, outputs


def _rules_refusing(overrides: dict[str, str], region: str) -> list[str]:
    """The Rules whose assertions fail for these values: CloudFormation refuses such a deploy."""
    from ttrelay_dev.local.template import load_template

    resolver, _, _ = _deployed(overrides, region)
    refusing = []
    for name, rule in load_template(TEMPLATE)["Rules"].items():
        if resolver.resolve(rule["RuleCondition"]):
            refusing += [name for a in rule["Assertions"] if not resolver.resolve(a["Assert"])]
    return refusing


def test_front_door_is_off_by_default_and_leaves_the_function_url_public(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["FrontDoor"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("none", ["none", "cloudfront"])
    resolver, resources, outputs = _deployed({})
    auth_type = resources["CollectFunction"]["Properties"]["FunctionUrlConfig"]["AuthType"]
    assert resolver.resolve(auth_type) == "NONE"
    assert not [name for name, node in resources.items() if node["Type"].startswith(FRONT_DOOR_TYPES)]
    permissions = {name for name, node in resources.items() if node["Type"] == "AWS::Lambda::Permission"}
    assert permissions == {"CollectFunctionUrlPublicPermissions", "CollectFunctionURLInvokeAllowPublicAccess"}
    # Exactly what SAM grants a NONE function URL, under the same logical ids (an existing stack keeps its
    # statements): both actions, to anyone, the second only through the URL.
    collect = {"Ref": "CollectFunction"}
    assert _props(template, "CollectFunctionUrlPublicPermissions") == {
        "Action": "lambda:InvokeFunctionUrl",
        "FunctionName": collect,
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    }
    assert _props(template, "CollectFunctionURLInvokeAllowPublicAccess") == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": collect,
        "Principal": "*",
        "InvokedViaFunctionUrl": True,
    }
    assert not {"FrontDoorDomain", "FrontDoorCollectUrl"} & outputs
    assert _rules_refusing({}, "eu-west-1") == []


def test_front_door_makes_the_function_url_iam_only_for_this_distribution(template: dict[str, Any]) -> None:
    resolver, resources, outputs = _deployed({"FrontDoor": "cloudfront"})
    auth_type = resources["CollectFunction"]["Properties"]["FunctionUrlConfig"]["AuthType"]
    assert resolver.resolve(auth_type) == "AWS_IAM"
    permissions = {name for name, node in resources.items() if node["Type"] == "AWS::Lambda::Permission"}
    assert permissions == {"FrontDoorInvokeUrlPermission", "FrontDoorInvokeFunctionPermission"}
    # Since October 2025 a function URL needs both actions; the second only through the URL.
    distribution = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${FrontDoorDistribution}"
    }
    grants = {
        name: (props["Action"], props["Principal"], props["SourceArn"], props.get("InvokedViaFunctionUrl"))
        for name in permissions
        for props in [_props(template, name)]
    }
    assert grants == {
        "FrontDoorInvokeUrlPermission": (
            "lambda:InvokeFunctionUrl",
            "cloudfront.amazonaws.com",
            distribution,
            None,
        ),
        "FrontDoorInvokeFunctionPermission": (
            "lambda:InvokeFunction",
            "cloudfront.amazonaws.com",
            distribution,
            True,
        ),
    }
    for name in permissions:
        assert _props(template, name)["FunctionName"] == {"Ref": "CollectFunction"}

    oac = _props(template, "FrontDoorOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "lambda",
        "always",
        "sigv4",
    )
    config = _props(template, "FrontDoorDistribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["FrontDoorOriginAccessControl", "Id"]}
    assert origin["DomainName"] == {
        "Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": ["CollectFunctionUrl", "FunctionUrl"]}]}]
    }
    # The collector's proof that a request came through CloudFront keeps working (ttrelay.collect.geo).
    (verify,) = origin["OriginCustomHeaders"]
    assert verify["HeaderName"] == {"Ref": "OriginVerifyHeaderName"}
    # CloudFormation reads a secret again only when its reference changes: a rotation names the new version.
    reference = "{{resolve:secretsmanager:${OriginVerifySecret}:SecretString"
    assert verify["HeaderValue"] == {
        "Fn::If": [
            "HasFrontDoorOriginSecretVersion",
            {"Fn::Sub": reference + ":::${FrontDoorOriginSecretVersion}}}"},
            {"Fn::Sub": reference + "}}"},
        ]
    }
    assert {"FrontDoorDomain", "FrontDoorCollectUrl"} <= outputs
    collect_url = template["Outputs"]["FrontDoorCollectUrl"]["Value"]["Fn::If"]
    assert collect_url[0] == "HasFrontDoorDomain"
    assert collect_url[2] == {"Fn::Sub": "https://${FrontDoorDistribution.DomainName}/_t/events"}


def test_front_door_serves_t_paths_uncached_with_what_the_collector_reads(template: dict[str, Any]) -> None:
    config = _props(template, "FrontDoorDistribution")["DistributionConfig"]
    (behavior,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/_t/*"]
    for served in (behavior, config["DefaultCacheBehavior"]):
        assert served["TargetOriginId"] == config["Origins"][0]["Id"]
        assert served["CachePolicyId"] == CACHING_DISABLED
        assert {"POST", "OPTIONS"} <= set(served["AllowedMethods"])
        assert served["ViewerProtocolPolicy"] == "https-only"
        assert served["OriginRequestPolicyId"] == {"Ref": "FrontDoorOriginRequestPolicy"}
    policy = _props(template, "FrontDoorOriginRequestPolicy")["OriginRequestPolicyConfig"]
    headers = {name.lower() for name in policy["HeadersConfig"]["Headers"]}
    assert policy["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    assert {
        "origin",
        "content-type",
        "user-agent",
        "sec-gpc",
        "cloudfront-viewer-country",
        "cloudfront-viewer-country-region",
        "cloudfront-viewer-address",
        "x-amz-content-sha256",
    } == headers
    assert "host" not in headers  # a function URL answers only to its own host name
    assert policy["CookiesConfig"]["CookieBehavior"] == "all"
    assert policy["QueryStringsConfig"]["QueryStringBehavior"] == "all"


def test_front_door_web_acl_limits_requests_per_client_ip(template: dict[str, Any]) -> None:
    acl = _props(template, "FrontDoorWebAcl")
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    rate = acl["Rules"][0]
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": {"Ref": "FrontDoorRateLimit"},
        "EvaluationWindowSec": 300,
    }
    assert rate["Action"] == {"Block": {"CustomResponse": {"ResponseCode": 429}}}
    assert template["Parameters"]["FrontDoorRateLimit"]["MinValue"] == 10  # WAF's floor

    resolver, resources, _ = _deployed({"FrontDoor": "cloudfront", "FrontDoorRateLimit": "300"})
    rules = [rule for rule in resolver.resolve(resources["FrontDoorWebAcl"]["Properties"]["Rules"]) if rule]
    assert [rule["Name"] for rule in rules] == ["requests-per-ip"]  # managed rule groups are off by default
    assert rules[0]["Statement"]["RateBasedStatement"]["Limit"] == "300"
    web_acl = resources["FrontDoorDistribution"]["Properties"]["DistributionConfig"]["WebACLId"]
    assert resolver.resolve(web_acl) == "local-FrontDoorWebAcl-Arn"

    resolver, resources, _ = _deployed({"FrontDoor": "cloudfront", "FrontDoorManagedRules": "true"})
    rules = [rule for rule in resolver.resolve(resources["FrontDoorWebAcl"]["Properties"]["Rules"]) if rule]
    groups = [rule["Statement"]["ManagedRuleGroupStatement"]["Name"] for rule in rules[1:]]
    assert groups == ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet"]
    assert len({rule["Priority"] for rule in rules}) == len(rules)


def test_front_door_outside_us_east_1_takes_an_existing_web_acl() -> None:
    # A CLOUDFRONT-scope web ACL can only be made in us-east-1: elsewhere the stack needs one's ARN.
    assert _rules_refusing({"FrontDoor": "cloudfront"}, "eu-west-1") == ["FrontDoorHasAWebAcl"]
    overrides = {"FrontDoor": "cloudfront", "FrontDoorWebAclArn": WEB_ACL_ARN}
    assert _rules_refusing(overrides, "eu-west-1") == []
    resolver, resources, _ = _deployed(overrides, "eu-west-1")
    assert "FrontDoorWebAcl" not in resources
    web_acl = resources["FrontDoorDistribution"]["Properties"]["DistributionConfig"]["WebACLId"]
    assert resolver.resolve(web_acl) == WEB_ACL_ARN
    # In us-east-1 the given ARN wins over making a second web ACL.
    _, resources, _ = _deployed(overrides, "us-east-1")
    assert "FrontDoorWebAcl" not in resources
    # A custom domain needs its certificate.
    custom = {"FrontDoor": "cloudfront", "FrontDoorDomainName": "t.example.com"}
    assert _rules_refusing(custom, "us-east-1") == ["FrontDoorDomainHasACertificate"]


def _template_with_defaults(tmp_path: Path, defaults: dict[str, str]) -> Path:
    """template.yaml as JSON with other parameter defaults, so cfn-lint resolves the front door's values."""
    with TEMPLATE.open(encoding="utf-8") as fh:
        rendered: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    for name, value in defaults.items():
        rendered["Parameters"][name]["Default"] = value
    for function in ("CollectFunction", "ForwardFunction"):  # relative to the repository, not tmp_path
        code = rendered["Resources"][function]["Properties"]["CodeUri"]
        rendered["Resources"][function]["Properties"]["CodeUri"] = str(REPO_ROOT / code)
    layer = rendered["Resources"]["TtrelayLayer"]["Properties"]
    layer["ContentUri"] = str(REPO_ROOT / layer["ContentUri"])
    path = tmp_path / "template.json"
    path.write_text(json.dumps(rendered), encoding="utf-8")
    return path


@pytest.mark.sam
@pytest.mark.parametrize(
    ("region", "defaults"),
    [
        pytest.param(
            "us-east-1",
            {
                "FrontDoor": "cloudfront",
                "FrontDoorManagedRules": "true",
                "FrontDoorDomainName": "t.example.com",
                "FrontDoorCertificateArn": CERTIFICATE_ARN,
                "FrontDoorOriginSecretVersion": "0a1b2c3d-0000-4000-8000-000000000000",
            },
            id="us-east-1-own-web-acl",
        ),
        pytest.param(
            "eu-west-1",
            {"FrontDoor": "cloudfront", "FrontDoorWebAclArn": WEB_ACL_ARN},
            id="eu-west-1-given-web-acl",
        ),
    ],
)
def test_cfn_lint_has_no_findings_with_the_front_door_on(
    cfn_lint_bin: str, tmp_path: Path, region: str, defaults: dict[str, str]
) -> None:
    rendered = _template_with_defaults(tmp_path, defaults)
    result = _run([cfn_lint_bin, "--regions", region, "--", str(rendered)], timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""
