"""Each event of a request judged on its own: usable (perhaps with warnings), or rejected with reasons.

DESIGN.md, Contracts: an unusable event is listed with its index, event_id and error paths and never
sinks the others. A property that cannot be read is left out with a warning when the event is still
worth sending (a Purchase without a readable currency is still a purchase); an event whose name, id or
time is unusable is rejected. Error paths are relative to the request and never carry values, nor
the sender's own keys (ttrelay.field_paths).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from ttrelay.collect.error_wording import wording
from ttrelay.collect.request_limits import EventTimeWindow
from ttrelay.field_paths import field_path
from ttrelay.forward.events_api import case_insensitive_standard_event
from ttrelay.models import (
    CUSTOM_PROPERTY_NAME,
    CUSTOM_PROPERTY_NAME_RULE,
    PERSONAL_DATA_ERROR,
    EventId,
    EventIn,
    Properties,
)

CUSTOM_VALUE_RULE = (
    "a custom property is a string of at most 512 characters, a finite number, a boolean or a list "
    "of at most 20 of those; left out"
)
# A pruned property is dropped and validation runs again; each pass removes at least one key, and the
# nesting is shallow (properties > contents > content), so a few passes always settle a real request.
_MAX_PASSES = 4
_DECLARED_PROPERTIES = frozenset(Properties.model_fields)
_EVENT_ID: TypeAdapter[str] = TypeAdapter(EventId)
_NO_PROPERTIES = Properties()
_LEFT_OUT = object()  # marks a value to drop, so dropping one list item does not shift the next
# A 64 KB body holds thousands of bad keys (a 1 MB answer and log line, 40 ms of CPU for the paths): each
# list of problems names this many, and one more problem counts the rest.
MAX_LISTED_PROBLEMS = 20
# Past this many validation errors in one event's properties, whole properties are left out instead of
# the fields inside them (_without_crowded_properties): the work stays bounded whatever a body holds.
MAX_PLACED_ERRORS = 100


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning about an event: a path from the request's root, a type, a message."""

    loc: str
    type: str
    msg: str


@dataclass(frozen=True, slots=True)
class UsableEvent:
    index: int
    event: EventIn
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class UnusableEvent:
    index: int
    event_id: str | None
    errors: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Judgement:
    usable: list[UsableEvent] = field(default_factory=list)
    rejected: list[UnusableEvent] = field(default_factory=list)
    # About the request rather than one event (an unknown top-level field, the request's `user`).
    warnings: list[Problem] = field(default_factory=list)

    def with_match_key_warnings(
        self, user: Sequence[str], events: Sequence[Sequence[str]], default_phone_region: str | None
    ) -> Judgement:
        """The judgement plus a warning per match key whose value is left out because it cannot be
        normalised (`user`'s, and each usable event's properties', in order: names as
        ttrelay.privacy.match_keys.MatchKeyReading.unusable gives them); never the value."""
        if not user and not any(events) and len(events) == len(self.usable):
            return self  # the usual request: every match key could be read
        usable = [
            replace(
                event,
                warnings=(
                    *event.warnings,
                    *_match_key_problems(unusable, f"events.{event.index}.properties", default_phone_region),
                ),
            )
            if unusable
            else event  # the usual event: nothing to add
            for event, unusable in zip(self.usable, events, strict=True)
        ]
        warnings = [*self.warnings, *_match_key_problems(user, "user", default_phone_region)]
        return Judgement(usable, self.rejected, warnings)


def judge_events(raw_events: Sequence[object], window: EventTimeWindow) -> Judgement:
    judgement = Judgement()
    for index, raw in enumerate(raw_events):
        verdict = judge_event(index, raw, window)
        if isinstance(verdict, UnusableEvent):
            judgement.rejected.append(verdict)
        else:
            judgement.usable.append(verdict)
    return judgement


def judge_event(index: int, raw: object, window: EventTimeWindow) -> UsableEvent | UnusableEvent:
    where = f"events.{index}"
    if not isinstance(raw, Mapping):
        return UnusableEvent(index, None, (Problem(where, "model_type", "an event is a JSON object"),))
    raw_properties = raw.get("properties")
    readable = isinstance(raw_properties, Mapping) or raw_properties is None
    # Properties are judged key by key, and the event validated with the result in place (a model instance
    # is taken as it is), so the event is built once. An event's own errors still come first below.
    properties, warnings = (
        judge_properties(raw_properties or {}, f"{where}.properties") if readable else (None, [])
    )
    document = {**raw, "properties": properties or _NO_PROPERTIES} if readable else raw
    try:
        event = EventIn.model_validate(document)
    except ValidationError as exc:
        event_id = _event_id_or_none(raw.get("event_id"))  # read only for an answer that names it
        return UnusableEvent(index, event_id, tuple(_problems(exc, where, document, EventIn)))
    if event.event_time is not None and not window.admits(event.event_time):
        return UnusableEvent(
            index, event.event_id, (Problem(f"{where}.event_time", "event_time_window", window.rule),)
        )
    if properties is None:
        return UnusableEvent(index, event.event_id, tuple(warnings))
    if (standard := case_insensitive_standard_event(event.event)) is not None:
        message = f"did you mean {standard}? TikTok treats names case-sensitively; sent as custom"
        warnings.insert(0, Problem(f"{where}.event", "event_name_case", message))
    return UsableEvent(index, event, tuple(warnings))


def judge_properties(raw: Mapping[str, object], where: str) -> tuple[Properties | None, list[Problem]]:
    """The properties without what cannot be read, and a warning per left-out field.

    None (and the errors) when the object as a whole is unusable, e.g. too many custom properties."""
    warnings = _ProblemList(where)
    data = _admitted(raw, warnings)
    for _ in range(_MAX_PASSES):
        try:
            return Properties.model_validate(data), warnings.listed()
        except ValidationError as exc:
            errors = exc.errors(include_input=False, include_url=False, include_context=False)
        if len(errors) > MAX_PLACED_ERRORS:
            if whole := [
                error for error in errors if not error["loc"] or error["type"] == PERSONAL_DATA_ERROR
            ]:
                return None, [*warnings.listed(), *_problems_of(whole, where, data, Properties)]
            data = _without_crowded_properties(data, errors, warnings)
            continue
        paths: dict[tuple[str | int, ...], ErrorDetails] = {}
        for error in errors:  # a union reports one error per member: the first one says most
            paths.setdefault(_existing_path(data, error["loc"]), error)
        if () in paths:
            return None, [*warnings.listed(), *_problems_of([paths[()]], where, data, Properties)]
        # A match key holding an email or phone where none belongs (city, zip_code) is a site's mistake
        # to fix, not a field to drop quietly: the event is rejected, its neighbours go on.
        if personal := [error for error in paths.values() if error["type"] == PERSONAL_DATA_ERROR]:
            return None, [*warnings.listed(), *_problems_of(personal, where, data, Properties)]
        for path, error in paths.items():
            warnings.note(path, data, error["type"], _left_out_message(path, error))
        data = _purged(_marked(data, set(paths)))
    unreadable = Problem(where, "properties_unreadable", "the properties could not be read")
    return None, [*warnings.listed(), unreadable]


_CUSTOM_SCALARS = (bool, int, float, str)


def _admitted(raw: Mapping[str, object], warnings: _ProblemList) -> dict[str, object]:
    """The properties worth validating: declared ones, and custom ones with a valid name and a scalar
    or a list of scalars. The rest are left out here with a warning, before pydantic, whose union of five
    custom value types reports five errors for every `{}` (12,500 in a 64 KB body)."""
    data: dict[str, object] = {}
    for key, value in raw.items():
        if key in _DECLARED_PROPERTIES:
            data[key] = value
            continue
        if not CUSTOM_PROPERTY_NAME.fullmatch(key):
            kind, message = "custom_property_name", f"{CUSTOM_PROPERTY_NAME_RULE}; left out"
        elif _custom_shaped(value):
            data[key] = value
            continue
        else:
            kind, message = "custom_value_type", CUSTOM_VALUE_RULE
        # The name is the site's text: reported by rule, never echoed.
        warnings.note([key], raw, kind, message)
    return data


def _custom_shaped(value: object) -> bool:
    if type(value) is list:
        return all(type(item) in _CUSTOM_SCALARS for item in value)
    return type(value) in _CUSTOM_SCALARS


def _without_crowded_properties(
    data: dict[str, object], errors: list[ErrorDetails], warnings: _ProblemList
) -> dict[str, object]:
    """The properties without every one that has an error, each left out whole with one warning.

    Placing thousands of errors one by one (a 64 KB body of 50 events with 200 broken contents each)
    costs more CPU than a request may; no real page breaks that many fields, so past MAX_PLACED_ERRORS
    the unit left out is the property, not the field inside it."""
    crowded = {
        name for name in {error["loc"][0] for error in errors} if isinstance(name, str) and name in data
    }
    message = f"one of {len(errors)} problems in these properties, too many to list; left out whole"
    for name in crowded:
        warnings.note([name], data, "too_many_problems", message)
    return {key: value for key, value in data.items() if key not in crowded}


@dataclass(slots=True)
class _ProblemList:
    """At most MAX_LISTED_PROBLEMS problems, then a count of the others under `where`."""

    where: str
    problems: list[Problem] = field(default_factory=list)
    unlisted: int = 0

    def note(self, path: Sequence[str | int], properties: object, kind: str, message: str) -> None:
        """Lists a problem of the properties while there is room, else counts it. Its path is built only
        when listed: it is the costly part (ttrelay.field_paths), and a body can hold thousands."""
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(Problem(field_path(self.where, path, properties, Properties), kind, message))
        else:
            self.unlisted += 1

    def listed(self) -> list[Problem]:
        if not self.unlisted:
            return list(self.problems)
        more = Problem(self.where, "more_problems", f"{self.unlisted} more problems of this kind not listed")
        return [*self.problems, more]


def _left_out_message(path: tuple[str | int, ...], error: ErrorDetails) -> str:
    if path[0] not in _DECLARED_PROPERTIES:
        return CUSTOM_VALUE_RULE
    if error["type"] == "missing":  # a content without its content_id: the whole item goes
        return f"{error['loc'][-1]} is required; left out"
    return f"{wording(error)}; left out"


def _existing_path(data: object, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The part of a pydantic error location that exists in the data.

    Union members add tags such as `list[...]` or `constrained-str` that are not keys of the data; a
    missing required key (`contents.0.content_id`) points at its container, which then goes."""
    path: list[str | int] = []
    node = data
    for part in loc:
        # dict, not Mapping: the data is parsed JSON, and the ABC check cost a third of this (37,500 calls
        # for 50 events of 50 unreadable custom properties, five union members each).
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            break
        node = node[part]  # type: ignore[index]
        path.append(part)
    return tuple(path)


def _marked(node: object, paths: set[tuple[str | int, ...]], at: tuple[str | int, ...] = ()) -> object:
    """The data with `_LEFT_OUT` wherever a path points (an outer path covers the inner ones)."""
    if at in paths:
        return _LEFT_OUT
    if isinstance(node, Mapping):
        return {key: _marked(value, paths, (*at, key)) for key, value in node.items()}
    if isinstance(node, list):
        return [_marked(item, paths, (*at, position)) for position, item in enumerate(node)]
    return node


def _purged(data: object) -> dict[str, object]:
    assert isinstance(data, dict)
    return {key: _purged_value(value) for key, value in data.items() if value is not _LEFT_OUT}


def _purged_value(node: object) -> object:
    if isinstance(node, dict):
        return _purged(node)
    if isinstance(node, list):
        return [_purged_value(item) for item in node if item is not _LEFT_OUT]
    return node


def _event_id_or_none(value: object) -> str | None:
    """The event's id for the answer when it is a well-formed id; anything else is not echoed."""
    try:
        return _EVENT_ID.validate_python(value)
    except ValidationError:
        return None


def _problems(exc: ValidationError, where: str, document: object, model: type[EventIn]) -> Iterator[Problem]:
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    yield from _problems_of(errors, where, document, model)


def _problems_of(
    errors: Sequence[ErrorDetails], where: str, document: object, model: type[EventIn] | type[Properties]
) -> Iterator[Problem]:
    listed = _ProblemList(where, unlisted=max(0, len(errors) - MAX_LISTED_PROBLEMS))
    for error in errors[:MAX_LISTED_PROBLEMS]:
        listed.problems.append(
            Problem(field_path(where, error["loc"], document, model), error["type"], wording(error))
        )
    yield from listed.listed()


def _match_key_problems(
    unusable: Sequence[str], where: str, default_phone_region: str | None
) -> list[Problem]:
    region = default_phone_region
    return [
        Problem(f"{where}.{name}", "match_key_unusable", _unusable_match_key_message(name, region))
        for name in unusable
    ]


def _unusable_match_key_message(name: str, default_phone_region: str | None) -> str:
    if name == "email":
        return "not an email address; left out of the match keys"
    if name in ("phone", "phone_number") and not default_phone_region:
        return (
            "not a phone number with + and country code, and no default phone region is configured; "
            "left out of the match keys"
        )
    if name in ("phone", "phone_number"):
        return "not a valid phone number; left out of the match keys"
    return "cannot be normalised; left out of the match keys"
