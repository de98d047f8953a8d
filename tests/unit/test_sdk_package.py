"""The npm package ttrelay-sdk (web/sdk), as a bundler user gets it: `npm pack` ships the classic script,
the generated ES module build, the declarations, README and LICENSE; the module, imported by the
package's name, runs the snippet in a browser and is inert on a server; the declarations type-check a
strict example and describe the collector's answers as docs/openapi.json does.

Node and npm come from the machine; TypeScript from web/sdk/package-lock.json (make setup installs it).
Nothing is fetched while these tests run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT

SDK = ROOT / "web" / "sdk"
TSC = SDK / "node_modules" / ".bin" / "tsc"
SHIPPED = {"LICENSE", "README.md", "package.json", "ttrelay.d.ts", "ttrelay.js", "ttrelay.mjs"}
API_NAMES = {"version", "init", "track", "identify", "consentChanged", "flush"}
NPM_ENV = {"npm_config_update_notifier": "false", "npm_config_audit": "false", "npm_config_fund": "false"}

# A page as far as the snippet's start-up needs one, with a collector that answers 202 to every request.
# Run with the package installed in the working directory, so "ttrelay-sdk" resolves through `exports`.
IN_A_BROWSER = """
const requests = [];
const storage = new Map();
globalThis.window = globalThis;
Object.defineProperty(globalThis, "navigator", { value: { language: "en-US" }, configurable: true });
globalThis.location = new URL("https://shop.example/thanks");
globalThis.addEventListener = () => {};
globalThis.document = {
  currentScript: null, cookie: "", referrer: "", visibilityState: "visible", readyState: "complete",
  addEventListener() {}, querySelector: () => null, querySelectorAll: () => [],
  getElementsByTagName: () => [],
};
globalThis.localStorage = {
  getItem: (key) => (storage.has(key) ? storage.get(key) : null),
  setItem: (key, value) => storage.set(key, String(value)), removeItem: (key) => storage.delete(key),
};
globalThis.fetch = async (url, request) => {
  const body = JSON.parse(request.body);
  requests.push({ url: String(url), body });
  const answer = { accepted: body.events.length, dropped: 0,
    decision: { action: "forward", regime: "notice", reason: "no_restriction" }, token: null };
  return { status: 202, json: async () => answer };
};
const module = await import("ttrelay-sdk");
const global = window.ttrelay;
const same = Object.keys(global).every((name) => module[name] === global[name]);
module.init({ endpoint: "/_t/events", payloadHash: false });
module.identify({ email: "jane@example.com" });
const answer = await module.track("Purchase", { value: 42.5, currency: "EUR" }, { event_id: "order-1001" });
console.log(JSON.stringify({
  exports: Object.keys(module).filter((name) => name !== "default"),
  global: Object.keys(global), same, default_is_global: module.default === global,
  version: module.version, answer, requests,
}));
process.exit(0); // the snippet's page listeners and timers would keep Node waiting
"""

# Server-side rendering: no window, no document.
ON_A_SERVER = """
const module = await import("ttrelay-sdk");
console.log(JSON.stringify({
  exports: Object.keys(module).filter((name) => name !== "default"),
  track: await module.track("Purchase", { value: 1 }, { event_id: "order-1" }),
  init_returns_default: module.init({ endpoint: "/events" }) === module.default,
  identify: module.identify({ email: "jane@example.com" }) === undefined,
  consent_changed: module.consentChanged() === undefined,
  flush: (await module.flush()) === undefined,
  window_still_undefined: typeof window === "undefined",
  version: module.version,
}));
"""

# Every interface's properties and every string-literal union of the declarations, read with TypeScript.
DECLARED = """
const ts = (await import("module")).createRequire(process.cwd() + "/")("typescript");
const fs = await import("fs");
const text = fs.readFileSync("ttrelay.d.ts", "utf8");
const file = ts.createSourceFile("ttrelay.d.ts", text, ts.ScriptTarget.Latest, true);
const interfaces = {}, unions = {};
for (const node of file.statements) {
  if (ts.isInterfaceDeclaration(node)) {
    const members = node.members.filter(ts.isPropertySignature);
    interfaces[node.name.text] = Object.fromEntries(members.map((member) => [
      member.name.getText(file),
      { optional: Boolean(member.questionToken), type: member.type.getText(file) },
    ]));
  } else if (ts.isTypeAliasDeclaration(node) && ts.isUnionTypeNode(node.type)) {
    unions[node.name.text] = node.type.types
      .filter((type) => ts.isLiteralTypeNode(type) && ts.isStringLiteral(type.literal))
      .map((type) => type.literal.text);
  }
}
console.log(JSON.stringify({ interfaces, unions }));
"""

# OpenAPI schema -> the declaration that describes the same object.
SCHEMA_INTERFACES = {
    "CollectAccepted": "CollectAccepted",
    "CollectError": "CollectError",
    "DecisionSummary": "DecisionSummary",
    "ErrorDetail": "ErrorDetail",
    "RejectedEvent": "RejectedEvent",
    "EventWarning": "EventWarning",
    "ConsentIn": "ConsentSignals",
    "UserIn": "User",
    "Content": "Content",
}
ANSWERS = {
    "CollectAccepted",
    "CollectError",
    "DecisionSummary",
    "ErrorDetail",
    "RejectedEvent",
    "EventWarning",
}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH: the npm package's checks need Node.js and npm")
    return found


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, **NPM_ENV}, check=False
    )
    assert done.returncode == 0, f"{' '.join(args[:3])} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _node(script: str, cwd: Path) -> Any:
    return json.loads(_run([_tool("node"), "--input-type=module", "-e", script], cwd).stdout)


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """`npm pack` of a copy of web/sdk (prepack generates ttrelay.mjs there, not in the worktree), and a
    project with the tarball unpacked into node_modules/ttrelay-sdk, as `npm install` puts it."""
    work = tmp_path_factory.mktemp("sdk")
    source = work / "source"
    shutil.copytree(SDK, source, ignore=shutil.ignore_patterns("node_modules", "ttrelay.mjs", "*.tgz"))
    manifest = json.loads(
        _run([_tool("npm"), "pack", "--json", "--pack-destination", str(work)], source).stdout
    )[0]
    with tarfile.open(work / manifest["filename"]) as tar:
        tar.extractall(work / "unpacked", filter="data")
    installed = work / "project" / "node_modules" / "ttrelay-sdk"
    installed.parent.mkdir(parents=True)
    (work / "unpacked" / "package").rename(installed)
    return manifest, installed


def _package_version() -> str:
    return str(json.loads((SDK / "package.json").read_text())["version"])


def test_pack_ships_the_scripts_declarations_readme_and_license_only(
    packed: tuple[dict[str, Any], Path],
) -> None:
    manifest, installed = packed
    assert {entry["path"] for entry in manifest["files"]} == SHIPPED
    assert manifest["name"] == "ttrelay-sdk"
    assert manifest["version"] == _package_version()
    for name in ("ttrelay.js", "ttrelay.d.ts", "README.md", "LICENSE"):
        assert (installed / name).read_bytes() == (SDK / name).read_bytes(), name


def test_classic_script_and_package_have_one_version() -> None:
    script = re.search(r'\bconst VERSION = "([^"]+)"', (SDK / "ttrelay.js").read_text())
    assert script is not None
    assert script[1] == _package_version()


def test_esm_build_runs_the_snippet_in_a_browser(packed: tuple[dict[str, Any], Path]) -> None:
    _, installed = packed
    page = _node(IN_A_BROWSER, installed.parent.parent)
    # Every function of window.ttrelay is a named export, the very same function, and nothing else is.
    assert set(page["exports"]) == set(page["global"]) == API_NAMES
    assert page["same"]
    assert page["default_is_global"]
    assert page["version"] == _package_version()
    assert page["answer"]["status"] == 202
    assert page["answer"]["body"]["accepted"] == 1
    sent = [request for request in page["requests"] if request["body"]["events"]]
    assert [request["url"] for request in sent] == ["/_t/events"]
    assert [(event["event_id"], event["source"]) for event in sent[0]["body"]["events"]] == [
        ("order-1001", "ttrelay")
    ]
    assert sent[0]["body"]["user"] == {"email": "jane@example.com"}


def test_esm_build_is_inert_without_a_browser(packed: tuple[dict[str, Any], Path]) -> None:
    _, installed = packed
    server = _node(ON_A_SERVER, installed.parent.parent)
    assert set(server["exports"]) == API_NAMES
    assert server["track"] == {"status": 0, "error": "no_browser"}
    assert server["init_returns_default"]
    assert server["identify"]
    assert server["consent_changed"]
    assert server["flush"]
    assert server["window_still_undefined"]
    assert server["version"] == _package_version()


def _require_typescript() -> None:
    if not TSC.exists():
        pytest.fail(f"{TSC} is missing: run make setup (npm ci --prefix web/sdk, from package-lock.json)")


@pytest.fixture(scope="module")
def declared() -> dict[str, Any]:
    _require_typescript()
    return dict(_node(DECLARED, SDK))


def test_typed_usage_example_compiles_under_strict_settings() -> None:
    # examples/usage.ts imports "ttrelay-sdk" by name and holds @ts-expect-error mistakes: tsc fails if
    # a declaration stops refusing one of them, or a correct call stops compiling.
    _require_typescript()
    _run([str(TSC), "-p", str(SDK)], SDK)


def test_declarations_describe_the_collectors_schemas(declared: dict[str, Any]) -> None:
    interfaces, unions = declared["interfaces"], declared["unions"]
    schemas = json.loads((ROOT / "docs" / "openapi.json").read_text())["components"]["schemas"]
    for schema_name, interface in SCHEMA_INTERFACES.items():
        schema, members = schemas[schema_name], interfaces[interface]
        required = set(schema.get("required", []))
        assert set(members) == set(schema["properties"]), interface
        assert {name for name, member in members.items() if not member["optional"]} == required, interface
        if schema_name in ANSWERS:
            nullable = {
                name
                for name, prop in schema["properties"].items()
                if {"type": "null"} in prop.get("anyOf", [])
            }
            assert {name for name, member in members.items() if "null" in member["type"]} == nullable, (
                interface
            )
    decision = schemas["DecisionSummary"]["properties"]
    assert unions["Action"] == decision["action"]["enum"]
    assert unions["Regime"] == decision["regime"]["enum"]
    gcm = next(
        option for option in schemas["ConsentIn"]["properties"]["gcm"]["anyOf"] if "properties" in option
    )
    assert set(interfaces["ConsentModeSignals"]) == set(gcm["properties"])
    assert all(prop["enum"] == unions["ConsentModeValue"] for prop in gcm["properties"].values())
    # The declared event properties are ones the collector reads; others fall under the index signature.
    assert set(interfaces["EventProperties"]) <= set(schemas["Properties"]["properties"])


def test_declared_track_errors_are_the_snippets(declared: dict[str, Any]) -> None:
    # Each reason a page may read in TrackResult.error is declared, and each declared one exists.
    # "not_mirrored" settles a mirrored ttq.track call, whose promise no page sees; "no_browser" is the
    # ES module build's (build.mjs).
    reasons = set(declared["unions"]["TrackError"])
    script = (SDK / "ttrelay.js").read_text()
    answered = re.findall(r'\berror: "([a-z_]+)"', script)
    discarded = re.findall(r'\bdiscard\(.*?, "([a-z_]+)",', script)
    given = set(answered + discarded) - {"not_mirrored"}
    assert {"network_error", "consent_timeout", "queue_full"} <= given  # the patterns still find them
    assert given <= reasons
    assert {reason for reason in reasons if f'"{reason}"' not in script} == {"no_browser"}
    assert '"no_browser"' in (SDK / "build.mjs").read_text()
