"""Page URLs: the click id is read, personal data in the query is removed."""

import pytest
from ttrelay.page import scrub_url, ttclid_from_url


def test_ttclid_is_read_from_the_query() -> None:
    assert ttclid_from_url("https://s.example/p?a=1&ttclid=E.C.P.abc") == "E.C.P.abc"
    assert ttclid_from_url("https://s.example/p?a=1") is None
    assert ttclid_from_url(None) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://s.example/p?color=blue&ttclid=X", "https://s.example/p?color=blue&ttclid=X"),
        ("https://s.example/p?email=a%40b.co&x=1", "https://s.example/p?x=1"),
        ("https://s.example/p?ref=jane@doe.com&Phone=123", "https://s.example/p"),
        ("https://user:pw@s.example:8443/p#frag", "https://s.example:8443/p"),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_scrub_url(url: str, expected: str | None) -> None:
    assert scrub_url(url) == expected
