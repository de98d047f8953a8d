"""Identifier normalisation and hashing against ../shared/vectors/hashing.json (TikTok's rules)."""

import hashlib

import pytest
from support.paths import load_vectors
from ttrelay.privacy.hashing import hash_user_field, is_sha256_hex


def _cases(field: str) -> list[dict[str, object]]:
    return load_vectors("hashing.json")[field]


@pytest.mark.parametrize("field", ["email", "phone", "external_id"])
def test_every_vector_hashes_as_specified(field: str) -> None:
    for case in _cases(field):
        digests = hash_user_field(field, case["input"], case.get("default_region"))
        expected = [case["sha256"]] if case["normalized"] is not None else []
        assert digests == expected, case["note"]


def test_prehashed_values_pass_through_lowercased_never_rehashed() -> None:
    for case in _cases("prehashed"):
        for field in ("email", "phone", "external_id"):
            assert hash_user_field(field, case["input"]) == [case["sha256"]], case["note"]


def test_a_list_is_hashed_item_by_item_with_duplicates_and_invalid_items_dropped() -> None:
    digests = hash_user_field("email", ["A@example.com", "a@example.com ", "nope", 42])
    assert digests == [hashlib.sha256(b"a@example.com").hexdigest()]


def test_non_string_values_are_dropped_not_stringified() -> None:
    assert hash_user_field("external_id", 12345) == []
    assert hash_user_field("phone", None) == []


def test_hashing_is_idempotent_so_the_forwarder_can_apply_it_again() -> None:
    once = hash_user_field("phone", "(415) 555-0132", "US")
    assert hash_user_field("phone", once) == once
    assert all(is_sha256_hex(d) for d in once)


def test_unknown_field_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a hashed user field"):
        hash_user_field("ttclid", "E.C.P.x")
