"""Shared test setup: makes tests/support importable and pins a quiet, offline Powertools environment."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

# Handlers imported in-process read these once; EMF metrics would otherwise need a namespace.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ttrelay-tests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ttrelay-tests")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(autouse=True)
def _metrics_environment_read_anew() -> Iterator[None]:
    """The EMF writer reads POWERTOOLS_SERVICE_NAME and the disabled flags once, as Lambda never changes
    them; tests do (monkeypatch), so each test starts, and ends, with them read anew."""
    from support import metrics_environment

    metrics_environment.read_anew()
    yield
    metrics_environment.read_anew()
