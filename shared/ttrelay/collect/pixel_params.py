"""`ttq.track`'s parameters in the Events API 2.0 shape (reference §2 `properties`, §7a).

Sites pass the pixel classic single-item parameters at the top level (`content_id`, `content_name`,
`price`, `quantity`…); the Events API wants the items in `contents[]` with string ids. The mapping
follows TikTok's own server-side tag (tiktok/gtm-template-eapi, template.tpl, `makeDataContent` and
`getBody`): one item's top-level fields become `contents[0]`, `query` is sent as given, and custom
properties are passed through. Where that tag invents data (a default quantity of 1, a value summed
from prices, `content_type` inside each item) we send only what the site sent.
"""

from __future__ import annotations

from ttrelay.models import Content, MatchKeys, Properties

MATCH_KEY_FIELDS = frozenset(MatchKeys.model_fields)
# The fields of one item that the pixel takes at the top level (reference §7a).
SINGLE_ITEM_FIELDS = ("content_name", "content_category", "brand", "price", "quantity")
# [doc-tr] names the search text `search_string`, TikTok's tag sends `query`, Segment and Rudder send
# both (reference §2): whichever the site gave is sent under both names.
SEARCH_TEXT_FIELDS = ("search_string", "query")


def events_api_properties(properties: Properties) -> dict[str, object]:
    """The `properties` TikTok gets: no match keys (they go to `user`), every id inside `contents`."""
    sent = properties.model_dump(exclude_none=True, exclude=set(MATCH_KEY_FIELDS))
    contents = _contents(properties, sent)
    if contents:
        sent["contents"] = contents
    for name in SEARCH_TEXT_FIELDS:
        other = SEARCH_TEXT_FIELDS[1 - SEARCH_TEXT_FIELDS.index(name)]
        if name not in sent and other in sent:
            sent[name] = sent[other]
    return sent


def _contents(properties: Properties, sent: dict[str, object]) -> list[dict[str, object]]:
    """`contents` as given, then one item per id given only in `content_id` / `content_ids`.

    TikTok wants `content_ids` left out when `contents` is set (reference §2), and its own tag never
    sends `content_ids`: every id travels in `contents`, so one shape reaches TikTok whatever was sent.
    """
    sent.pop("content_id", None)
    sent.pop("content_ids", None)
    given = list(properties.contents or [])
    top_level = properties.content_id if isinstance(properties.content_id, list) else [properties.content_id]
    loose = [item for item in [*top_level, *(properties.content_ids or [])] if item is not None]
    known = {content.content_id for content in given}
    new_ids = [
        item for position, item in enumerate(loose) if item not in known and item not in loose[:position]
    ]
    if not given and len(new_ids) == 1:
        # One item: the top-level item fields describe it (template.tpl, makeDataContent).
        item = {name: sent.pop(name) for name in SINGLE_ITEM_FIELDS if name in sent}
        given.append(Content.model_validate({"content_id": new_ids[0], **item}))
    else:
        # Several ids: which item a top-level price or quantity belongs to is unknown, so those stay
        # top-level (TikTok lists `quantity` among an event's own properties, reference §5).
        given.extend(Content(content_id=content_id) for content_id in new_ids)
    return [content.model_dump(exclude_none=True) for content in given]
