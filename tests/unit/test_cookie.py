"""The signed click-id cookie: genuine tokens verify; tampered, expired and unknown-kid ones never do."""

import base64
import json

import pytest
from ttrelay.collect.cookie import ClickIdCookie, SigningKeys, SigningKeysError, sign, verify

K1 = "k1-" + "a" * 40
K2 = "k2-" + "b" * 40
NOW = 1_795_000_000
PIXEL = "CTTRELAYTESTPIXEL001"


def keys(active: str = "k1", **extra: str) -> SigningKeys:
    return SigningKeys.from_secret({"active_kid": active, "k1": K1, **extra})


def cookie(exp: int = NOW + 3600) -> ClickIdCookie:
    return ClickIdCookie(ttclid="E.C.P.click", ttp="ttp-1", first_seen=NOW - 10, exp=exp, pixel=PIXEL)


def test_a_signed_cookie_verifies_and_round_trips() -> None:
    assert verify(sign(cookie(), keys()), keys(), NOW, PIXEL) == cookie()


@pytest.mark.parametrize("position", [0, 10, -5])
def test_any_tampered_character_is_rejected(position: int) -> None:
    token = sign(cookie(), keys())
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    assert verify("".join(chars), keys(), NOW, PIXEL) is None


def test_a_forged_payload_with_the_old_signature_is_rejected() -> None:
    version, kid, _, signature = sign(cookie(), keys()).split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps({"c": "E.C.P.evil", "p": None, "f": 1, "e": NOW + 99, "x": PIXEL}).encode()
    )
    assert verify(f"{version}.{kid}.{forged.decode().rstrip('=')}.{signature}", keys(), NOW, PIXEL) is None


def test_a_token_is_bound_to_the_pixel_it_was_issued_for() -> None:
    token = sign(cookie(), keys())
    assert verify(token, keys(), NOW, "COTHERPIXEL000000000") is None
    assert verify(token, keys(), NOW, PIXEL) == cookie()


def test_a_genuinely_signed_token_without_a_pixel_is_ignored() -> None:
    # Tokens signed before pixel binding (or by anything else holding the key) name no pixel.
    body = base64.urlsafe_b64encode(json.dumps({"c": "E.C.P.old", "p": None, "f": 1, "e": NOW + 99}).encode())
    signed_part = f"v1.k1.{body.decode().rstrip('=')}"
    import hashlib
    import hmac

    mac = hmac.new(K1.encode(), signed_part.encode(), hashlib.sha256).digest()
    token = f"{signed_part}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    assert verify(token, keys(), NOW, PIXEL) is None


def test_an_expired_cookie_is_ignored() -> None:
    token = sign(cookie(exp=NOW), keys())
    assert verify(token, keys(), NOW, PIXEL) is None
    assert verify(token, keys(), NOW - 1, PIXEL) is not None


def test_rotation_keeps_old_cookies_valid_and_signs_new_ones_with_the_new_key() -> None:
    old_token = sign(cookie(), keys())
    rotated = keys(active="k2", k2=K2)
    assert verify(old_token, rotated, NOW, PIXEL) == cookie()
    new_token = sign(cookie(), rotated)
    assert new_token.split(".")[1] == "k2"
    assert verify(new_token, keys(), NOW, PIXEL) is None  # k2 unknown to a relay that only has k1


def test_a_retired_key_id_is_no_longer_trusted() -> None:
    old_token = sign(cookie(), keys())
    only_k2 = SigningKeys.from_secret({"active_kid": "k2", "k2": K2})
    assert verify(old_token, only_k2, NOW, PIXEL) is None


@pytest.mark.parametrize(
    "garbage", ["", "v1", "v1.k1.x.y", "v2.k1.e30.AAAA", "v1.k1.%%%.%%%", "x" * 5000, None]
)
def test_garbage_never_raises(garbage: str | None) -> None:
    assert verify(garbage, keys(), NOW, PIXEL) is None


@pytest.mark.parametrize(
    "secret",
    [
        {"k1": K1},
        {"active_kid": "k9", "k1": K1},
        {"active_kid": "k1", "k1": "short"},
        {"active_kid": "a.b", "a.b": K1},
    ],
)
def test_unusable_key_secrets_are_a_deployment_error(secret: dict[str, str]) -> None:
    with pytest.raises(SigningKeysError):
        SigningKeys.from_secret(secret)


def test_only_the_canonical_spelling_of_a_signature_verifies() -> None:
    token = sign(cookie(), keys())
    assert verify(token + "==", keys(), NOW, PIXEL) is None
    # The last base64 character of a 32-byte MAC carries 2 padding bits: siblings decode to the same bytes.
    head, last = token[:-1], token[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    siblings = [c for c in alphabet if c != last and alphabet.index(c) // 4 == alphabet.index(last) // 4]
    assert siblings and all(verify(head + c, keys(), NOW, PIXEL) is None for c in siblings)
