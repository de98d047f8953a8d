"""Every `ttq.track` call of the seed article, sent as the snippet sends it, reaches the queue (and so
TikTok: the forwarder sends the queued events with the message's shared context merged in) in the
Events API 2.0 shape.

The calls are copied from ../shared/seed/000_5104465001100b6c.txt (line numbers below). The seed
fills some values from GTM variables such as `{{DLV - Product ID}}`; plausible values stand in for them.
The seed has no `ttq.identify` call; `user` in `ttq.identify`'s names is covered by
test_identify_names_are_taken_in_user below. `ttq.track('YourCustomEventName', {parameters})` (line 337)
is a template, not a call, and is left out.
"""

import hashlib
import json
from typing import Any

import pytest
from support.adversarial import in_memory_collect
from support.queued import sent_events


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# What `{{JS - Hashed …}}` outputs: already hashed and lowercased, as the seed asks. One upper-case
# digest shows that a digest is kept (lowercased), never hashed again (reference §3, step 2).
HASHED_EMAIL = sha256("jane.doe@example.com")
HASHED_PHONE = sha256("+14155550132")
HASHED_FIRST = sha256("jane")
HASHED_LAST = sha256("doe")

# (seed line, event name, properties as the seed passes them to ttq.track)
SEED_CALLS: list[tuple[int, str, dict[str, Any]]] = [
    (73, "Purchase", {"content_id": ["product_id_123", "product_id_456"], "content_type": "product",
                      "value": 125.00, "currency": "USD", "quantity": 2,
                      "description": "Order 789 purchased"}),
    (75, "AddToCart", {"content_id": ["product_id_123"], "content_type": "product", "value": 50.00,
                       "currency": "USD", "quantity": 1, "description": "Product XYZ added to cart"}),
    # {{DLV - Product ID}}, {{DLV - Product Price}}, {{DLV - Quantity}}
    (107, "AddToCart", {"content_id": ["SKU-4711"], "content_type": "product", "value": 19.99,
                        "currency": "USD", "quantity": 3}),
    (173, "ViewContent", {"content_id": ["PROD001"], "content_type": "product",
                          "content_name": "Super Gadget Pro", "value": 199.99, "currency": "USD"}),
    (189, "AddToCart", {"content_id": ["PROD001"], "content_type": "product",
                        "content_name": "Super Gadget Pro", "value": 199.99, "currency": "USD",
                        "quantity": 1}),
    (204, "InitiateCheckout", {"content_id": ["PROD001", "PROD002"], "content_type": "product",
                               "value": 250.50, "currency": "USD"}),
    (217, "AddPaymentInfo", {"content_id": ["PROD001", "PROD002"], "content_type": "product",
                             "value": 250.50, "currency": "USD"}),
    (233, "Purchase", {"content_id": ["PROD001", "PROD002"], "content_type": "product", "value": 275.00,
                       "currency": "USD", "order_id": "ORD-XYZ-789",
                       "description": "Completed order for Super Gadget Pro and Accessory"}),
    (249, "CompleteRegistration", {"description": "Newsletter Signup"}),
    (263, "GenerateLead", {"description": "Demo Request Form"}),
    (276, "Search", {"query": "red shoes", "description": "Website product search"}),
    # {{DLV - Video ID}}, {{DLV - Video Name}}
    (341, "Video_Played_75_Percent", {"video_id": "vid-42", "video_name": "Unboxing the Super Gadget Pro",
                                      "percentage_watched": 75}),
    # {{DLV - Product ID}}, {{DLV - Order Total}}, {{DLV - Order ID}}, {{JS - Hashed …}}
    (461, "Purchase", {"content_id": ["SKU-4711"], "content_type": "product", "value": 59.97,
                       "currency": "USD", "order_id": "ORD-1001", "email": HASHED_EMAIL,
                       "phone_number": HASHED_PHONE.upper(), "first_name": HASHED_FIRST,
                       "last_name": HASHED_LAST}),
]  # fmt: skip

# The `properties` of the `data[]` item TikTok gets for each call (reference §2).
EXPECTED_PROPERTIES: dict[int, dict[str, Any]] = {
    73: {"contents": [{"content_id": "product_id_123"}, {"content_id": "product_id_456"}],
         "content_type": "product", "value": 125.0, "currency": "USD", "quantity": 2,
         "description": "Order 789 purchased"},
    75: {"contents": [{"content_id": "product_id_123", "quantity": 1}], "content_type": "product",
         "value": 50.0, "currency": "USD", "description": "Product XYZ added to cart"},
    107: {"contents": [{"content_id": "SKU-4711", "quantity": 3}], "content_type": "product",
          "value": 19.99, "currency": "USD"},
    173: {"contents": [{"content_id": "PROD001", "content_name": "Super Gadget Pro"}],
          "content_type": "product", "value": 199.99, "currency": "USD"},
    189: {"contents": [{"content_id": "PROD001", "content_name": "Super Gadget Pro", "quantity": 1}],
          "content_type": "product", "value": 199.99, "currency": "USD"},
    204: {"contents": [{"content_id": "PROD001"}, {"content_id": "PROD002"}], "content_type": "product",
          "value": 250.5, "currency": "USD"},
    217: {"contents": [{"content_id": "PROD001"}, {"content_id": "PROD002"}], "content_type": "product",
          "value": 250.5, "currency": "USD"},
    233: {"contents": [{"content_id": "PROD001"}, {"content_id": "PROD002"}], "content_type": "product",
          "value": 275.0, "currency": "USD", "order_id": "ORD-XYZ-789",
          "description": "Completed order for Super Gadget Pro and Accessory"},
    249: {"description": "Newsletter Signup"},
    263: {"description": "Demo Request Form"},
    276: {"query": "red shoes", "search_string": "red shoes", "description": "Website product search"},
    341: {"video_id": "vid-42", "video_name": "Unboxing the Super Gadget Pro", "percentage_watched": 75},
    461: {"contents": [{"content_id": "SKU-4711"}], "content_type": "product", "value": 59.97,
          "currency": "USD", "order_id": "ORD-1001"},
}  # fmt: skip


@pytest.fixture(scope="module")
def post() -> Any:
    return in_memory_collect()


def snippet_request(event: str, properties: dict[str, Any], user: dict[str, Any] | None = None) -> bytes:
    """The body ttrelay.js posts for one `ttq.track` call (identify → `user`)."""
    body: dict[str, Any] = {
        "consent": {"cmp": {"marketing": True}},
        "context": {"page_url": "https://shop.example.com/p/1", "locale": "en-US"},
        "events": [{"event": event, "event_id": "e-1", "properties": properties}],
    }
    if user:
        body["user"] = user
    return json.dumps(body).encode()


@pytest.mark.parametrize(("line", "event", "properties"), SEED_CALLS, ids=[f"line{c[0]}" for c in SEED_CALLS])
def test_every_seed_call_is_accepted_and_leaves_in_the_events_api_shape(
    post: Any, line: int, event: str, properties: dict[str, Any]
) -> None:
    status, message = post(snippet_request(event, properties))
    assert status == 202
    (sent,) = sent_events(message)
    assert sent["event"] == event  # GenerateLead and Video_Played_75_Percent stay custom events
    assert sent["event_id"] == "e-1"
    assert sent["properties"] == EXPECTED_PROPERTIES[line]
    assert sent["page"] == {"url": "https://shop.example.com/p/1"}
    assert sent["limited_data_use"] is False
    user = sent["user"]
    assert (user["ip"], user["user_agent"], user["locale"]) == ("203.0.113.24", "UA", "en-US")


def test_advanced_matching_in_properties_moves_to_the_user_hashed_and_never_leaves_as_properties(
    post: Any,
) -> None:
    (_, event, properties) = next(call for call in SEED_CALLS if call[0] == 461)
    status, message = post(snippet_request(event, properties))
    assert status == 202
    (sent,) = sent_events(message)
    assert sent["user"]["email"] == [HASHED_EMAIL]
    assert sent["user"]["phone"] == [HASHED_PHONE]  # the upper-case digest, lowercased, not re-hashed
    assert sent["user"]["first_name"] == [HASHED_FIRST]
    assert sent["user"]["last_name"] == [HASHED_LAST]
    assert not {"email", "phone_number", "first_name", "last_name"} & set(sent["properties"])


def test_raw_match_keys_in_properties_are_normalised_and_hashed_like_the_users(post: Any) -> None:
    properties = {
        "email": " Jane.Doe@Example.com ",
        "phone_number": "+1 415-555-0132",
        "first_name": " Jane ",
        "last_name": "DOE",
        "zip_code": " SW1A 1AA ",
        "city": " London ",
        "country": "gb",
        "value": 1,
    }
    status, message = post(snippet_request("Purchase", properties))
    assert status == 202
    (sent,) = sent_events(message)
    user = sent["user"]
    assert user["email"] == [sha256("jane.doe@example.com")]
    assert user["phone"] == [HASHED_PHONE]
    assert (user["first_name"], user["last_name"]) == ([sha256("jane")], [sha256("doe")])
    assert user["zip_code"] == [sha256("sw1a 1aa")]
    assert (user["city"], user["country"]) == ("London", "gb")  # not hashed (reference §2), trimmed
    assert sent["properties"] == {"value": 1.0}
    raw = json.dumps(message)
    assert "Jane" not in raw and "415-555" not in raw and "SW1A" not in raw


def test_identify_names_are_taken_in_user_and_joined_with_the_events_match_keys(post: Any) -> None:
    # ttq.identify({email, phone_number, external_id}) → `user`; the event adds a second email.
    user = {"email": "jane.doe@example.com", "phone_number": "+14155550132", "external_id": "CRM-42",
            "city": "", "country": " DE "}  # fmt: skip
    status, message = post(snippet_request("Lead", {"email": "jane@work.example"}, user))
    assert status == 202
    sent = sent_events(message)[0]["user"]
    assert sent["email"] == [HASHED_EMAIL, sha256("jane@work.example")]
    assert sent["phone"] == [HASHED_PHONE]
    assert sent["external_id"] == [sha256("CRM-42")]
    assert sent["country"] == "DE" and "city" not in sent  # an empty field is not given


def test_the_pixels_loose_parameters_are_normalised(post: Any) -> None:
    properties = {
        "content_id": 4711,  # a number: TikTok wants strings (40002)
        "content_name": "Mug",
        "brand": "Acme",
        "content_category": "Kitchen",
        "price": "12.50",  # numeric strings are numbers, as TikTok's tag reads them (makeNumber)
        "quantity": "2",
        "currency": "eur",
        "content_type": "Product",
        "value": "25",
    }
    status, message = post(snippet_request("AddToCart", properties))
    assert status == 202
    assert message["events"][0]["properties"] == {
        "contents": [
            {"content_id": "4711", "content_name": "Mug", "content_category": "Kitchen", "brand": "Acme",
             "price": 12.5, "quantity": 2}
        ],
        "currency": "EUR",
        "content_type": "product",
        "value": 25.0,
    }  # fmt: skip


def test_ids_given_several_ways_are_merged_into_one_contents_list(post: Any) -> None:
    properties = {
        "contents": [{"content_id": "A", "price": 3}],
        "content_id": ["A", "B"],
        "content_ids": ["B", 7],
    }
    status, message = post(snippet_request("ViewContent", properties))
    assert status == 202
    contents = message["events"][0]["properties"]["contents"]
    assert contents == [{"content_id": "A", "price": 3.0}, {"content_id": "B"}, {"content_id": "7"}]
    assert "content_ids" not in message["events"][0]["properties"]


def test_custom_properties_pass_through_and_lose_personal_data(post: Any) -> None:
    properties = {"note": "call +44 20 7946 0958 or jane@example.com", "tags": ["a", 1, True], "ratio": 0.5}
    status, message = post(snippet_request("Subscribe", properties))
    assert status == 202
    assert message["events"][0]["properties"] == {
        "note": "call [redacted] or [redacted]",
        "tags": ["a", 1, True],
        "ratio": 0.5,
    }
