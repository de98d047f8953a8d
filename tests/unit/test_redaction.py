"""Email addresses and phone numbers in free text: what is redacted, what must survive, in linear time."""

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.adversarial import in_memory_collect, in_memory_collect_answering
from support.paths import load_vectors
from support.pii import Written, survives, written_pii
from support.queued import sent_events
from ttrelay.privacy.pii_readings import scrub_text
from ttrelay.privacy.pii_shapes import REDACTED, contains_email, contains_phone, is_email_address, redact_text
from ttrelay.privacy.redaction import redact_properties

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


@pytest.mark.parametrize("phone", ["+14155550132", "+44 20 7946 0958", "(415) 555-0132"])
def test_an_identifier_property_that_is_a_written_phone_number_is_redacted_whole(phone: str) -> None:
    properties = {"order_id": phone, "shop_id": "shop-7", "content_ids": [phone, "4006381333931"]}
    assert redact_properties(properties) == {
        "order_id": REDACTED,
        "shop_id": "shop-7",
        "content_ids": [REDACTED, "4006381333931"],
    }


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


# ---- encodings, Unicode variants and names of people in properties ------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +1\u00a0415\u00a0555\u00a00132", f"call {REDACTED}"),  # no-break spaces
        ("call +44\u200920\u20097946\u20090958", f"call {REDACTED}"),  # thin spaces
        ("call +44\t20\t7946\t0958", f"call {REDACTED}"),
        ("call \uff0b\uff11\uff14\uff11\uff15\uff15\uff15\uff15\uff10\uff11\uff13\uff12", f"call {REDACTED}"),
        ("mail jane\uff20example.com", f"mail {REDACTED}"),  # full-width at sign
        ("mail jane\u200b@example.com", f"mail {REDACTED}"),  # zero-width space
        ("see https://s.example/?e=jane%40example.com", f"see {REDACTED}"),
        ("see jane%2540example.com", f"see {REDACTED}"),
        ("ref amFuZS5kb2VAZXhhbXBsZS5jb20 ok", f"ref {REDACTED} ok"),
    ],
)
def test_pii_is_found_through_unicode_variants_and_encodings(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["50% off today", "Caf\u00e9 cr\u00e8me 250\u00a0g", "Description of a wonderful product",
     "100%25 cotton", "SKU\u00a012345", "T-shirt \uff08\uff2c\uff09"],
)  # fmt: skip
def test_text_without_pii_is_kept_exactly_as_sent(text: str) -> None:
    assert scrub_text(text) == text


def test_property_names_that_name_a_person_are_left_out_and_commerce_names_stay() -> None:
    properties = {
        "customer_name": "Jane Doe",
        "recipientName": "John",
        "first": "Jane",
        "content_name": "Mug",
        "product_name": "Mug",
        "shop_name": "Jane's shop",
        "brand": "Acme",
        "customer_type": "returning",
    }
    assert redact_properties(properties) == {
        "content_name": "Mug",
        "product_name": "Mug",
        "shop_name": "Jane's shop",
        "brand": "Acme",
        "customer_type": "returning",
    }


def test_a_property_holding_one_url_is_scrubbed_like_a_page_url() -> None:
    properties = {
        "landing_url": "https://s.example/p?e=jane%40example.com&first=Jane&variant=39581892345678&utm_source=tt",
        "order_id": "5234567890123",
    }
    assert redact_properties(properties) == {
        "landing_url": "https://s.example/p?variant=39581892345678&utm_source=tt",
        "order_id": "5234567890123",
    }


PERSON_KEYS = st.builds(
    "{}{}{}".format,
    st.sampled_from(["first", "last", "given", "family", "full", "customer", "recipient", "billing", "sur"]),
    st.sampled_from(["_name", "Name", "-name", "name"]),
    st.sampled_from(["", "_1", "_raw"]),
)


@settings(max_examples=400, deadline=None)
@given(
    written_pii(),
    st.sampled_from(["free_text", "alone", "url_property", "list", "nested"]),
    PERSON_KEYS,
)
def test_pii_in_any_encoding_never_survives_the_property_scrubber(pii: Written, place: str, key: str) -> None:
    value: object = {
        "free_text": f"Note: {pii.written}, thanks",
        "alone": pii.written,
        "url_property": f"https://s.example/p?ref={pii.written}&page=2",
        "list": ["ok", pii.written],
        "nested": [{"content_id": "1", "content_name": f"for {pii.written}"}],
    }[place]
    properties = {"note": value, key: "Jane Doe", "brand": "Acme"}
    once = redact_properties(properties)
    assert not survives(pii, json.dumps(once, ensure_ascii=False)), (pii, once)
    assert key not in once and once["brand"] == "Acme"
    assert redact_properties(once) == once


# ---- the reproductions of issue 14, through collect() -------------------------------------------------


def collect_one(context: dict | None = None, properties: dict | None = None) -> dict:
    """The message queued for one consented Purchase with this context and these properties."""
    event = {"event": "Purchase", "event_id": "order-1001", "properties": properties or {}}
    body = {"consent": {"cmp": {"marketing": True}}, "context": context or {}, "events": [event]}
    status, message = in_memory_collect()(json.dumps(body).encode())
    assert status == 202, message
    return dict(message)


def test_a_phone_in_a_url_path_segment_does_not_reach_the_queue() -> None:
    message = collect_one({"page_url": "https://shop.example.com/orders/+14155550132/?step=2"})
    assert sent_events(message)[0]["page"]["url"] == "https://shop.example.com/orders/redacted/?step=2"


def test_phones_written_with_unicode_spaces_do_not_reach_the_queue() -> None:
    properties = {
        "description": "call +1\u00a0415\u00a0555\u00a00132",
        "note": "+44\u202f20\u20097946\u20090958",
    }
    context = {"page_url": "https://shop.example.com/p?ref=%2B1%C2%A0415%C2%A0555%C2%A00132&page=2"}
    message = collect_one(context, properties)
    event = sent_events(message)[0]
    assert event["properties"] == {"description": f"call {REDACTED}", "note": REDACTED}
    assert event["page"]["url"] == "https://shop.example.com/p?page=2"


def test_percent_encoded_and_multiply_encoded_emails_do_not_reach_the_queue() -> None:
    properties = {
        "landing_url": "https://shop.example.com/p?e=jane%40example.com&utm_source=tt",
        "note": "from jane%2540example.com",
        "description": "ref jane%252540example.com",
    }
    message = collect_one(properties=properties)
    assert sent_events(message)[0]["properties"] == {
        "landing_url": "https://shop.example.com/p?utm_source=tt",
        "note": f"from {REDACTED}",
        "description": f"ref {REDACTED}",
    }


def test_a_base64_email_in_a_query_value_does_not_reach_the_queue() -> None:
    context = {"page_url": "https://shop.example.com/thanks?ref=amFuZS5kb2VAZXhhbXBsZS5jb20&order=1001"}
    message = collect_one(context, {"note": "amFuZS5kb2VAZXhhbXBsZS5jb20="})
    event = sent_events(message)[0]
    assert event["page"]["url"] == "https://shop.example.com/thanks?order=1001"
    assert event["properties"] == {"note": REDACTED}


def test_names_in_properties_and_query_parameters_do_not_reach_the_queue() -> None:
    context = {
        "page_url": "https://shop.example.com/gift?recipient=Jane&first=Jane&last=Doe&givenname=Jane&page=2"
    }
    properties = {"customer_name": "Jane Doe", "content_name": "Gift card", "shop_name": "Acme"}
    message = collect_one(context, properties)
    event = sent_events(message)[0]
    assert event["page"]["url"] == "https://shop.example.com/gift?page=2"
    assert event["properties"] == {"content_name": "Gift card", "shop_name": "Acme"}
    assert "Jane" not in json.dumps(message) and "Doe" not in json.dumps(message)


def test_the_person_name_parts_setting_reaches_the_scrubbers() -> None:
    body = {
        "consent": {"cmp": {"marketing": True}},
        "context": {"page_url": "https://s.example/p?guest_name=Jane&first=Jane"},
        "events": [{"event": "Lead", "properties": {"guest_name": "Jane", "first": "Jane"}}],
    }
    status, message = in_memory_collect(person_name_parts="guest")(json.dumps(body).encode())
    assert status == 202
    event = sent_events(message)[0]
    assert event["page"]["url"] == "https://s.example/p?first=Jane"
    assert event["properties"] == {"first": "Jane"}


RAW_EMAIL = "jane.doe@example.com"


@pytest.mark.parametrize(
    ("loc", "extra"),
    [
        ("user.city", {"user": {"city": RAW_EMAIL}}),
        ("user.state", {"user": {"state": "+44 20 7946 0958"}}),
        ("user.zip_code", {"user": {"zip_code": RAW_EMAIL}}),
        ("context.ttclid", {"context": {"ttclid": RAW_EMAIL}}),
        ("context.ttclid", {"context": {"ttclid": "+14155550132"}}),
        ("context.ttp", {"context": {"ttp": RAW_EMAIL}}),
        ("context.ttp", {"context": {"ttp": "amFuZS5kb2VAZXhhbXBsZS5jb20"}}),
        ("context.locale", {"context": {"locale": RAW_EMAIL}}),
        ("context.locale", {"context": {"locale": "en US"}}),
    ],
)
def test_pii_in_an_envelope_field_is_a_400_naming_the_field_never_the_value(loc: str, extra: dict) -> None:
    body = {"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead"}], **extra}
    status, answer = in_memory_collect()(json.dumps(body).encode())
    assert (status, answer["error"]) == (400, "invalid_request")
    assert [error["loc"] for error in answer["errors"]] == [loc]
    text = json.dumps(answer)
    assert RAW_EMAIL not in text and "4155550132" not in text and "amFuZS5" not in text


@pytest.mark.parametrize(
    ("event_id", "properties", "loc"),
    [
        (RAW_EMAIL, {}, "events.1.event_id"),
        ("jane%40example.com", {}, "events.1.event_id"),
        ("+14155550132", {}, "events.1.event_id"),
        ("415-555-0132", {}, "events.1.event_id"),
        ("order-7", {"city": RAW_EMAIL}, "events.1.properties.city"),
        ("order-7", {"zip_code": "+44 20 7946 0958"}, "events.1.properties.zip_code"),
    ],
)
def test_pii_in_an_event_rejects_that_event_and_queues_its_neighbours(
    event_id: str, properties: dict, loc: str
) -> None:
    events = [
        {"event": "Lead", "event_id": "order-1001"},
        {"event": "Purchase", "event_id": event_id, "properties": properties},
        {"event": "Lead", "event_id": "#1002"},
    ]
    body = {"consent": {"cmp": {"marketing": True}}, "events": events}
    status, message, answer = in_memory_collect_answering()(json.dumps(body).encode())
    assert (status, answer["accepted"]) == (202, 2)
    assert [event["event_id"] for event in message["events"]] == ["order-1001", "#1002"]
    [rejected] = answer["rejected"]
    assert rejected["index"] == 1 and [error["loc"] for error in rejected["errors"]] == [loc]
    # A well-formed id is echoed so the site can find the event; one holding PII is not.
    assert rejected["event_id"] == (None if event_id != "order-7" else "order-7")
    assert RAW_EMAIL not in json.dumps(answer) and "555" not in json.dumps(answer)


@pytest.mark.parametrize(
    "context",
    [
        {"ttclid": "E.C.P.CqIBz-_Ab+/9=", "ttp": "2bYWMV3t3vS9Gm9tJqzYsDfTaNX.tt.1", "locale": "zh-Hant-TW"},
        {"ttclid": "", "ttp": "01HF8Z3K5Q9X7Y2W1V0U9T8S7R", "locale": "en_US"},
        {"locale": "es-419"},
    ],
)
def test_genuine_click_ids_ttp_values_and_locales_are_accepted(context: dict) -> None:
    events = [{"event": "Lead", "event_id": eid} for eid in ("1001", "order-1001", "#1001", "5234567890123")]
    body = {"consent": {"cmp": {"marketing": True}}, "context": context, "events": events}
    status, message = in_memory_collect()(json.dumps(body).encode())
    assert status == 202 and len(message["events"]) == 4


@pytest.mark.parametrize(
    "context",
    [
        {"page_url": "https://shop.example.com/?ttclid=jane.doe@example.com"},
        {"page_url": "https://shop.example.com/?ttclid=jane.doe%40example.com"},
        {"page_url": "https://shop.example.com/?ttclid=%2B14155550132"},
        {"page_url": "https://shop.example.com/?ttclid=amFuZS5kb2VAZXhhbXBsZS5jb20"},
        {
            "page_url": "https://shop.example.com/",
            "referrer": "https://shop.example.com/?ttclid=jane.doe@example.com",
        },
    ],
)
def test_a_click_id_read_from_the_page_url_obeys_the_click_id_shape(context: dict) -> None:
    # The click id in the page URL or a same-host referrer is sent as typed in user.ttclid: a value
    # that context.ttclid would refuse is not a click id there either, and is not read at all.
    message = collect_one(context)
    event = sent_events(message)[0]
    assert "ttclid" not in event["user"]
    text = json.dumps(message)
    assert RAW_EMAIL not in text and "4155550132" not in text and "amFuZS5" not in text


def test_a_genuine_click_id_in_the_page_url_is_still_read() -> None:
    message = collect_one({"page_url": "https://shop.example.com/?ttclid=E.C.P.CqIBz-_Ab%2B%2F9%3D"})
    assert sent_events(message)[0]["user"]["ttclid"] == "E.C.P.CqIBz-_Ab+/9="


def test_text_that_would_be_read_as_many_times_its_length_is_redacted_whole() -> None:
    # U+FDFA is 18 characters under NFKC: 512 of them would be read as 9,216. Such text is not read
    # (the CPU bound, tests/unit/test_bounds.py) and, unread, is not sent either.
    assert scrub_text("\ufdfa" * 512) == REDACTED
    assert redact_properties({"description": "\ufdfa" * 40 + " jane.doe@example.com"}) == {
        "description": REDACTED
    }
    # Percent rounds count too: each one reads the text again.
    assert scrub_text("abcdefghijklmnop%25252540 " * 20) == REDACTED


@pytest.mark.parametrize(
    "text",
    [
        # One ligature in Arabic text.
        "\u0645\u062d\u0645\u062f \ufdfa \u0631\u0633\u0648\u0644 \u0627\u0644\u0644\u0647",
        "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8 " * 30,  # Hangul: three jamo per syllable under NFKD
        "Vi\u1ec7t Nam \u0111\u1eb9p l\u1eafm " * 30,  # stacked Vietnamese diacritics
        "\ufb01ne \u33a1 \u2474 " * 40,  # ligatures, squared units and parenthesised digits
        "red%2520shoes " * 30,  # encoded twice
    ],
)
def test_real_text_stays_within_the_read_budget_and_is_kept(text: str) -> None:
    assert scrub_text(text) == text


def test_a_form_encoded_phone_in_a_url_path_segment_does_not_reach_the_queue() -> None:
    # '+' is a space in form encoding, in paths as in queries (/search/+44+20+7946+0958).
    message = collect_one({"page_url": "https://shop.example.com/call/+44+20+7946+0958/x?page=2"})
    assert sent_events(message)[0]["page"]["url"] == "https://shop.example.com/call/redacted/x?page=2"
