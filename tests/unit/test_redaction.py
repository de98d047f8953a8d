"""Email addresses and phone numbers in free text: what is redacted, what must survive, in linear time."""

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.adversarial import in_memory_collect
from support.paths import load_vectors
from support.queued import sent_events
from ttrelay.pii_shapes import REDACTED, contains_email, contains_phone, is_email_address, redact_text
from ttrelay.redaction import redact_properties

# The email shape of the hashing rule, as the quadratic regex wrote it: an oracle for short inputs only.
EMAIL_ORACLE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def test_the_email_check_keeps_the_accept_and_reject_behaviour_of_the_vectors() -> None:
    for case in load_vectors("hashing.json")["email"]:
        normalised = case["input"].strip().lower()
        assert is_email_address(normalised) is (case["normalized"] is not None), case["note"]


@given(st.text(alphabet="a.@ \t" + "é", max_size=12))
def test_the_email_check_agrees_with_the_old_regex(text: str) -> None:
    assert is_email_address(text) is bool(EMAIL_ORACLE.fullmatch(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gift for jane.doe@example.com, thanks", f"Gift for {REDACTED} thanks"),
        ("mailto:Jane@Example.co.uk", REDACTED),
        ("call +44 20 7946 0958 today", f"call {REDACTED} today"),
        ("(415) 555-0132", REDACTED),
        ("415.555.0132 or 06 12 34 56 78", f"{REDACTED} or {REDACTED}"),
        ("+1-415-555-0132", REDACTED),
        ("ref 0612345678", f"ref {REDACTED}"),  # nine or more digits in free text, bare or not
    ],
)
def test_emails_and_phones_in_free_text_are_redacted(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order-1001",
        "SKU 12345",
        "Blue shirt, size 42, 2 pack",
        "Delivered 2026-12-01 at 10:30",
        "Total 1.234.567,89 EUR",
        "INV123456789",  # digits glued to letters are an id
        "@handle and user@localhost",  # no dot after the '@'
        "a@b",
        "Version 1.2.3",
        "12345678",  # eight digits: below the phone rule
    ],
)
def test_ids_dates_prices_and_handles_survive(text: str) -> None:
    assert redact_text(text) == text
    assert not contains_email(text)


def test_identifier_properties_keep_long_digit_runs_but_lose_emails() -> None:
    properties = {
        "order_id": "5234567890123",
        "content_ids": ["4006381333931", "jane@doe.com"],
        "description": "order 5234567890123 for jane@doe.com",
        "contents": [{"content_id": "0012345678905", "content_name": "Mug for +44 20 7946 0958"}],
        "value": 42.5,
    }
    assert redact_properties(properties) == {
        "order_id": "5234567890123",
        "content_ids": ["4006381333931", REDACTED],
        "description": f"order {REDACTED} for {REDACTED}",
        "contents": [{"content_id": "0012345678905", "content_name": f"Mug for {REDACTED}"}],
        "value": 42.5,
    }


def test_a_written_phone_differs_from_a_bare_digit_run_where_ids_are_expected() -> None:
    assert contains_phone("39581892345678")  # a Shopify variant id looks like this
    assert not contains_phone("39581892345678", bare_digits=False)
    assert contains_phone("+14155550132", bare_digits=False)
    assert contains_phone("415 555 0132", bare_digits=False)


def test_phones_go_first_so_a_redaction_cannot_form_an_address() -> None:
    assert not EMAIL_ORACLE.search(redact_text("a@-(415) 555 0132.x"))


TEXT = st.text(alphabet=st.sampled_from("ab.@ -()+/%1234567890\t_é"), max_size=60) | st.text(max_size=60)


@settings(max_examples=400)
@given(TEXT)
def test_redaction_never_raises_is_idempotent_and_leaves_no_address(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once
    assert not EMAIL_ORACLE.search(once)
    assert not contains_phone(once)


@settings(max_examples=200)
@given(
    st.recursive(
        TEXT | st.floats(allow_nan=False) | st.integers(),
        lambda inner: st.lists(inner, max_size=3),
        max_leaves=8,
    )
)
def test_property_redaction_never_raises_and_is_idempotent(value: object) -> None:
    once = redact_properties({"description": value, "order_id": value})
    assert redact_properties(once) == once


# ---- through the collect use case: nothing raw reaches the queue -----------------------------------


def test_free_text_page_urls_and_referrers_reach_the_queue_without_raw_pii() -> None:
    events = [
        {
            "event": "Purchase",
            "event_id": "order-1001",
            "properties": {
                "description": "Gift for jane.doe@example.com, call +44 20 7946 0958",
                "search_string": "Jane.Doe@Example.com",
                "query": "+44 20 7946 0958",
                "order_id": "order-1001",
                "contents": [{"content_id": "SKU-1", "content_name": "Card for jane.doe@example.com"}],
            },
        }
    ]
    context = {
        "page_url": "https://shop.example.com/u/jane.doe@example.com/thanks"
        "?customer_email=x&billing_phone=%2B442079460958&fname=Jane&order=1001&utm_source=tt&ttclid=E.C.P.1",
        "referrer": "https://shop.example.com/checkout?ref=jane.doe%40example.com&step=2",
    }
    body = {"consent": {"cmp": {"marketing": True}}, "context": context, "events": events}
    status, message = in_memory_collect()(json.dumps(body).encode())
    assert status == 202
    event = sent_events(message)[0]
    assert event["page"] == {
        "url": "https://shop.example.com/u/redacted/thanks?order=1001&utm_source=tt&ttclid=E.C.P.1",
        "referrer": "https://shop.example.com/checkout?step=2",
    }
    assert event["properties"]["description"] == f"Gift for {REDACTED} call {REDACTED}"
    assert event["properties"]["order_id"] == "order-1001"
    text = json.dumps(message)
    for raw in ["jane.doe@example.com", "+44 20 7946 0958", "442079460958", "fname", "Jane"]:
        assert raw not in text and raw.lower() not in text.lower(), raw


def test_url_parameter_settings_reach_the_scrubber() -> None:
    body = {
        "consent": {"cmp": {"marketing": True}},
        "context": {"page_url": "https://s.example/p?product=1&page=2&loyalty=3&utm_medium=x"},
        "events": [{"event": "ViewContent"}],
    }
    allow = in_memory_collect(url_param_mode="allowlist", url_allowed_params="product")
    assert sent_events(allow(json.dumps(body).encode())[1])[0]["page"]["url"] == (
        "https://s.example/p?product=1&utm_medium=x"
    )
    deny = in_memory_collect(url_pii_params="loyalty")
    assert sent_events(deny(json.dumps(body).encode())[1])[0]["page"]["url"] == (
        "https://s.example/p?product=1&page=2&utm_medium=x"
    )
