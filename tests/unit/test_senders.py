"""Who may send (DESIGN.md "Who may send"): allowed browser origins, or backends holding a scoped API key."""

import pytest
from ttrelay.collect.rejection import CollectRejected
from ttrelay.collect.senders import ApiKeyRing, ApiKeysError, api_key_digest, identify_sender, new_api_key

SITE = "https://shop.example.com"
PIXEL = "CTTRELAYTESTPIXEL001"
OTHER_PIXEL = "COTHERPIXEL000000000"
OLD_KEY, NEW_KEY, SCOPED_KEY = new_api_key(), new_api_key(), new_api_key()


def ring(*entries: tuple[str, str, list[str]]) -> ApiKeyRing:
    return ApiKeyRing.from_secret(
        {"keys": [{"id": kid, "hash": api_key_digest(key), "pixels": pixels} for kid, key, pixels in entries]}
    )


RING = ring(("old", OLD_KEY, ["*"]), ("new", NEW_KEY, ["*"]), ("scoped", SCOPED_KEY, [OTHER_PIXEL]))


def rejection(headers: dict[str, str], allowed: tuple[str, ...] = (SITE,)) -> CollectRejected:
    with pytest.raises(CollectRejected) as caught:
        identify_sender(headers, allowed, lambda: RING)
    return caught.value


def test_an_allowed_origin_is_a_browser_and_may_not_speak_for_the_visitor() -> None:
    sender = identify_sender({"origin": SITE + "/"}, (SITE,), lambda: RING)
    assert (sender.kind, sender.origin, sender.may_set_visitor) == ("browser", SITE, False)


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "https://shop.example.com.evil.example", "", "http://shop.example.com"],
)
def test_an_origin_not_listed_is_403_naming_the_origin_and_the_setting(origin: str) -> None:
    error = rejection({"origin": origin})
    assert (error.status, error.error) == (403, "origin_not_allowed")
    assert repr(origin) in error.errors[0]["msg"] and "AllowedOrigins" in error.errors[0]["msg"]


def test_a_sandboxed_page_without_a_site_key_is_403_saying_it_needs_one() -> None:
    error = rejection({"origin": "null", "authorization": f"Bearer {NEW_KEY}"})
    assert (error.status, error.error) == (403, "origin_not_allowed")
    assert "site key" in error.errors[0]["msg"]


def test_an_empty_allowed_origins_admits_no_browser() -> None:
    assert rejection({"origin": SITE}, allowed=()).status == 403


def test_an_origin_with_a_valid_key_is_still_judged_as_a_browser() -> None:
    # A key pasted into page code must not open the pixel to every site.
    assert rejection({"origin": "https://evil.example", "authorization": f"Bearer {NEW_KEY}"}).status == 403


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "api_key_required"),
        ({"authorization": "Bearer "}, "api_key_required"),
        ({"authorization": f"Basic {NEW_KEY}"}, "api_key_required"),
        ({"authorization": "Bearer ttr_not-a-key"}, "invalid_api_key"),
        ({"authorization": f"Bearer {NEW_KEY}x"}, "invalid_api_key"),
        ({"authorization": f"Bearer {api_key_digest(NEW_KEY)}"}, "invalid_api_key"),  # the stored digest
    ],
)
def test_without_origin_a_missing_or_wrong_key_is_401_with_a_bearer_challenge(
    headers: dict[str, str], error: str
) -> None:
    rejected = rejection(headers)
    assert (rejected.status, rejected.error) == (401, error)
    assert rejected.headers["www-authenticate"].startswith("Bearer")
    assert NEW_KEY not in str(rejected.errors)


def test_several_keys_are_active_at_once_so_backends_rotate_without_downtime() -> None:
    for key, kid in ((OLD_KEY, "old"), (NEW_KEY, "new")):
        sender = identify_sender({"authorization": f"bearer  {key}"}, (SITE,), lambda: RING)
        assert sender.kind == "backend" and sender.key is not None and sender.key.id == kid
        assert sender.may_set_visitor
    revoked = ring(("new", NEW_KEY, ["*"]))
    with pytest.raises(CollectRejected):
        identify_sender({"authorization": f"Bearer {OLD_KEY}"}, (), lambda: revoked)


def pixel_refusal(sender_headers: dict[str, str], pixel: str, served: tuple[str, ...]) -> CollectRejected:
    sender = identify_sender(sender_headers, (SITE,), lambda: RING)
    with pytest.raises(CollectRejected) as caught:
        sender.check_pixel(pixel, served)
    assert (caught.value.status, caught.value.error) == (403, "pixel_not_allowed")
    return caught.value


def test_a_key_scoped_to_other_pixels_gets_the_same_403_as_an_unknown_pixel_saying_both_causes() -> None:
    scoped = {"authorization": f"Bearer {SCOPED_KEY}"}
    identify_sender(scoped, (), lambda: RING).check_pixel(OTHER_PIXEL, (PIXEL, OTHER_PIXEL))
    out_of_scope = pixel_refusal(scoped, PIXEL, (PIXEL, OTHER_PIXEL))
    unserved = pixel_refusal(scoped, "CNOTMYPIXEL000000000", (PIXEL, OTHER_PIXEL))
    # The two cannot be told apart (a secret key's scope is not probed), yet the answer says what to check.
    assert out_of_scope.errors == unserved.errors
    assert unserved.errors == [
        {
            "loc": "pixel_code",
            "msg": "this pixel is not one the relay serves (PixelCodes), or not one of this API key's "
            "pixels (ttrelay keys list)",
        }
    ]


def test_a_pixel_the_relay_does_not_serve_is_403_saying_so() -> None:
    for headers in ({"origin": SITE}, {"authorization": f"Bearer {NEW_KEY}"}):
        error = pixel_refusal(headers, "CNOTMYPIXEL000000000", (PIXEL,))
        assert error.errors[0]["loc"] == "pixel_code"
        assert str(error.errors[0]["msg"]).startswith("this pixel is not one the relay serves (PixelCodes)")


@pytest.mark.parametrize(
    "secret",
    [
        {"keys": [{"id": "a", "hash": "plaintext-key", "pixels": ["*"]}]},
        {"keys": [{"id": "a", "hash": "0" * 64, "pixels": []}]},
        {"keys": "nope"},
    ],
)
def test_an_unusable_keys_secret_is_a_deployment_error(secret: dict[str, object]) -> None:
    with pytest.raises(ApiKeysError):
        ApiKeyRing.from_secret(secret)


def test_new_keys_are_long_random_and_prefixed() -> None:
    keys = {new_api_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(key.startswith("ttr_") and len(key) >= 40 for key in keys)


def test_a_browser_request_never_reads_the_api_keys() -> None:
    def unreadable() -> ApiKeyRing:
        raise AssertionError("the API-keys secret was read for a browser request")

    assert identify_sender({"origin": SITE}, (SITE,), unreadable).kind == "browser"
    with pytest.raises(CollectRejected):
        identify_sender({"origin": "https://evil.example"}, (SITE,), unreadable)
