"""The signed click-id cookie: genuine tokens verify; tampered, expired and unknown-kid ones never do."""

import base64
import json

import pytest
from ttrelay.cookie import ClickIdCookie, SigningKeys, SigningKeysError, sign, verify

K1 = "k1-" + "a" * 40
K2 = "k2-" + "b" * 40
NOW = 1_795_000_000


def keys(active: str = "k1", **extra: str) -> SigningKeys:
    return SigningKeys.from_secret({"active_kid": active, "k1": K1, **extra})


def cookie(exp: int = NOW + 3600) -> ClickIdCookie:
    return ClickIdCookie(ttclid="E.C.P.click", ttp="ttp-1", first_seen=NOW - 10, exp=exp)


def test_a_signed_cookie_verifies_and_round_trips() -> None:
    assert verify(sign(cookie(), keys()), keys(), NOW) == cookie()


@pytest.mark.parametrize("position", [0, 10, -5])
def test_any_tampered_character_is_rejected(position: int) -> None:
    token = sign(cookie(), keys())
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    assert verify("".join(chars), keys(), NOW) is None


def test_a_forged_payload_with_the_old_signature_is_rejected() -> None:
    version, kid, _, signature = sign(cookie(), keys()).split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps({"c": "E.C.P.evil", "p": None, "f": 1, "e": NOW + 99}).encode()
    )
    assert verify(f"{version}.{kid}.{forged.decode().rstrip('=')}.{signature}", keys(), NOW) is None


def test_an_expired_cookie_is_ignored() -> None:
    token = sign(cookie(exp=NOW), keys())
    assert verify(token, keys(), NOW) is None
    assert verify(token, keys(), NOW - 1) is not None


def test_rotation_keeps_old_cookies_valid_and_signs_new_ones_with_the_new_key() -> None:
    old_token = sign(cookie(), keys())
    rotated = keys(active="k2", k2=K2)
    assert verify(old_token, rotated, NOW) == cookie()
    new_token = sign(cookie(), rotated)
    assert new_token.split(".")[1] == "k2"
    assert verify(new_token, keys(), NOW) is None  # k2 unknown to a relay that only has k1


def test_a_retired_key_id_is_no_longer_trusted() -> None:
    old_token = sign(cookie(), keys())
    only_k2 = SigningKeys.from_secret({"active_kid": "k2", "k2": K2})
    assert verify(old_token, only_k2, NOW) is None


@pytest.mark.parametrize(
    "garbage", ["", "v1", "v1.k1.x.y", "v2.k1.e30.AAAA", "v1.k1.%%%.%%%", "x" * 5000, None]
)
def test_garbage_never_raises(garbage: str | None) -> None:
    assert verify(garbage, keys(), NOW) is None


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
