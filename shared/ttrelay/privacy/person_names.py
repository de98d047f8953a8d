"""Which URL parameter names and custom property names hold a person's name (docs/privacy.md).

Names are read by parts, never by substring: `firstparty`, `lastmod` and `fullscreen` are one part each
and stay. A name holds a person's name when
- it is `name`, or it has the part `name` next to a listed part: `customer_name`, `billingFirstName`,
  `user[given_name]`, `recipientname` (a listed part glued to `name` counts as two parts);
- or every part of it is listed: `first`, `last`, `recipient`, `givenname`, `first_last`.
`content_name`, `product_name` and `shop_name` stay (no listed part), and so do `customer_type` and
`first_visit` (a part that is not listed, and no `name`). A few listed parts are usually something else
when they stand alone (`customer=123`, `shipping=express`, `family=sans`): those whole names stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_PERSON_NAME_PARTS = (
    "first", "last", "given", "family", "middle", "maiden", "full", "sur", "surname", "forename",
    "fname", "lname", "customer", "recipient", "buyer", "billing", "shipping", "holder", "cardholder",
    "sender", "contact", "user",
)  # fmt: skip
# Listed parts that, as a whole name, usually hold an id, an option or a setting rather than a name.
STANDALONE_NOT_A_NAME = frozenset(
    {"customer", "user", "billing", "shipping", "contact", "family", "full", "holder"}
)
NAME = "name"

# camelCase and acronym boundaries as well as any non-alphanumeric separator: "billingPhone" -> billing,
# phone; "CCNumber" -> cc, number; "user[first_name]" -> user, first, name.
_NAME_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def name_parts(name: str) -> list[str]:
    """The lower-cased parts of a parameter or property name."""
    return [part.lower() for part in _NAME_PART.findall(name)]


@dataclass(frozen=True, slots=True)
class PersonNameRule:
    parts: frozenset[str] = frozenset(DEFAULT_PERSON_NAME_PARTS)

    @classmethod
    def of(cls, parts: Iterable[str]) -> PersonNameRule:
        return cls(frozenset(part.strip().lower() for part in parts if part.strip()))

    def names_a_person(self, name: str) -> bool:
        # Asked for every property name and URL parameter of every request, mostly the same few names:
        # the answer is remembered, in a bounded cache (a body may hold thousands of made-up names).
        return _names_a_person(self.parts, name)


@lru_cache(maxsize=4096)
def _names_a_person(listed: frozenset[str], name: str) -> bool:
    if name.lower() in STANDALONE_NOT_A_NAME:
        return False
    parts = list(_unglued(name_parts(name), listed))
    if not parts:
        return False
    if NAME in parts:
        return parts == [NAME] or any(part in listed for part in parts)
    return all(part in listed for part in parts)


def _unglued(parts: list[str], listed: frozenset[str]) -> Iterator[str]:
    # "givenname" and "CustomerName" (one camel part when all upper or all lower) as two parts.
    for part in parts:
        stem = part.removesuffix(NAME)
        if stem != part and stem in listed:
            yield from (stem, NAME)
        else:
            yield part


DEFAULT_PERSON_NAME_RULE = PersonNameRule()
