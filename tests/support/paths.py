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


def vector_params(name: str) -> list[Any]:
    """One pytest param per case of a vectors file (id = the case's id), or a single skipped param
    saying where the kit was looked for; for use in @pytest.mark.parametrize at collection time."""
    path = VECTORS / name
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"reference vectors not found at {path}"))]
    return [pytest.param(case, id=case["id"]) for case in json.loads(path.read_text())["cases"]]
