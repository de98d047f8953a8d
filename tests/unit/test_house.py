"""The folder layout is the architecture (README's code map): these rules keep it so.

- The Lambda layer (`shared/ttrelay`) holds runtime code only: it never imports the development tools
  (`devtools/ttrelay_dev`: the CLI and the local stack) or their packages (moto, yaml).
- boto3, botocore and httpx are imported by `adapters/` alone; only the wiring (`runtime.py`) imports the
  adapters, so the rooms stay pure and testable without AWS.
- Rooms depend downward only: consent and privacy are leaves (privacy reads the shared contracts);
  collect and forward use them but never each other's use case; observability reports on collect and
  forward and imports them only for type hints.
Imports made only for type checking (`if TYPE_CHECKING:`) are left out: they never run.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.paths import ROOT

LAYER = ROOT / "shared" / "ttrelay"
DEVTOOLS = ROOT / "devtools" / "ttrelay_dev"
CORE = {"ttrelay.models", "ttrelay.config", "ttrelay.field_paths"}


def module_name(path: Path) -> str:
    parts = path.relative_to(LAYER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> Iterator[str]:
    """Every module a file imports when it runs (function-level imports included, TYPE_CHECKING left out)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def layer_modules() -> dict[str, set[str]]:
    return {module_name(path): set(runtime_imports(path)) for path in sorted(LAYER.rglob("*.py"))}


def room(module: str) -> str:
    """ttrelay.collect.senders -> collect; ttrelay.models -> models."""
    return module.split(".")[1] if module.count(".") >= 1 else module


def ttrelay_imports(imports: set[str]) -> set[str]:
    return {name for name in imports if name.startswith("ttrelay.") and _is_module(name)}


def _is_module(name: str) -> bool:
    path = LAYER.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_the_layer_holds_runtime_code_only() -> None:
    assert not list((LAYER / "cli").rglob("*.py")) and not list((LAYER / "local").rglob("*.py"))
    assert (DEVTOOLS / "cli").is_dir() and (DEVTOOLS / "local").is_dir()
    for module, imports in layer_modules().items():
        dev = {name for name in imports if name.split(".")[0] in {"ttrelay_dev", "moto", "yaml", "pytest"}}
        assert not dev, f"{module} imports development tools: {sorted(dev)}"


def test_only_adapters_touch_boto3_and_httpx_and_only_the_wiring_imports_adapters() -> None:
    for module, imports in layer_modules().items():
        sdk = {name for name in imports if name.split(".")[0] in {"boto3", "botocore", "httpx"}}
        if room(module) != "adapters":
            assert not sdk, f"{module} imports {sorted(sdk)}: only ttrelay.adapters may"
        adapters = {name for name in ttrelay_imports(imports) if room(name) == "adapters"}
        if room(module) not in {"adapters", "runtime"}:
            assert not adapters, f"{module} imports {sorted(adapters)}: only ttrelay.runtime wires adapters"


# What each room may import from the rest of the layer, besides itself and the shared contracts (CORE).
ALLOWED = {
    "consent": set(),
    "privacy": set(),
    "collect": {"consent", "privacy", "forward.events_api"},
    "forward": {"privacy", "observability.pixel_tally"},
    "observability": {"consent", "forward.events_api", "forward.dedup", "collect.rejection"},
}


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_rooms_depend_downward_only(name: str) -> None:
    for module, imports in layer_modules().items():
        if room(module) != name:
            continue
        for target in ttrelay_imports(imports):
            if room(target) == name or target in CORE or target in {"ttrelay.config", "ttrelay"}:
                continue
            allowed = ALLOWED[name]
            dotted = target.removeprefix("ttrelay.")
            assert (
                room(target) in allowed
                or dotted in allowed
                or any(dotted.startswith(f"{entry}.") for entry in allowed)
            ), f"{module} imports {target}: not a room {name} may depend on"
