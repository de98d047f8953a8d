"""The GTM web tag template (web/integrations/gtm/template.tpl): its sections, its fields, and its
sandboxed code run by Node against a stand-in of GTM's APIs and of the template's own permissions
(tests/support/gtm_sandbox.mjs), since GTM's own test runner cannot run here."""

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from support.paths import ROOT
from ttrelay.forward.events_api import PIXEL_CODE_PATTERN

TEMPLATE = ROOT / "web" / "integrations" / "gtm" / "template.tpl"
SANDBOX = ROOT / "tests" / "support" / "gtm_sandbox.mjs"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed: the template's code cannot run")

SNIPPET = "https://shop.example.com/js/ttrelay.js"  # the URL the template's permission ships with
FIELDS = {
    "snippetUrl": SNIPPET,
    "endpoint": "/_t/events",
    "pixelCode": "CTTRELAYLOCALDEV0001",
    "dataLayer": True,
    "dataLayerName": "dataLayer",
    "pixelConsent": True,
    "mirror": True,
    "userData": False,
    "debug": False,
}
LOADS = {SNIPPET: {"ttrelay_version": "0.3.0"}}


def sections() -> dict[str, str]:
    found: dict[str, list[str]] = {}
    name = None
    for line in TEMPLATE.read_text().splitlines():
        if re.fullmatch(r"___[A-Z_]+___", line.strip()):
            name = line.strip().strip("_")
            found[name] = []
        elif name:
            found[name].append(line)
    return {key: "\n".join(lines).strip() for key, lines in found.items()}


def code() -> str:
    return sections()["SANDBOXED_JS_FOR_WEB_TEMPLATE"]


def parameters() -> dict[str, dict[str, Any]]:
    return {param["name"]: param for param in json.loads(sections()["TEMPLATE_PARAMETERS"])}


def run(**scenario: Any) -> dict[str, Any]:
    """The template's code played through a scenario (see gtm_sandbox.mjs for its keys)."""
    scenario = {"data": FIELDS, "scripts": LOADS, **scenario}
    done = subprocess.run(
        [str(NODE), str(SANDBOX), str(TEMPLATE)],
        input=json.dumps(scenario),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["denied"] == [], "the code used something its permissions do not declare"
    return result


def audit() -> dict[str, Any]:
    command = [str(NODE), str(SANDBOX), str(TEMPLATE), "--audit"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def calls(result: dict[str, Any], path: str) -> list[list[Any]]:
    return [call[1:] for call in result["window_calls"] if call[0] == path]


# ---- the file GTM imports ----


def test_sections_are_gtms_in_order() -> None:
    assert list(sections()) == [
        "INFO",
        "TEMPLATE_PARAMETERS",
        "SANDBOXED_JS_FOR_WEB_TEMPLATE",
        "WEB_PERMISSIONS",
        "TESTS",
        "NOTES",
    ]


def test_info_declares_a_web_tag() -> None:
    info = json.loads(sections()["INFO"])
    assert info["type"] == "TAG"
    assert info["containerContexts"] == ["WEB"]
    assert info["displayName"].startswith("ttrelay")


def test_fields_and_their_defaults() -> None:
    params = parameters()
    assert set(params) == set(FIELDS)
    assert {"type": "NON_EMPTY"} in params["snippetUrl"]["valueValidators"]
    assert {"type": "NON_EMPTY"} in params["endpoint"]["valueValidators"]
    assert params["endpoint"]["defaultValue"] == "/_t/events"
    checkbox_defaults = {name: p["defaultValue"] for name, p in params.items() if p["type"] == "CHECKBOX"}
    assert checkbox_defaults == {
        "dataLayer": True,
        "pixelConsent": True,
        "mirror": True,
        "userData": False,
        "debug": False,
    }
    assert params["dataLayerName"]["enablingConditions"] == [
        {"paramName": "dataLayer", "paramValue": True, "type": "EQUALS"}
    ]


def test_code_reads_exactly_the_fields() -> None:
    read = set(re.findall(r"\bdata\.(\w+)", code())) - {"gtmOnSuccess", "gtmOnFailure"}
    assert read == set(FIELDS)


def validator(field: str) -> re.Pattern[str]:
    (pattern,) = [v["args"][0] for v in parameters()[field]["valueValidators"] if v["type"] == "REGEX"]
    return re.compile(pattern)


def test_pixel_code_field_accepts_what_the_collector_accepts() -> None:
    assert validator("pixelCode").pattern == f"^({PIXEL_CODE_PATTERN})?$"
    assert validator("pixelCode").match("CTTRELAYLOCALDEV0001")
    assert validator("pixelCode").match("")  # optional: the relay's only pixel
    assert not validator("pixelCode").match("cttrelaylocaldev0001")


def test_snippet_url_field_wants_an_absolute_url() -> None:
    assert validator("snippetUrl").match(SNIPPET)
    assert not validator("snippetUrl").match("/js/ttrelay.js")
    assert not validator("snippetUrl").match("https://shop.example.com/js/ttrelay.js extra")


# ---- what the code does ----


@needs_node
def test_loads_the_snippet_then_inits_it_with_the_fields() -> None:
    result = run()
    assert result["requests"] == [SNIPPET]
    assert calls(result, "ttrelay.init") == [
        [
            {
                "endpoint": "/_t/events",
                "pixelCode": "CTTRELAYLOCALDEV0001",
                "dataLayer": True,
                "pixelConsent": True,
                "mirror": True,
                "debug": False,
            }
        ]
    ]
    assert result["firings"] == [{"outcome": "success", "calls": 1, "errors": []}]


@needs_node
def test_unticked_boxes_and_an_empty_pixel_code_reach_init() -> None:
    fields = {**FIELDS, "pixelCode": "", "dataLayer": False, "pixelConsent": False, "mirror": False}
    (options,) = calls(run(data=fields), "ttrelay.init")[0]
    unticked = {"dataLayer": False, "pixelConsent": False, "mirror": False, "debug": False}
    assert options == {"endpoint": "/_t/events", **unticked}


@needs_node
def test_a_renamed_data_layer_is_passed_by_name() -> None:
    (options,) = calls(run(data={**FIELDS, "dataLayerName": "shopLayer"}), "ttrelay.init")[0]
    assert options["dataLayer"] == "shopLayer"


@needs_node
def test_gtm_consent_state_is_never_passed_as_the_visitors_choice() -> None:
    # No consent state at all: GTM would answer "granted" for every type. The tag passes nothing of
    # it; ttrelay.js reads Consent Mode's default and update commands from the dataLayer itself.
    result = run(consent={})
    (options,) = calls(result, "ttrelay.init")[0]
    assert "consent" not in options
    assert "isConsentGranted" not in audit()["required"]
    assert calls(result, "ttrelay.consentChanged") == []


@needs_node
def test_firing_again_neither_reloads_nor_reinits() -> None:
    result = run(steps=[{"fire": True}, {"fire": True}, {"fire": True}])
    assert result["requests"] == [SNIPPET]
    assert len(calls(result, "ttrelay.init")) == 1
    assert [firing["outcome"] for firing in result["firings"]] == ["success"] * 3


@needs_node
def test_a_snippet_that_does_not_load_fails_the_tag() -> None:
    result = run(scripts={}, environment="live")
    assert result["firings"] == [{"outcome": "failure", "calls": 1, "errors": []}]
    assert result["window_calls"] == []
    assert result["logs"] == [
        f"[ttrelay tag] could not load {SNIPPET}: nothing is sent to the collector from this page."
    ]


@needs_node
def test_a_url_outside_the_permission_fails_the_tag_without_a_request() -> None:
    elsewhere = "https://cdn.example.net/ttrelay.js"
    result = run(data={**FIELDS, "snippetUrl": elsewhere}, scripts={elsewhere: {"ttrelay_version": "0.3.0"}})
    assert result["requests"] == []
    assert result["firings"] == [{"outcome": "failure", "calls": 1, "errors": []}]
    assert "Injects scripts" in result["logs"][0]


@needs_node
@pytest.mark.parametrize("version", ["0.2.0", None], ids=["older-snippet", "not-ttrelay"])
def test_a_file_without_ttrelay_0_3_fails_the_tag(version: str | None) -> None:
    result = run(scripts={SNIPPET: {"ttrelay_version": version}})
    assert result["firings"] == [{"outcome": "failure", "calls": 1, "errors": []}]
    assert calls(result, "ttrelay.init") == []
    assert "did not define ttrelay 0.3.0 or later" in result["logs"][0]


@needs_node
def test_each_gtm_consent_change_asks_ttrelay_to_read_consent_again_once() -> None:
    # A CMP's default denies both types; the visitor accepts (one update grants both), then withdraws
    # ad_user_data. The tag fired twice before: its listeners were still added once.
    result = run(
        consent={"ad_storage": "denied", "ad_user_data": "denied"},
        steps=[
            {"fire": True},
            {"fire": True},
            {"consent": {"ad_storage": "granted", "ad_user_data": "granted"}},
            {"consent": {"ad_user_data": "denied"}},
            {"consent": {"ad_user_data": "denied"}},  # no change: GTM calls no listener
        ],
    )
    assert calls(result, "ttrelay.consentChanged") == [[], []]
    assert result["missing_calls"] == []


GA4_USER_DATA = {
    "email": " Jane.Doe@Example.com ",
    "phone_number": "+33612345678",
    "address": [{"first_name": "Jane", "postal_code": "75001", "region": "IDF", "street": "1 rue X"}],
    "sha256_email_address": "a" * 64,
}


@needs_node
def test_user_data_from_the_data_layer_goes_to_identify_and_never_to_the_console() -> None:
    result = run(
        data={**FIELDS, "userData": True, "debug": True},
        environment="debug",
        data_model={"user_data": GA4_USER_DATA},
    )
    assert calls(result, "ttrelay.identify") == [
        [
            {
                "email": "Jane.Doe@Example.com",
                "phone_number": "+33612345678",
                "first_name": "Jane",
                "zip_code": "75001",
                "state": "IDF",
            }
        ]
    ]
    assert result["logs"]  # debug logging was on
    logged = " ".join(result["logs"])
    assert not any(value in logged for value in ("Jane", "33612345678", "75001"))


@needs_node
def test_user_data_is_read_only_when_ticked() -> None:
    result = run(data_model={"user_data": GA4_USER_DATA})
    assert calls(result, "ttrelay.identify") == []
    assert "read_data_layer:user_data" not in result["used"]


@needs_node
def test_user_data_pushed_later_is_read_when_the_tag_fires_again() -> None:
    result = run(
        data={**FIELDS, "userData": True},
        steps=[{"fire": True}, {"push": {"user_data": {"email": "jane@example.com"}}}, {"fire": True}],
    )
    assert calls(result, "ttrelay.identify") == [[{"email": "jane@example.com"}]]


SNIPPET_SOURCE = ROOT / "web" / "sdk" / "ttrelay.js"


@needs_node
def test_init_passes_only_options_the_shipped_snippet_reads() -> None:
    (options,) = calls(run(), "ttrelay.init")[0]
    read = set(re.findall(r"\boptions\.(\w+)", SNIPPET_SOURCE.read_text()))
    assert set(options) <= read


@needs_node
def test_the_shipped_snippet_is_a_version_the_tag_accepts() -> None:
    (version,) = re.findall(r'const VERSION = "([^"]+)"', SNIPPET_SOURCE.read_text())
    result = run(scripts={SNIPPET: {"ttrelay_version": version}})
    assert result["firings"] == [{"outcome": "success", "calls": 1, "errors": []}]


# ---- permissions: exactly what the code uses ----


@needs_node
def test_every_api_the_code_requires_is_declared() -> None:
    found = audit()
    assert found["unmodelled"] == [], "an API the stand-in does not model: add its documented semantics"
    assert found["undeclared"] == []
    assert found["unneeded"] == []


@needs_node
def test_nothing_declared_is_unused() -> None:
    # Everything the tag can do in one page view: debug logs, user data, a consent change.
    result = run(
        data={**FIELDS, "userData": True, "debug": True},
        environment="debug",
        data_model={"user_data": {"email": "jane@example.com"}},
        consent={"ad_storage": "denied"},
        steps=[{"fire": True}, {"consent": {"ad_storage": "granted"}}],
    )
    assert sorted(result["used"]) == sorted(audit()["declared"])


# ---- the sandbox's language: ES5.1 with const/let and arrow functions ----

# Sandboxed JavaScript has no window or document, no `new`, no `this`, no global constructors
# (developers.google.com/tag-platform/tag-manager/templates/sandboxed-javascript). Where that page is
# silent (try/catch, typeof, for-of, spread, template and regex literals), the code keeps off too.
FORBIDDEN_WORDS = {
    *("window", "document", "globalThis", "self", "new", "this", "class", "typeof", "instanceof"),
    *("async", "await", "yield", "try", "catch", "throw", "eval", "with", "delete", "of"),
    *("Object", "Array", "String", "Number", "Boolean", "JSON", "Math", "Date", "RegExp", "Function"),
    *("Promise", "setTimeout", "setInterval", "console", "encodeURIComponent", "parseInt"),
}
# The built-in types' methods Google's "Standard Library" page lists, and the template's own objects'.
ALLOWED_METHODS = {
    *("concat", "every", "filter", "forEach", "indexOf", "join", "lastIndexOf", "map", "pop", "push"),
    *("reduce", "reduceRight", "reverse", "shift", "slice", "some", "sort", "splice", "unshift"),
    *("charAt", "match", "replace", "search", "split", "substring", "toLowerCase", "toUpperCase", "trim"),
    *("toString", "getItem", "setItem", "gtmOnSuccess", "gtmOnFailure"),
}


def without_comments_and_strings(source: str) -> str:
    token = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"", re.S)
    return token.sub(lambda m: '""' if m.group(0)[0] in "'\"" else " ", source)


def test_code_stays_within_sandboxed_javascript() -> None:
    bare = without_comments_and_strings(code())
    used_words = set(re.findall(r"[A-Za-z_$][\w$]*", bare))
    assert used_words.isdisjoint(FORBIDDEN_WORDS), used_words & FORBIDDEN_WORDS
    assert "`" not in bare, "template literals"
    assert "/" not in bare, "regular expression literals (and division, to keep the check simple)"
    assert "..." not in bare, "spread and rest"
    methods = set(re.findall(r"\.\s*([A-Za-z_$][\w$]*)\s*\(", bare))
    assert methods <= ALLOWED_METHODS, methods - ALLOWED_METHODS


def test_the_language_check_catches_what_it_names() -> None:
    # The check above would pass vacuously if stripping removed code: it must still see these.
    bare = without_comments_and_strings("const w = window; // document\nlet s = 'new'; x.keys(y);")
    assert re.findall(r"[A-Za-z_$][\w$]*", bare) == ["const", "w", "window", "let", "s", "x", "keys", "y"]
