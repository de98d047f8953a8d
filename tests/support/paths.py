"""Where the project and the reference kit's vectors are."""

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "vectors"


def load_vectors(name: str) -> Any:
    """A vectors file from ../shared/vectors; the test is skipped, saying why, if the kit is absent."""
    path = VECTORS / name
    if not path.is_file():
        pytest.skip(f"reference vectors not found at {path} (../shared/vectors beside the project root)")
    return json.loads(path.read_text())
