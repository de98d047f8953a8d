"""Invokes a function in worker processes, with Lambda's timeout and crash semantics."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from ttrelay_dev.local.log_tee import LogTee
from ttrelay_dev.local.provision import FunctionSpec


class Throttled(Exception):
    """The function is at its reserved concurrency, so Lambda refuses the invocation (HTTP 429)."""

    def __init__(self, function: str, limit: int) -> None:
        super().__init__(f"{function} is at its reserved concurrency ({limit})")
        self.function = function
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Invocation:
    ok: bool
    result: Any = None
    error: Mapping[str, str] | None = None


LogListener = Callable[[str], None]


class _Worker:
    def __init__(
        self,
        spec: FunctionSpec,
        base_env: Mapping[str, str],
        output: IO[str] | None,
        on_log_line: LogListener | None = None,
    ) -> None:
        self.spec = spec
        tee = LogTee(output, on_log_line) if on_log_line else None
        req_read, self._req_write = os.pipe()
        self._res_read, res_write = os.pipe()
        env = {
            **base_env,
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": f"ttrelay-local-{spec.logical_id}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed argv
            [
                sys.executable,
                "-m",
                "ttrelay_dev.local.worker",
                "--code-dir",
                str(spec.code_dir),
                "--handler",
                spec.handler,
                "--function-name",
                spec.logical_id,
                "--memory-mb",
                str(spec.memory_mb),
                "--timeout",
                str(spec.timeout),
                "--requests-fd",
                str(req_read),
                "--results-fd",
                str(res_write),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=tee.write_fd if tee else output,
            stderr=tee.write_fd if tee else output,
            pass_fds=(req_read, res_write),
        )
        if tee:
            tee.child_started()
        os.close(req_read)
        os.close(res_write)
        self._requests = os.fdopen(self._req_write, "w", encoding="utf-8")
        self._results = os.fdopen(self._res_read, "r", encoding="utf-8")

    def invoke(self, event: Any, timeout_s: float, request_id: str) -> Invocation:
        self._requests.write(json.dumps({"event": event, "request_id": request_id}) + "\n")
        self._requests.flush()
        answer: queue.Queue[str] = queue.Queue(maxsize=1)
        reader = threading.Thread(target=lambda: answer.put(self._results.readline()), daemon=True)
        reader.start()
        try:
            line = answer.get(timeout=timeout_s)
        except queue.Empty:
            self.kill()
            return Invocation(
                False,
                error={
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {timeout_s:.0f} seconds",
                },
            )
        if not line:
            self.kill()
            return Invocation(
                False,
                error={
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"worker exited ({self.process.poll()})",
                },
            )
        reply = json.loads(line)
        return Invocation(bool(reply["ok"]), reply.get("result"), reply.get("error"))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self._requests, self._results):
            with contextlib.suppress(OSError):
                stream.close()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


class FunctionRunner:
    """A pool of warm workers for one function; a crashed or timed-out worker is replaced (a cold start)."""

    def __init__(
        self,
        spec: FunctionSpec,
        base_env: Mapping[str, str],
        concurrency: int = 1,
        output: IO[str] | None = None,
        on_log_line: LogListener | None = None,
    ) -> None:
        self.spec = spec
        self._base_env = dict(base_env)
        self._output = output
        self._on_log_line = on_log_line
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(concurrency):
            self._idle.put(None)  # started lazily on first use
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._in_flight = 0

    def invoke(self, event: Any, request_id: str | None = None) -> Invocation:
        """Runs one invocation; raises Throttled when the function's reserved concurrency is in use.

        `request_id` becomes the context's aws_request_id (Powertools logs it as `function_request_id`),
        so a caller that picks it can find the invocation's log lines."""
        with self._admitted():
            return self._run(event, request_id or str(uuid.uuid4()))

    @contextlib.contextmanager
    def _admitted(self) -> Iterator[None]:
        # Lambda counts an invocation against the reservation from its start to its end, whether or not
        # an execution environment is free yet, so waiting for a worker counts here too.
        limit = self.spec.reserved_concurrency
        with self._lock:
            if limit is not None and self._in_flight >= limit:
                raise Throttled(self.spec.logical_id, limit)
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _run(self, event: Any, request_id: str) -> Invocation:
        worker = self._idle.get()
        try:
            if worker is None or not worker.alive:
                worker = _Worker(self.spec, self._base_env, self._output, self._on_log_line)
                with self._lock:
                    self._all.append(worker)
            return worker.invoke(event, self.spec.timeout, request_id)
        finally:
            self._idle.put(worker if worker is not None and worker.alive else None)

    def close(self) -> None:
        with self._lock:
            for worker in self._all:
                worker.kill()
