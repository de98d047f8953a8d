"""Reads template.yaml (CloudFormation short tags included) and resolves the intrinsics it uses.

The local stack builds its moto resources and each function's environment from this, so the emulation
cannot drift from what `sam deploy` creates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class Intrinsic:
    name: str  # "Ref", "Fn::GetAtt", ...
    value: Any


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps !Ref, !GetAtt, !Sub ... as `Intrinsic` values."""


def _construct(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], Intrinsic]:
    # !Condition X is {"Condition": X}, not Fn::Condition; every other tag is Ref or Fn::<tag>.
    name = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Intrinsic:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return Intrinsic(name, value)

    return construct


for _tag in (
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Select",
    "Split",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Condition",
    "Base64",
    "Cidr",
):
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


class ParameterError(ValueError):
    """A parameter value CloudFormation would refuse, so the local stack refuses it too."""


def check_parameter(name: str, spec: Mapping[str, Any], value: str) -> None:
    """AllowedValues, AllowedPattern and MinValue/MaxValue, as CloudFormation checks them at deploy."""
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        raise ParameterError(f"{name}={value!r} is not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(pattern, value) is None:
        raise ParameterError(f"{name}={value!r} does not match {pattern}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise ParameterError(f"{name}={value!r} is not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise ParameterError(f"{name}={value} is below {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise ParameterError(f"{name}={value} is above {spec['MaxValue']}")


def load_template(path: Path) -> dict[str, Any]:
    document = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path} is not a CloudFormation template")
    resolved: dict[str, Any] = _long_form(document)
    return resolved


def _long_form(value: Any) -> Any:
    """Turns long-form intrinsics ({"Ref": x}, {"Fn::Join": [...]}) into `Intrinsic` too."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or (key == "Condition" and not isinstance(inner, dict)):
                return Intrinsic(key, _long_form(inner))
        return {key: _long_form(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_long_form(item) for item in value]
    if isinstance(value, Intrinsic):
        return Intrinsic(value.name, _long_form(value.value))
    return value


@dataclass
class Resolver:
    """Evaluates intrinsics against parameter values and the physical ids of provisioned resources."""

    template: Mapping[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)  # (logical id, attr) -> value
    pseudo: dict[str, str] = field(
        default_factory=lambda: {
            "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012",
            "AWS::StackName": "ttrelay-local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }
    )

    @classmethod
    def for_template(cls, template: Mapping[str, Any], overrides: Mapping[str, str]) -> Resolver:
        declared: Mapping[str, Any] = template.get("Parameters") or {}
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise ParameterError(f"template.yaml has no parameter {', '.join(unknown)}")
        parameters: dict[str, Any] = {}
        for name, spec in declared.items():
            raw = overrides.get(name, spec.get("Default", ""))
            check_parameter(name, spec, str(raw))
            parameters[name] = (
                [v for v in str(raw).split(",") if v]
                if spec.get("Type") == "CommaDelimitedList"
                else str(raw)
            )
        return cls(template, parameters)

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per intrinsic
        if isinstance(value, dict):
            return {key: self.resolve(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, Intrinsic):
            return value
        name, arg = value.name, value.value
        if name == "Ref":
            if arg in self.parameters:
                return self.parameters[arg]
            if arg in self.pseudo:
                return self.pseudo[arg]
            return self.refs.get(arg, f"local-{arg}")
        if name == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self.attributes.get((logical, attribute), f"local-{logical}-{attribute}")
        if name == "Fn::Join":
            separator, items = arg
            resolved = self.resolve(items)
            return separator.join(str(item) for item in resolved)
        if name == "Fn::Sub":
            return self._sub(arg)
        if name == "Fn::If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Fn::Equals":
            left, right = self.resolve(arg)
            return str(left) == str(right)
        if name == "Fn::Not":
            return not self.resolve(arg[0])
        if name == "Fn::And":
            return all(self.resolve(item) for item in arg)
        if name == "Fn::Or":
            return any(self.resolve(item) for item in arg)
        if name == "Condition":
            return self.condition(arg)
        if name == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Fn::Split":
            separator, text = arg
            return str(self.resolve(text)).split(separator)
        if name == "Fn::FindInMap":
            mapping, top, second = (str(self.resolve(part)) for part in arg)
            return self.template["Mappings"][mapping][top][second]
        raise ValueError(f"the local stack does not evaluate {name}")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            end = text.index("}", start)
            out.append(text[i:start])
            token = text[start + 2 : end]
            if token.startswith("!"):
                out.append("${" + token[1:] + "}")
            elif token in variables:
                out.append(str(variables[token]))
            elif "." in token:
                out.append(str(self.resolve(Intrinsic("Fn::GetAtt", token.split(".", 1)))))
            else:
                value = self.resolve(Intrinsic("Ref", token))
                out.append(",".join(value) if isinstance(value, list) else str(value))
            i = end + 1
        return "".join(out)
