"""The Shopify custom pixel (web/integrations/shopify/custom-pixel.js) as a merchant pastes it: its first
line is the only one to edit, and tsc checks every field it reads against Shopify's own web pixel types
(@shopify/web-pixels-extension, pinned in package-lock.json; make setup installs it). Nothing is fetched
while these tests run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.paths import ROOT

SHOPIFY = ROOT / "web" / "integrations" / "shopify"
PIXEL = SHOPIFY / "custom-pixel.js"
TSC = SHOPIFY / "node_modules" / ".bin" / "tsc"
FIRST_LINE = re.compile(
    r'const TTRELAY_CONFIG = \{ endpoint: "(?P<endpoint>[^"]+)", siteKey: "(?P<site_key>[^"]+)", '
    r'pixelCode: "(?P<pixel>[^"]+)" \};'
)


def _tsc(project: Path) -> subprocess.CompletedProcess[str]:
    if not TSC.exists():
        pytest.fail(f"{TSC} is missing: run make setup (npm ci --prefix web/integrations/shopify)")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the custom pixel's type check needs Node.js")
    return subprocess.run(
        [node, str(TSC), "--noEmit", "-p", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_custom_pixel_type_checks_against_shopifys_types() -> None:
    done = _tsc(SHOPIFY)
    assert done.returncode == 0, done.stdout + done.stderr


def test_type_check_refuses_a_field_shopify_does_not_send(tmp_path: Path) -> None:
    # The same project with the Purchase's order id read from a field the Order type lacks: tsc must
    # say so, which proves the pixel is checked against the package's types and not against `any`.
    for name in ("tsconfig.json", "globals.d.ts", "package.json"):
        shutil.copy(SHOPIFY / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(SHOPIFY / "node_modules")
    source = PIXEL.read_text()
    assert "order && order.id" in source
    (tmp_path / "custom-pixel.js").write_text(source.replace("order && order.id", "order && order.number", 1))
    done = _tsc(tmp_path)
    assert done.returncode != 0
    assert "Property 'number' does not exist on type 'Order'" in done.stdout


def test_the_first_statement_is_the_one_line_a_merchant_edits() -> None:
    first, *_ = PIXEL.read_text().splitlines()
    match = FIRST_LINE.fullmatch(first)
    assert match, first
    assert match["site_key"].startswith("ttrelay_pk_")
    assert re.fullmatch(r"C[A-Z0-9]{19}", match["pixel"])
    assert match["endpoint"].startswith("https://")


def test_type_packages_are_pinned_exactly_and_typescript_matches_the_sdks() -> None:
    declared = json.loads((SHOPIFY / "package.json").read_text())["devDependencies"]
    locked = json.loads((SHOPIFY / "package-lock.json").read_text())["packages"]
    assert set(declared) == {"@shopify/web-pixels-extension", "typescript"}
    for name, version in declared.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned exactly: {version}"
        assert locked[f"node_modules/{name}"]["version"] == version
    sdk = json.loads((ROOT / "web" / "sdk" / "package.json").read_text())["devDependencies"]
    assert declared["typescript"] == sdk["typescript"]
