"""Publishable site keys through the collect use case (DESIGN.md "Who may send", issue 16).

A sandboxed page (a Shopify custom pixel: Origin `null` or absent) sends `site_key` in the body or the
query and is admitted as a browser; a foreign Origin stays refused; the key's pixels, hosts and rate
limit bound what it may do.
"""

import json
from dataclasses import replace
from typing import Any

import pytest
from support.fakes import MemoryQueue
from support.queued import sent_events
from ttrelay.collect.cookie import SigningKeys
from ttrelay.collect.rate_limit import KeyRateLimiter
from ttrelay.collect.rejection import CollectRejected
from ttrelay.collect.senders import ApiKeyRing, api_key_digest
from ttrelay.collect.use_case import CollectDeps, CollectOutcome, HttpRequest, collect
from ttrelay.config import CollectSettings
from ttrelay.consent.policy import load_policy

PIXEL, OTHER_PIXEL = "CTTRELAYTESTPIXEL001", "COTHERPIXEL000000000"
SITE = "https://shop.example.com"
NOW = 1_795_000_000.0
SIGNING = SigningKeys.from_secret({"active_kid": "k1", "k1": "x" * 40})
SITE_KEY = "ttrelay_pk_site-key-for-tests-0123456789"
HOSTED_KEY = "ttrelay_pk_hosted-key-for-tests-012345678"
SLOW_KEY = "ttrelay_pk_slow-key-for-tests-0123456789a"
BACKEND_KEY = "ttr_backend-key-for-tests-0123456789abcdef"
VISITOR_IP, VISITOR_UA = "81.2.69.160", "Mozilla/5.0 (the visitor's browser)"
GRANT = {"cmp": {"marketing": True}}


def record(kid: str, key: str, pixels: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": kid, "hash": api_key_digest(key), "pixels": pixels, "kind": "publishable", **extra}


RING = ApiKeyRing.from_secret(
    {
        "keys": [
            record("pk-site", SITE_KEY, [PIXEL]),
            record("pk-hosted", HOSTED_KEY, [PIXEL], hosts=["shop.example.com", "Checkout.Example.com"]),
            record("pk-slow", SLOW_KEY, [PIXEL], rate_limit=2),
            {"id": "k-backend", "hash": api_key_digest(BACKEND_KEY), "pixels": ["*"]},
        ]
    }
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def deps(
    queue: MemoryQueue | None = None,
    ring: ApiKeyRing = RING,
    clock: Clock | None = None,
    limits: KeyRateLimiter | None = None,
) -> CollectDeps:
    settings = CollectSettings.model_validate(
        {
            "events_queue_url": "q",
            "cookie_keys_secret_arn": "s",
            "pixel_codes": (PIXEL, OTHER_PIXEL),
            "allowed_origins": (SITE,),
        }
    )
    return CollectDeps(
        settings=settings,
        queue=queue if queue is not None else MemoryQueue(),
        policy=load_policy(),
        signing_keys=lambda: SIGNING,
        api_keys=lambda: ring,
        clock=clock or Clock(),
        site_key_limits=limits or KeyRateLimiter(),
    )


def request(
    body: dict[str, Any], headers: dict[str, str] | None = None, query: dict[str, str] | None = None
) -> HttpRequest:
    document = {"pixel_code": PIXEL, "consent": GRANT, "events": [{"event": "Purchase"}], **body}
    return HttpRequest(
        body=json.dumps(document).encode(),
        headers={"content-type": "text/plain;charset=UTF-8", **(headers or {})},
        cookies={},
        source_ip=VISITOR_IP,
        user_agent=VISITOR_UA,
        query=query or {},
    )


def post(body: dict[str, Any], headers: dict[str, str] | None = None, **kwargs: Any) -> CollectOutcome:
    query = kwargs.pop("query", None)
    return collect(request(body, headers, query), deps(**kwargs))


def refused(body: dict[str, Any], headers: dict[str, str] | None = None, **kwargs: Any) -> CollectRejected:
    with pytest.raises(CollectRejected) as caught:
        post(body, headers, **kwargs)
    return caught.value


# -- admitted as a browser ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "where"),
    [
        ({"origin": "null"}, "body"),
        ({"origin": "null"}, "query"),
        ({}, "body"),
        ({}, "query"),
    ],
    ids=["null-origin-body", "null-origin-query", "no-origin-body", "no-origin-query"],
)
def test_a_sandboxed_page_with_a_site_key_is_a_browser_whose_ip_and_agent_come_from_the_request(
    headers: dict[str, str], where: str
) -> None:
    queue = MemoryQueue()
    # A page cannot speak for someone else: the body's ip and user agent are ignored, as for any browser.
    body: dict[str, Any] = {"context": {"ip": "203.0.113.9", "user_agent": "Forged/1.0"}}
    query = {"site_key": SITE_KEY} if where == "query" else None
    if where == "body":
        body["site_key"] = SITE_KEY
    outcome = post(body, headers, queue=queue, query=query)
    assert (outcome.accepted, outcome.decision.action) == (1, "forward")
    (event,) = sent_events(queue.bodies[0])
    assert (event["user"]["ip"], event["user"]["user_agent"]) == (VISITOR_IP, VISITOR_UA)
    # No cookie jar of ours in a sandbox: the token travels in the body only.
    assert outcome.sandboxed and outcome.token is not None
    assert not [w for w in outcome.body().get("warnings", []) if w["loc"] == "site_key"]


def test_the_same_key_in_the_query_and_the_body_is_fine() -> None:
    outcome = post({"site_key": SITE_KEY}, {"origin": "null"}, query={"site_key": SITE_KEY})
    assert outcome.accepted == 1


def test_a_site_key_with_an_allowed_origin_is_a_first_party_browser_within_the_keys_scope() -> None:
    outcome = post({"site_key": SITE_KEY}, {"origin": SITE})
    assert outcome.accepted == 1 and not outcome.sandboxed  # its cookie is set as for any page of the site
    error = refused({"site_key": SITE_KEY, "pixel_code": OTHER_PIXEL}, {"origin": SITE})
    assert (error.status, error.error) == (403, "pixel_not_allowed")


# -- refused ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["https://attacker.example", "https://shop.example.com.evil.example"])
def test_a_foreign_origin_is_403_whatever_key_it_carries(origin: str) -> None:
    error = refused({"site_key": SITE_KEY}, {"origin": origin}, query={"site_key": SITE_KEY})
    assert (error.status, error.error) == (403, "origin_not_allowed")


@pytest.mark.parametrize(
    "presented",
    [SITE_KEY + "x", "ttrelay_pk_guess", api_key_digest(SITE_KEY), BACKEND_KEY, "", "k" * 5000],
    ids=["altered", "guess", "the-stored-digest", "a-backend-key", "empty", "huge"],
)
def test_a_wrong_site_key_is_401_without_echoing_it(presented: str) -> None:
    for headers in ({"origin": "null"}, {}):
        error = refused({"site_key": presented}, headers)
        assert (error.status, error.error) == (401, "invalid_site_key")
        assert presented[:40] not in json.dumps(error.errors) or not presented


def test_a_revoked_site_key_is_401() -> None:
    assert post({"site_key": SITE_KEY}, {"origin": "null"}).accepted == 1
    revoked = ApiKeyRing(tuple(r for r in RING.records if r.id != "pk-site"))
    error = refused({"site_key": SITE_KEY}, {"origin": "null"}, ring=revoked)
    assert (error.status, error.error) == (401, "invalid_site_key")


def test_a_wrong_query_key_is_refused_before_the_events_are_judged() -> None:
    error = refused({"events": [{"event": 42}]}, {"origin": "null"}, query={"site_key": "ttrelay_pk_nope"})
    assert error.error == "invalid_site_key"


def test_a_site_key_never_opens_the_backend_door() -> None:
    error = refused({}, {"authorization": f"Bearer {SITE_KEY}"})
    assert (error.status, error.error) == (401, "invalid_api_key")


def test_a_backend_key_and_a_site_key_together_are_400() -> None:
    error = refused({"site_key": SITE_KEY}, {"authorization": f"Bearer {BACKEND_KEY}"})
    assert (error.status, error.error) == (400, "invalid_request")
    assert error.errors[0]["loc"] == "site_key" and "not both" in str(error.errors[0]["msg"])


def test_a_pixel_outside_the_keys_scope_is_403_saying_so() -> None:
    error = refused({"site_key": SITE_KEY, "pixel_code": OTHER_PIXEL}, {"origin": "null"})
    assert (error.status, error.error) == (403, "pixel_not_allowed")
    assert error.errors == [
        {
            "loc": "pixel_code",
            "msg": f"this site key's scope does not include pixel {OTHER_PIXEL} (ttrelay keys list)",
        }
    ]


@pytest.mark.parametrize(
    "page_url",
    ["https://shop.example.com/thanks", "https://CHECKOUT.example.com:443/c/1", "https://shop.example.com./"],
)
def test_a_key_with_hosts_admits_pages_on_them(page_url: str) -> None:
    assert post({"site_key": HOSTED_KEY, "context": {"page_url": page_url}}, {"origin": "null"}).accepted == 1


@pytest.mark.parametrize(
    "context",
    [
        {"page_url": "https://attacker.example/thanks"},
        {"page_url": "https://shop.example.com.attacker.example/"},
        {"page_url": "https://www.shop.example.com/"},
        {"page_url": "not a url"},
        {},
    ],
    ids=["other-host", "suffix-trick", "subdomain", "not-a-url", "no-page-url"],
)
def test_a_key_with_hosts_refuses_other_pages_with_403(context: dict[str, str]) -> None:
    error = refused({"site_key": HOSTED_KEY, "context": context}, {"origin": "null"})
    assert (error.status, error.error) == (403, "host_not_allowed")
    assert error.errors[0]["loc"] == "context.page_url"
    assert "shop.example.com, checkout.example.com" in str(error.errors[0]["msg"])


def test_different_keys_in_the_query_and_the_body_are_400() -> None:
    error = refused({"site_key": SITE_KEY}, {"origin": "null"}, query={"site_key": HOSTED_KEY})
    assert (error.status, error.error) == (400, "site_key_mismatch")
    assert SITE_KEY not in json.dumps(error.errors) and HOSTED_KEY not in json.dumps(error.errors)


def test_a_site_key_that_is_not_a_string_is_400() -> None:
    error = refused({"site_key": 12345}, {"origin": "null"})
    assert (error.status, error.error, error.errors[0]["loc"]) == (400, "invalid_request", "site_key")


def test_a_sandboxed_page_without_a_key_is_refused() -> None:
    assert refused({}, {"origin": "null"}).status == 403
    keyless = refused({}, {})
    assert (keyless.status, keyless.error) == (401, "api_key_required")


# -- rate limit -----------------------------------------------------------------------------------------


def test_over_the_keys_rate_limit_is_429_with_retry_after_then_ok_after_the_window() -> None:
    clock, limits, queue = Clock(), KeyRateLimiter(), MemoryQueue()

    def send() -> CollectOutcome:
        return collect(
            request({"site_key": SLOW_KEY}, {"origin": "null"}), deps(queue, clock=clock, limits=limits)
        )

    assert send().accepted == 1 and send().accepted == 1  # the key allows 2 per second
    with pytest.raises(CollectRejected) as caught:
        send()
    error = caught.value
    assert (error.status, error.error, error.headers) == (429, "throttled", {"retry-after": "1"})
    assert "2 requests per second per collector instance" in str(error.errors[0]["msg"])
    assert len(queue.bodies) == 2  # the refused request queued nothing
    clock.now += 0.5  # half a window refills one request
    assert send().accepted == 1
    with pytest.raises(CollectRejected):
        send()
    clock.now += 1
    assert send().accepted == 1 and send().accepted == 1


def test_each_key_has_its_own_limit() -> None:
    clock, limits = Clock(), KeyRateLimiter()
    for _ in range(2):
        collect(request({"site_key": SLOW_KEY}, {"origin": "null"}), deps(clock=clock, limits=limits))
    outcome = collect(request({"site_key": SITE_KEY}, {"origin": "null"}), deps(clock=clock, limits=limits))
    assert outcome.accepted == 1


def test_keyless_browsers_of_an_allowed_origin_never_read_the_keys_secret() -> None:
    def unreadable() -> ApiKeyRing:
        raise AssertionError("the API-keys secret was read for a keyless browser request")

    assert collect(request({}, {"origin": SITE}), replace(deps(), api_keys=unreadable)).accepted == 1
