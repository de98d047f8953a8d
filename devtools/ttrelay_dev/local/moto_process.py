"""moto's server in a process of its own: the emulated AWS APIs get their own interpreter and core
instead of competing for the local stack's GIL with the HTTP front, the fake and the pollers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

SERVER_MODULE = "ttrelay_dev.local.moto_server"  # moto's server with DynamoDB's INSERT answer (see there)


class MotoProcess:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.endpoint = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> str:
        with socket.socket() as probe:  # a free port; moto binds it a moment later
            probe.bind((self.host, 0))
            port = probe.getsockname()[1]
        self._process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed argv
            [sys.executable, "-m", SERVER_MODULE, "-H", self.host, "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # werkzeug logs every request
        )
        self.endpoint = f"http://{self.host}:{port}"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):  # noqa: S310 - loopback
                    return self.endpoint
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto server did not start")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
