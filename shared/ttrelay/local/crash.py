"""Crash injection for the chaos harness: the forwarder's process dies at a checkpoint, like a Lambda
execution environment killed mid-batch (timeout, OOM, a lost host). Only the local stack sets the rate."""

from __future__ import annotations

import os
import random
from collections.abc import Callable

CRASH_EXIT_CODE = 70


def crash_hook(rate: float, seed: int | None = None) -> Callable[[str], None]:
    draw = random.Random(seed).random

    def checkpoint(point: str) -> None:
        if draw() < rate:
            # No cleanup, no flush: exactly what an abrupt kill leaves behind.
            os._exit(CRASH_EXIT_CODE)

    return checkpoint
