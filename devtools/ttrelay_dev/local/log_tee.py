"""A worker's log output, passed on unchanged and also handed line by line to a listener (the inspector).

One pipe per worker process: a log line of one worker can then never interleave with another's, whatever
its length (writes to a shared pipe are only atomic up to PIPE_BUF bytes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import IO

log = logging.getLogger("ttrelay_dev.local")


class LogTee:
    def __init__(self, destination: IO[str] | None, on_line: Callable[[str], None]) -> None:
        read_fd, self.write_fd = os.pipe()
        self._lines = os.fdopen(read_fd, "r", encoding="utf-8", errors="replace")
        self._destination = destination
        self._on_line = on_line
        threading.Thread(target=self._pump, name="log-tee", daemon=True).start()

    def child_started(self) -> None:
        """The worker holds its own copy of the write end: closing ours lets the pump see its exit."""
        os.close(self.write_fd)

    def _pump(self) -> None:
        with self._lines:
            for line in self._lines:
                # None means "the terminal", where the worker's output went before there was a tee.
                destination = self._destination or sys.stdout
                with contextlib.suppress(ValueError, OSError):  # a closed log file must not stop the pump
                    destination.write(line)
                    destination.flush()
                try:
                    self._on_line(line)
                except Exception:  # a listener's bug must not silence the function's logs
                    log.exception("log listener failed")
