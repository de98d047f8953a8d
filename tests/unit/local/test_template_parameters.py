"""The local stack resolves template.yaml's parameters as CloudFormation would, refusals included."""

from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT
from ttrelay_dev.local.template import ParameterError, Resolver, load_template


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(Path(ROOT) / "template.yaml")


def _reserved_concurrency(template: dict[str, Any], overrides: dict[str, str]) -> Any:
    resolver = Resolver.for_template(template, overrides)
    return resolver.resolve(
        template["Resources"]["CollectFunction"]["Properties"]["ReservedConcurrentExecutions"]
    )


def test_collect_reserved_concurrency_resolves_from_the_parameter(template: dict[str, Any]) -> None:
    assert _reserved_concurrency(template, {}) == "50"
    assert _reserved_concurrency(template, {"CollectReservedConcurrency": "1"}) == "1"
    # 0 = unreserved: the property is dropped (AWS::NoValue), not set to 0.
    assert _reserved_concurrency(template, {"CollectReservedConcurrency": "0"}) == ""


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"EventsApiBaseUrl": "http://127.0.0.1:3000/_local/tiktok"}, "does not match"),
        ({"TrustIpCountry": "yes"}, "is not one of"),
        ({"CollectReservedConcurrency": "-1"}, "is below 0"),
        ({"ForwardBatchSize": "many"}, "is not a number"),
        ({"NoSuchParameter": "1"}, "has no parameter NoSuchParameter"),
    ],
)
def test_values_cloudformation_would_refuse_are_refused(
    template: dict[str, Any], overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        Resolver.for_template(template, overrides)


def test_defaults_and_valid_overrides_pass(template: dict[str, Any]) -> None:
    resolver = Resolver.for_template(
        template, {"EventsApiBaseUrl": "https://sandbox.example.com", "TrustIpCountry": "true"}
    )
    assert resolver.parameters["EventsApiBaseUrl"] == "https://sandbox.example.com"
    assert resolver.parameters["AllowedOrigins"] == []


@pytest.mark.parametrize(("front_door", "auth_type"), [("none", "NONE"), ("cloudfront", "AWS_IAM")])
def test_conditions_built_from_other_conditions_resolve(
    template: dict[str, Any], front_door: str, auth_type: str
) -> None:
    # PublicFunctionUrl is !Not [!Condition FrontDoorOn]: the short tag must resolve like the long form.
    resolver = Resolver.for_template(template, {"FrontDoor": front_door})
    url_config = template["Resources"]["CollectFunction"]["Properties"]["FunctionUrlConfig"]
    assert resolver.resolve(url_config["AuthType"]) == auth_type
    assert resolver.condition("PublicFunctionUrl") is (front_door == "none")
