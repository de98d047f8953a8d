"""Page URLs: the click id is read, personal data in the query is removed."""

import re
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support.pii import Written, survives, written_pii
from ttrelay.privacy.page_urls import UrlPolicy, scrub_url, ttclid_from_url

EMAIL_ORACLE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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


@pytest.mark.parametrize(
    "name",
    [
        "customer_email",
        "billing_phone",
        "fname",
        "billingPhone",
        "customerEmailAddress",
        "user[first_name]",
        "shipping.street",
        "Zip-Code",
        "CCNumber",
        "access_token",
        "session_id",
        "X-Amz-Signature",
        "code",
        "e_mail",
    ],
)
def test_a_parameter_whose_name_has_a_personal_part_is_removed(name: str) -> None:
    url = f"https://s.example/p?page=2&{name}=x&sort=price"
    assert scrub_url(url) == "https://s.example/p?page=2&sort=price"


def test_everyday_parameters_survive_exactly_as_sent() -> None:
    query = (
        "utm_source=tiktok&utm_medium=paid%20social&utm_campaign=bf_2026&utm_content=v2&utm_term=shoes"
        "&ttclid=E.C.P.abc&q=red+shoes&order=1001&page=2&sort=price_desc&product=trail-runner"
        "&variant=39581892345678&gclid=Cj0&ref=&color=blue"
    )
    assert scrub_url(f"https://s.example/p?{query}") == f"https://s.example/p?{query}"


@pytest.mark.parametrize(
    "pair",
    [
        "ref=jane%40doe.com",
        "ref=jane%2540doe.com",  # encoded twice, as in a redirect parameter
        "next=https%3A%2F%2Fs.example%2Fa%3Fu%3Djane%40doe.com",
        "contact=%2B44%2020%207946%200958",
        "contact=+14155550132",
        "contact=415-555-0132",
        "contact=(415)+555+0132",
        "jane@doe.com",
    ],
)
def test_a_parameter_whose_value_is_an_email_or_a_written_phone_is_removed(pair: str) -> None:
    assert scrub_url(f"https://s.example/p?a=1&{pair}&b=2") == "https://s.example/p?a=1&b=2"


def test_a_path_segment_holding_an_email_is_replaced() -> None:
    url = "https://s.example/account/jane.doe@example.com/orders/jane%40doe.com?x=1"
    assert scrub_url(url) == "https://s.example/account/redacted/orders/redacted?x=1"


def test_allowlist_mode_keeps_only_named_parameters_ttclid_and_utm() -> None:
    policy = UrlPolicy.of("allowlist", (), ("Product", "variant"))
    url = "https://s.example/p?product=1&variant=2&page=3&utm_source=tt&ttclid=X&ref=jane@doe.com"
    assert scrub_url(url, policy) == "https://s.example/p?product=1&variant=2&utm_source=tt&ttclid=X"


def test_extra_personal_names_are_configurable() -> None:
    policy = UrlPolicy.of("denylist", ("loyalty", "customer_ref"), ())
    url = "https://s.example/p?loyalty_no=1&customer_ref=2&customer=3"
    assert scrub_url(url, policy) == "https://s.example/p?customer=3"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://[2001:db8::1]:8080/p?a=1", "http://[2001:db8::1]:8080/p?a=1"),
        ("http://s.example:99999/p", None),  # a port out of range is not a URL, not a crash
        ("http://[::1/p", None),
        ("https:///p", None),
    ],
)
def test_odd_hosts_and_ports(url: str, expected: str | None) -> None:
    assert scrub_url(url) == expected


URLS = st.builds(
    lambda path, query: f"https://s.example/{path}?{query}",
    st.text(alphabet=st.sampled_from("ab@.%40/-+"), max_size=30),
    st.text(alphabet=st.sampled_from("abEmailPhone_=&@.%2B40 +0123456789()-"), max_size=60),
)


@settings(max_examples=300)
@given(URLS | st.text(max_size=80))
def test_scrub_url_never_raises_is_idempotent_and_leaves_no_address(url: str) -> None:
    """No path segment or query parameter holds an address, however often it was encoded."""
    once = scrub_url(url)
    if once is None:
        return
    assert scrub_url(once) == once
    parts = urlsplit(once)
    for component in [*parts.path.split("/"), *parts.query.split("&")]:
        for text in (component, unquote(component), unquote(unquote(component))):
            assert not EMAIL_ORACLE.search(text), once


# ---- encodings, phones in paths, names of people --------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://s.example/orders/+14155550132/", "https://s.example/orders/redacted/"),
        ("https://s.example/c/%2B44%C2%A020%E2%80%897946%200958", "https://s.example/c/redacted"),
        ("https://s.example/u/amFuZS5kb2VAZXhhbXBsZS5jb20/x", "https://s.example/u/redacted/x"),
        ("https://s.example/u/jane%252540example.com", "https://s.example/u/redacted"),
        ("https://s.example/product/39581892345678", "https://s.example/product/39581892345678"),
        ("https://s.example/o/2026-12-01/1001", "https://s.example/o/2026-12-01/1001"),
    ],
)
def test_path_segments_holding_a_phone_or_an_encoded_address_are_replaced(url: str, expected: str) -> None:
    assert scrub_url(url) == expected


@pytest.mark.parametrize(
    "pair",
    [
        "ref=amFuZS5kb2VAZXhhbXBsZS5jb20",  # base64url, unpadded
        "ref=amFuZS5kb2VAZXhhbXBsZS5jb20%3D",  # padded, the '=' percent-encoded
        "ref=KzE0MTU1NTUwMTMy",  # base64 of +14155550132
        "ref=%2B1%C2%A0415%C2%A0555%C2%A00132",  # no-break spaces, percent-encoded
        "ref=+1\u2009415\u2009555\u20090132",  # thin spaces, as typed
        "ref=\uff0b\uff14\uff14\u3000\uff12\uff10\u3000\uff17\uff19\uff14\uff16\u3000\uff10\uff19\uff15\uff18",
        "ref=jane\uff20example.com",
        "ref=jane%252540example.com",  # encoded three times
    ],
)
def test_a_value_holding_pii_in_any_encoding_is_removed(pair: str) -> None:
    assert scrub_url(f"https://s.example/p?a=1&{pair}&b=2") == "https://s.example/p?a=1&b=2"


@pytest.mark.parametrize(
    "name",
    ["customer_name", "recipient", "first", "last", "givenname", "givenName", "FamilyName", "surname", "name",
     "user[first_name]", "billing_last_name", "recipientname", "cardholder", "full_name"],
)  # fmt: skip
def test_a_parameter_naming_a_person_is_removed(name: str) -> None:
    assert scrub_url(f"https://s.example/p?page=2&{name}=Jane&sort=price") == (
        "https://s.example/p?page=2&sort=price"
    )


@pytest.mark.parametrize(
    "name",
    ["product_name", "content_name", "shop_name", "brand", "firstparty", "lastmod", "fullscreen",
     "customer_type", "customer", "first_visit", "last_page", "family", "shipping", "user"],
)  # fmt: skip
def test_commerce_names_and_one_part_words_stay(name: str) -> None:
    url = f"https://s.example/p?page=2&{name}=x"
    assert scrub_url(url) == url


def test_the_person_name_parts_are_configurable() -> None:
    policy = UrlPolicy.of("denylist", (), (), person_name_parts=("guest",))
    url = "https://s.example/p?guest_name=Jane&first=Jane&page=2"
    assert scrub_url(url, policy) == "https://s.example/p?first=Jane&page=2"


@settings(max_examples=400, deadline=None)
@given(written_pii(), st.sampled_from(["query", "path", "query_in_redirect"]))
def test_pii_in_any_encoding_never_survives_in_a_url(pii: Written, place: str) -> None:
    if place == "path":
        assume("/" not in pii.written)  # a '/' would make it two segments, each checked on its own
        url = f"https://s.example/a/{pii.written}/b?page=2"
    elif place == "query":
        url = f"https://s.example/p?page=2&ref={pii.written}&utm_source=tt"
    else:
        url = f"https://s.example/p?page=2&next={quote(f'https://r.example/?u={pii.written}', safe='')}"
    scrubbed = scrub_url(url)
    assert scrubbed is not None
    assert not survives(pii, scrubbed), (pii, scrubbed)
    assert "page=2" in scrubbed
