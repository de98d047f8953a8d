"""The local front answers methods as a web server should: HEAD wherever GET serves (headers, no body),
405 with `Allow` for a wrong method on a path it knows (GET /events included), 404 only for what it
does not serve. Over real HTTP on loopback, with the project's own web/ folder."""

import http.client
from collections.abc import Iterator

import pytest
from support.paths import ROOT
from ttrelay_dev.local.fake_events_api import FakeEventsApi
from ttrelay_dev.local.http_front import LocalFront


@pytest.fixture(scope="module")
def front() -> Iterator[LocalFront]:
    # No collector: a request that reached it would get the front's 503 "starting", never a 405.
    server = LocalFront(
        "127.0.0.1",
        0,
        collect=None,
        fake=FakeEventsApi(access_tokens=("t",)),
        queue_state=lambda: {"visible": 0, "in_flight": 0, "dlq": 0},
        web_root=ROOT / "web",
    )
    server.start()
    yield server
    server.stop()


def request(front: LocalFront, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", front.server_address[1], timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/demo/", "text/html"),
        ("/sdk/ttrelay.js", "text/javascript"),
        ("/_local/inspector/", "text/html"),
        ("/_local/queue", "application/json"),
        ("/_local/tiktok/requests", "application/json"),
    ],
)
def test_head_answers_what_get_answers_without_the_body(
    front: LocalFront, path: str, content_type: str
) -> None:
    get_status, get_headers, get_body = request(front, "GET", path)
    status, headers, body = request(front, "HEAD", path)
    assert (get_status, status) == (200, 200)
    assert headers["content-type"] == get_headers["content-type"] == content_type
    assert headers["content-length"] == str(len(get_body)) != "0"
    assert body == b""


@pytest.mark.parametrize(("path", "method"), [("/events", "GET"), ("/events", "HEAD"), ("/_t/events", "PUT")])
def test_a_wrong_method_on_the_collector_is_405_allowing_post_and_options(
    front: LocalFront, path: str, method: str
) -> None:
    status, headers, body = request(front, method, path)
    assert status == 405
    assert headers["allow"] == "POST, OPTIONS"
    if method != "HEAD":
        assert body == b'{"error": "method_not_allowed"}'


def test_post_still_reaches_the_collector(front: LocalFront) -> None:
    assert request(front, "POST", "/events")[0] == 503  # the front's own "starting": no collector here


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/demo/", "POST"),
        ("/sdk/ttrelay.js", "DELETE"),
        ("/_local/queue", "POST"),
        ("/_local/inspector/", "PUT"),
    ],
)
def test_a_write_to_something_read_only_is_405_allowing_get_and_head(
    front: LocalFront, path: str, method: str
) -> None:
    status, headers, _ = request(front, method, path)
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_the_fakes_control_routes_keep_their_own_allow(front: LocalFront) -> None:
    status, headers, _ = request(front, "PUT", "/_local/tiktok/requests")
    assert (status, headers["allow"]) == (405, "GET, DELETE")


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nothing-here"), ("POST", "/nothing-here"), ("HEAD", "/demo/nope.js")]
)
def test_what_the_front_does_not_serve_is_404(front: LocalFront, method: str, path: str) -> None:
    assert request(front, method, path)[0] == 404
