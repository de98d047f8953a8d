"""Crash injection for the chaos harness: the forwarder's process dies at a checkpoint, like a Lambda
execution environment killed mid-batch (timeout, OOM, a lost host). Only the local stack sets the rate.

Each crash first appends `{"point", "keys"}` to a log, so the harness can tell a resend that a crash made
ambiguous (TikTok's own dedup absorbs it) from a second delivery the relay should never make.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path

CRASH_EXIT_CODE = 70


def crash_hook(
    rate: float, log_path: str = "", seed: int | None = None
) -> Callable[[str, Sequence[str]], None]:
    draw = random.Random(seed).random

    def checkpoint(point: str, keys: Sequence[str]) -> None:
        if draw() >= rate:
            return
        if log_path:
            with Path(log_path).open("a") as log:
                log.write(json.dumps({"point": point, "keys": list(keys), "pid": os.getpid()}) + "\n")
        os._exit(CRASH_EXIT_CODE)  # no cleanup, no flush: what an abrupt kill leaves behind

    return checkpoint
