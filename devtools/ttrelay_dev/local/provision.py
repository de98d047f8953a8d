"""Creates the template's queues, table and secrets in moto, and reads its functions and SQS mappings."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ttrelay_dev.local.template import Resolver

_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
)


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # "module.function"
    environment: dict[str, str]
    timeout: int
    memory_mb: int
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions; None = unreserved


@dataclass(frozen=True, slots=True)
class SqsMapping:
    """An SQS event source of a function, as the Lambda event source mapping would poll it."""

    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_s: float
    report_batch_item_failures: bool


@dataclass
class Provisioned:
    resolver: Resolver
    queue_urls: dict[str, str] = field(default_factory=dict)  # logical id -> URL
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    mappings: list[SqsMapping] = field(default_factory=list)


def provision(
    root: Path,
    resolver: Resolver,
    clients: Mapping[str, Any],
    secret_values: Mapping[str, str],
    visibility_timeout: int | None = None,
) -> Provisioned:
    resources: dict[str, Any] = resolver.template["Resources"]
    out = Provisioned(resolver)
    by_type: dict[str, list[str]] = {}
    for logical_id, resource in resources.items():
        by_type.setdefault(resource["Type"], []).append(logical_id)
        if resource["Type"] == "AWS::Serverless::Function":
            resolver.refs[logical_id] = f"ttrelay-local-{logical_id}"
    for logical_id in by_type.get("AWS::SQS::Queue", []):
        _create_queue(
            logical_id,
            resources[logical_id].get("Properties", {}),
            resolver,
            clients["sqs"],
            out,
            visibility_timeout,
        )
    for logical_id in by_type.get("AWS::SQS::Queue", []):  # redrive after every queue has an ARN
        _set_redrive(logical_id, resources[logical_id].get("Properties", {}), resolver, clients["sqs"], out)
    for logical_id in by_type.get("AWS::DynamoDB::Table", []):
        _create_table(logical_id, resources[logical_id].get("Properties", {}), resolver, clients["dynamodb"])
    for logical_id in by_type.get("AWS::SecretsManager::Secret", []):
        _create_secret(
            logical_id,
            resources[logical_id].get("Properties", {}),
            resolver,
            clients["secretsmanager"],
            secret_values.get(logical_id),
        )
    globals_ = resolver.template.get("Globals", {}).get("Function", {})
    for logical_id in by_type.get("AWS::Serverless::Function", []):
        properties = {**globals_, **resources[logical_id].get("Properties", {})}
        environment = {
            **(globals_.get("Environment", {}).get("Variables", {})),
            **(resources[logical_id].get("Properties", {}).get("Environment", {}).get("Variables", {})),
        }
        out.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=root / str(properties["CodeUri"]),
            handler=str(properties["Handler"]),
            environment={
                **{key: _env_value(resolver.resolve(value)) for key, value in environment.items()},
                **_logging_environment(properties.get("LoggingConfig", {}), resolver),
            },
            timeout=int(resolver.resolve(properties.get("Timeout", 3))),
            memory_mb=int(resolver.resolve(properties.get("MemorySize", 128))),
            reserved_concurrency=_optional_int(
                resolver.resolve(properties.get("ReservedConcurrentExecutions"))
            ),
        )
        out.mappings.extend(_sqs_mappings(logical_id, properties.get("Events", {}), resolver, out))
    return out


def _logging_environment(config: Mapping[str, Any], resolver: Resolver) -> dict[str, str]:
    """What Lambda tells the code of its LoggingConfig: with the JSON format, the format and the
    application log level (the worker sets the root logger to it, as Lambda's runtime does)."""
    if resolver.resolve(config.get("LogFormat", "Text")) != "JSON":
        return {}
    level = str(resolver.resolve(config.get("ApplicationLogLevel", "INFO")))
    return {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": level}


def _optional_int(value: Any) -> int | None:
    # An absent property and !Ref AWS::NoValue (resolved to "") both mean "not set".
    return None if value in (None, "") else int(value)


def _env_value(value: Any) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _create_queue(
    logical_id: str,
    properties: Mapping[str, Any],
    resolver: Resolver,
    sqs: Any,
    out: Provisioned,
    visibility_timeout: int | None,
) -> None:
    name = str(resolver.resolve(properties.get("QueueName", f"ttrelay-local-{logical_id}")))
    attributes = {
        key: _attribute(resolver.resolve(properties[key])) for key in _QUEUE_ATTRIBUTES if key in properties
    }
    if visibility_timeout is not None:
        attributes["VisibilityTimeout"] = str(visibility_timeout)
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    resolver.refs[logical_id] = url
    resolver.attributes[(logical_id, "Arn")] = arn
    resolver.attributes[(logical_id, "QueueName")] = name
    resolver.attributes[(logical_id, "QueueUrl")] = url
    out.queue_urls[logical_id] = url


def _attribute(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _set_redrive(
    logical_id: str, properties: Mapping[str, Any], resolver: Resolver, sqs: Any, out: Provisioned
) -> None:
    attributes = {}
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in properties:
            policy = resolver.resolve(properties[key])
            if "maxReceiveCount" in policy:
                policy["maxReceiveCount"] = int(policy["maxReceiveCount"])
            attributes[key] = json.dumps(policy)
    if attributes:
        sqs.set_queue_attributes(QueueUrl=out.queue_urls[logical_id], Attributes=attributes)


def _create_table(logical_id: str, properties: Mapping[str, Any], resolver: Resolver, dynamodb: Any) -> None:
    resolved = resolver.resolve(properties)
    name = str(resolved.get("TableName", f"ttrelay-local-{logical_id}"))
    dynamodb.create_table(
        TableName=name,
        KeySchema=resolved["KeySchema"],
        AttributeDefinitions=resolved["AttributeDefinitions"],
        BillingMode=resolved.get("BillingMode", "PAY_PER_REQUEST"),
    )
    ttl = resolved.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={
                "AttributeName": ttl["AttributeName"],
                "Enabled": str(ttl.get("Enabled", True)).lower() == "true",
            },
        )
    resolver.refs[logical_id] = name
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    resolver.attributes[(logical_id, "Arn")] = arn


def _create_secret(
    logical_id: str, properties: Mapping[str, Any], resolver: Resolver, client: Any, value: str | None
) -> None:
    resolved = resolver.resolve(properties)
    if value is None:
        value = resolved.get("SecretString") or _generated(resolved.get("GenerateSecretString") or {})
    arn = client.create_secret(Name=f"ttrelay-local/{logical_id}", SecretString=value)["ARN"]
    resolver.refs[logical_id] = arn


def _generated(spec: Mapping[str, Any]) -> str:
    """What GenerateSecretString would make (letters and digits only, the safe subset of its options)."""
    length = int(spec.get("PasswordLength", 32))
    password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))
    template = spec.get("SecretStringTemplate")
    if template:
        document = json.loads(template)
        document[spec["GenerateStringKey"]] = password
        return json.dumps(document)
    return password


def _sqs_mappings(
    function: str, events: Mapping[str, Any], resolver: Resolver, out: Provisioned
) -> list[SqsMapping]:
    mappings = []
    for event in events.values():
        if event.get("Type") != "SQS":
            continue
        properties = resolver.resolve(event["Properties"])
        arn = str(properties["Queue"])
        logical = next(lid for lid, url in out.queue_urls.items() if resolver.attributes[(lid, "Arn")] == arn)
        mappings.append(
            SqsMapping(
                function=function,
                queue_url=out.queue_urls[logical],
                queue_arn=arn,
                batch_size=int(properties.get("BatchSize", 10)),
                batching_window_s=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in properties.get("FunctionResponseTypes", []),
            )
        )
    return mappings
