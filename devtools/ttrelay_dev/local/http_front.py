"""The local stack's one HTTP port: the collector's function URL, the fake Events API, queue state, web/."""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from ttrelay_dev.local.collect_exchange import CollectExchange
from ttrelay_dev.local.fake_events_api import FakeEventsApi
from ttrelay_dev.local.front_door import PAYLOAD_HASH_HEADER, origin_access_refusal
from ttrelay_dev.local.function_url import HttpReply, error_reply, function_url_event, http_reply
from ttrelay_dev.local.inspector import Inspector
from ttrelay_dev.local.invoker import FunctionRunner, Throttled

log = logging.getLogger("ttrelay_dev.local")
FAKE_PREFIX = "/_local/tiktok"
INSPECTOR_PREFIX = "/_local/inspector"
COLLECT_PATHS = ("/events", "/_t/events")
COLLECT_METHODS = ("POST", "OPTIONS")  # a CORS preflight reaches the collector, which answers it
READ_METHODS = ("GET", "HEAD")  # everything else the front serves is read-only
MAX_BODY = 6 * 1024 * 1024  # the function URL payload limit
# Deployed, AWS refuses a larger body before the collector runs, in its own words (docs/events.md,
# "Errors"); here the answer has the collector's shape, as every other refusal the stack makes.
TOO_LARGE_FOR_LAMBDA = {
    "error": "body_too_large",
    "errors": [{"msg": f"more than {MAX_BODY} bytes never reach the collector (Lambda's request limit)"}],
}


class LocalFront(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        host: str,
        port: int,
        collect: FunctionRunner | None,
        fake: FakeEventsApi,
        queue_state: Callable[[], dict[str, int]],
        web_root: Path,
        front_door: bool = False,
    ) -> None:
        super().__init__((host, port), _Handler)
        self.collect = collect
        self.fake = fake
        self.queue_state = queue_state
        self.web_root = web_root
        # FrontDoor=cloudfront: /_t/ answers like CloudFront with origin access control (front_door.py).
        self.front_door = front_door
        self.inspector: Inspector | None = None
        self._thread = threading.Thread(target=self.serve_forever, name="local-front", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever for a loop that never ran
            self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, the body waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    server: LocalFront

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:  # what GET would answer, without the body (_reply leaves it out)
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            self._json(413, TOO_LARGE_FOR_LAMBDA)
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        path = url.path
        reading = self.command in READ_METHODS
        if path.startswith(FAKE_PREFIX):
            method = "GET" if self.command == "HEAD" else self.command
            response = self.server.fake.handle(
                method, path[len(FAKE_PREFIX) :] or "/", dict(self.headers.items()), body
            )
            self._reply(HttpReply(response.status, list(response.headers.items()), response.body))
        elif path in COLLECT_PATHS:
            if self.command in COLLECT_METHODS:
                self._collect(path, url.query, body)
            else:
                self._not_allowed(COLLECT_METHODS)
        elif not self._serves(path):
            self._json(404, {"error": "not_found"})
        elif not reading:
            self._not_allowed(READ_METHODS)
        elif path == "/_local/queue":
            self._json(200, self.server.queue_state())
        elif path == f"{INSPECTOR_PREFIX}/feed" and self.server.inspector:
            self._json(200, self.server.inspector.feed())
        else:
            self._static(path)

    def _serves(self, path: str) -> bool:
        """Whether GET answers this path with something other than 404."""
        if path == "/_local/queue" or (path == f"{INSPECTOR_PREFIX}/feed" and self.server.inspector):
            return True
        return self._static_file(path) is not None

    def _not_allowed(self, allowed: tuple[str, ...]) -> None:
        reply = _json_reply(405, {"error": "method_not_allowed"})
        self._reply(HttpReply(405, [*reply.headers, ("allow", ", ".join(allowed))], reply.body))

    def _collect(self, path: str, query: str, body: bytes) -> None:
        if self.server.front_door:
            refusal = origin_access_refusal(self.command, path, self.headers.get(PAYLOAD_HASH_HEADER), body)
            if refusal is not None:  # refused before the collector runs, as deployed
                self._reply(refusal)
                return
        received_at, request_id = time.time(), str(uuid.uuid4())
        event = function_url_event(
            self.command, path, query, self.headers.items(), body, self.client_address[0]
        )
        reply = self._invoke_collect(event, request_id)
        if self.server.inspector is not None and self.command == "POST":
            self.server.inspector.record(
                CollectExchange.of(
                    request_id, received_at, path, self.headers.items(), body, reply.status, reply.body
                )
            )
        self._reply(reply)

    def _invoke_collect(self, event: dict[str, object], request_id: str) -> HttpReply:
        if self.server.collect is None:
            return _json_reply(503, {"error": "starting"})
        try:
            outcome = self.server.collect.invoke(event, request_id)
        except Throttled as throttled:
            # Deployed, Lambda (function URL) or API Gateway answers 429 before the handler runs.
            return _json_reply(
                429, {"error": "throttled", "message": str(throttled), "limit": throttled.limit}
            )
        return http_reply(outcome.result) if outcome.ok else error_reply(502, "Internal Server Error")

    def _static(self, path: str) -> None:
        target = self._static_file(path)
        if target is None:
            self._json(404, {"error": "not_found"})
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._reply(HttpReply(200, [("content-type", content_type)], target.read_bytes()))

    def _static_file(self, path: str) -> Path | None:
        """/sdk/<file> is web/sdk/, /demo/ web/demo/, /_local/inspector/ web/inspector/ (index.html for a
        folder); None for anything else."""
        if f"{path}/".startswith(f"{INSPECTOR_PREFIX}/"):
            path = "/inspector/" + path[len(INSPECTOR_PREFIX) :].lstrip("/")
        root = self.server.web_root.resolve()
        target = (root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if (
            path.startswith(("/sdk/", "/demo", "/inspector/"))
            and target.is_relative_to(root)
            and target.is_file()
        ):
            return target
        return None

    def _json(self, status: int, document: object) -> None:
        self._reply(_json_reply(status, document))

    def _reply(self, reply: HttpReply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)


def _json_reply(status: int, document: object) -> HttpReply:
    return HttpReply(status, [("content-type", "application/json")], json.dumps(document).encode())
