"""Shared test setup: makes tests/support importable and pins a quiet, offline Powertools environment."""

import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

# Handlers imported in-process read these once; EMF metrics would otherwise need a namespace.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ttrelay-tests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ttrelay-tests")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
