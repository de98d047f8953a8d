"""Pydantic's error messages in the sender's terms.

A few of pydantic's messages name a class, ours or Python's ("a valid dictionary or instance of
ContextIn", "a valid tuple"): words of the code, not of the JSON a sender writes. Those are
replaced; every other message already speaks of values (`Input should be less than 10000000000`).
"""

from __future__ import annotations

from pydantic_core import ErrorDetails

BODY_NOT_AN_OBJECT = "the body must be a JSON object with an `events` list"
_BY_TYPE = {
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dataclass_type": "must be a JSON object",
    "tuple_type": "must be a JSON list",  # the one use: the events list, a tuple in the model
}


def wording(error: ErrorDetails) -> str:
    """The message for one of pydantic's errors, naming no class."""
    return _BY_TYPE.get(error["type"], error["msg"])
