"""Paths in errors, warnings and log lines that name fields, never what a sender typed.

A pydantic error location mixes declared field names, list positions, pydantic's own tags (`str`,
`list[constrained-str]`, `[key]`) and the keys of the sender's own mappings: custom property names,
`consent.gcm` and `consent.cmp` keys, the unknown key a strict model forbids. Those keys are the
sender's text (an address typed as a key is still an address), so each is replaced by USER_KEY unless
the model at that position declares it. The location is walked alongside the document it came from:
a part that is a key of the document there is the sender's, a declared field the model's; pydantic's
tags are neither, and are left out (the sender wrote `user.email`, not `user.email.list[constrained-str]`).
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel

USER_KEY = "<key>"


def field_path(where: str, loc: Sequence[str | int], document: object, model: type[BaseModel] | None) -> str:
    """`where` joined with `loc` (relative to `document`, which `model` validated), sender's keys masked."""
    parts = [where] if where else []
    node, current = document, model
    for part in loc:
        declared = current is not None and isinstance(part, str) and part in current.model_fields
        shown = str(part)
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]  # a list position; items of a list[Model] field are that model
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
            current = _field_model(current, str(part)) if declared else None
            shown = shown if declared else USER_KEY
        elif declared:  # a declared field missing from the document (a `missing` error ends here)
            node, current = None, None
        elif isinstance(part, str):  # a tag of pydantic's, e.g. a union member's `str`
            continue
        parts.append(shown)
    return ".".join(parts)


@dataclass(frozen=True, slots=True)
class UnknownKey:
    """A key that a lenient model ignored: its masked path, the model, and the key (sender's text)."""

    path: str
    model: type[BaseModel]
    key: str  # for comparing with the declared names only, never for output


def unknown_keys(document: object, model: type[BaseModel], where: str = "") -> Iterator[UnknownKey]:
    """Each key of `document` that a lenient `model` ignores, and those of nested lenient objects."""
    fields = _lenient_fields(model)
    if fields is None or not isinstance(document, Mapping):
        return
    for key, value in document.items():
        if key not in fields:
            yield UnknownKey(field_path(where, [key], document, model), model, key)
        elif (nested := fields[key]) is not None:
            yield from unknown_keys(value, nested, f"{where}.{key}" if where else key)


@cache  # one entry per model class: every request walks the same few
def _lenient_fields(model: type[BaseModel]) -> dict[str, type[BaseModel] | None] | None:
    """A lenient model's declared fields, each with the model it holds (or None); None for a strict one."""
    if model.model_config.get("extra", "ignore") != "ignore":
        return None
    return {name: _field_model(model, name) for name in model.model_fields}


@cache  # called with declared names only (never a sender's key), so bounded by the models
def _field_model(model: type[BaseModel] | None, name: str) -> type[BaseModel] | None:
    """The model a field holds (itself, optional, or as list items); None for anything else."""
    if model is None or name not in model.model_fields:
        return None
    found = list(_models_in(model.model_fields[name].annotation))
    return found[0] if len(found) == 1 else None


def _models_in(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)
