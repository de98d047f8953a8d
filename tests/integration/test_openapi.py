"""docs/openapi.json: made by `ttrelay openapi` from the models, valid OpenAPI 3.1, and true to the wire."""

import json
import subprocess
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from support.paths import ROOT
from support.stack import TTRELAY
from ttrelay.collect.event_judgement import Judgement, Problem, UsableEvent
from ttrelay.collect.use_case import CollectOutcome
from ttrelay.consent.model import ConsentDecision
from ttrelay.models import CollectRequest, EventIn
from ttrelay_dev.cli.openapi_document import REF_TEMPLATE, openapi_document

COMMITTED = ROOT / "docs" / "openapi.json"
REGENERATE = ".venv/bin/ttrelay openapi > docs/openapi.json"
SAMPLE_COLLECT_EVENTS = ["collect-granted.json", "collect-granted-httpapi.json", "collect-denied-opt-in.json"]


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return dict(json.loads(COMMITTED.read_text()))


def conforms(document: dict[str, Any], component: str, instance: object) -> list[str]:
    """Validation errors of `instance` against one of the document's component schemas."""
    schema = {"$ref": REF_TEMPLATE.format(model=component), "components": document["components"]}
    return [error.message for error in Draft202012Validator(schema).iter_errors(instance)]


def test_committed_document_is_what_the_cli_generates_from_the_models_now() -> None:
    generated = subprocess.run([TTRELAY, "openapi"], capture_output=True, text=True, timeout=60, check=True)
    assert generated.stdout == COMMITTED.read_text(), (
        "docs/openapi.json is out of date with the models (ttrelay/models.py or ttrelay/responses.py "
        f"changed without regenerating it). Regenerate it with: {REGENERATE}"
    )


def test_document_is_valid_openapi_3_1(committed: dict[str, Any]) -> None:
    assert committed["openapi"].startswith("3.1.")
    validate_openapi(committed)


def test_both_media_types_carry_the_collect_request_schema_with_refs_under_components(
    committed: dict[str, Any],
) -> None:
    model_schema = CollectRequest.model_json_schema(ref_template=REF_TEMPLATE)
    model_defs = model_schema.pop("$defs")
    content = committed["paths"]["/events"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "text/plain"}
    for media_type in content.values():
        assert media_type["schema"] == {"$ref": "#/components/schemas/CollectRequest"}
    schemas = committed["components"]["schemas"]
    assert schemas["CollectRequest"] == model_schema
    assert {name: schemas[name] for name in model_defs} == model_defs
    assert "$defs" not in COMMITTED.read_text()


def test_every_documented_status_and_the_ways_in(committed: dict[str, Any]) -> None:
    operation = committed["paths"]["/events"]["post"]
    assert set(operation["responses"]) == {"202", "400", "401", "403", "413", "415", "429"}
    for status in ("400", "401", "403", "413", "415"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/CollectError"}, status
    # A 429 is the collector's own (a site key over its rate limit) or the platform's, before the handler.
    throttled = operation["responses"]["429"]
    assert throttled["content"]["application/json"]["schema"] == {
        "anyOf": [{"$ref": "#/components/schemas/CollectError"}, {"type": "object"}]
    }
    assert "Retry-After" in throttled["headers"]
    scheme = committed["components"]["securitySchemes"]["backendApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    site_key = committed["components"]["securitySchemes"]["siteKey"]
    assert (site_key["type"], site_key["in"], site_key["name"]) == ("apiKey", "query", "site_key")
    # Browsers of an allowed origin need no key, only Origin; sandboxed pages a site key.
    assert operation["security"] == [{"backendApiKey": []}, {"siteKey": []}, {}]
    assert "site_key" in committed["components"]["schemas"]["CollectRequest"]["properties"]
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [("Origin", "header")]


def test_document_is_deterministic_text() -> None:
    text = COMMITTED.read_text()
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert openapi_document() == json.loads(text)


@pytest.mark.parametrize("sample", SAMPLE_COLLECT_EVENTS)
def test_sample_request_bodies_conform_to_the_request_schema(committed: dict[str, Any], sample: str) -> None:
    event = json.loads((ROOT / "events" / sample).read_text())
    assert conforms(committed, "CollectRequest", json.loads(event["body"])) == []


@pytest.mark.parametrize(
    "decision",
    [
        ConsentDecision(action="forward", regime="opt_in", reason="grant:tcf", limited_data_use=False),
        ConsentDecision(action="drop", regime="opt_in", reason="no_signal", limited_data_use=False),
    ],
)
def test_the_202_body_the_collector_builds_conforms(committed: dict[str, Any], decision: Any) -> None:
    token = "v1.k1.e30.sig" if decision.action == "forward" else None
    body = CollectOutcome(1, 0, decision, receipt={}, token=token).body()
    assert set(body) == {"accepted", "dropped", "decision", "token"}  # no `rejected` key when none are
    assert conforms(committed, "CollectAccepted", body) == []


def test_warnings_about_the_request_and_about_one_event_both_conform(committed: dict[str, Any]) -> None:
    decision = ConsentDecision(
        action="drop", regime="opt_in", reason="no_consent_signal", limited_data_use=False
    )
    about_event = UsableEvent(
        0, EventIn(event="purchase"), (Problem("events.0.event", "event_name_case", "m"),)
    )
    judgement = Judgement(usable=[about_event], warnings=[Problem("<key>", "unknown_field", "n")])
    body = CollectOutcome(0, 1, decision, receipt={}, token=None, judgement=judgement).body()
    assert body["warnings"] == [
        {"loc": "<key>", "msg": "n"},  # about the request: no index, no event_id
        {"index": 0, "event_id": None, "loc": "events.0.event", "msg": "m"},
    ]
    assert conforms(committed, "CollectAccepted", body) == []
    assert conforms(committed, "EventWarning", {"loc": "<key>", "msg": "n", "index": -1}) != []


def test_a_body_with_an_undocumented_key_does_not_conform(committed: dict[str, Any]) -> None:
    body = {"accepted": 0, "dropped": 0, "decision": {"action": "drop", "regime": "opt_in", "reason": "x"}}
    assert conforms(committed, "CollectAccepted", {**body, "token": None}) == []
    assert conforms(committed, "CollectAccepted", {**body, "token": None, "extra": 1}) != []
    assert conforms(committed, "CollectError", {"error": "invalid_json", "errors": [{"msg": "m"}]}) == []
    assert conforms(committed, "CollectError", {"error": "x", "errors": [{"msg": "m", "input": "a"}]}) != []
