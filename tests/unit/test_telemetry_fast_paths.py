"""The per-request observability code takes shortcuts (ttrelay.observability): each must say exactly what
the plain way says. Here each is compared with the plain way over many inputs, so that a change that
breaks the equivalence fails."""

import json
import logging
import string
from collections.abc import Callable, Mapping
from functools import partial
from itertools import product
from types import MappingProxyType
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from hypothesis import given, settings
from hypothesis import strategies as st
from ttrelay.models import QueuedEvents, SharedContext, TikTokEvent, TikTokUser
from ttrelay.observability.match_coverage import MATCH_KEYS, carried_match_keys, match_key_coverage
from ttrelay.observability.pixel_metrics import metrics_disabled
from ttrelay.observability.telemetry import _message_from_json, logger, without_empty


def plain_without_empty(record: Mapping[str, object]) -> dict[str, object]:
    kept: dict[str, object] = {}
    for key, value in record.items():
        compact = plain_without_empty(value) if isinstance(value, Mapping) else value
        if compact not in (None, [], {}):
            kept[key] = compact
    return kept


class Weird(int):
    def __eq__(self, other: object) -> bool:  # equal to everything, the empty list included
        return True

    __hash__ = int.__hash__


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
    st.tuples(),
    st.just(Weird(0)),
    st.just({}),
    st.just(MappingProxyType({})),
)
records = st.recursive(
    st.dictionaries(st.text(max_size=2), leaves, max_size=5),
    lambda children: st.dictionaries(
        st.text(max_size=2), st.one_of(leaves, children, children.map(MappingProxyType)), max_size=5
    ),
    max_leaves=20,
)


@settings(max_examples=400)
@given(records)
def test_without_empty_leaves_out_what_the_plain_comprehension_leaves_out(record: dict[str, Any]) -> None:
    ours, plain = without_empty(record), plain_without_empty(record)
    assert ours == plain
    assert json.dumps(ours, default=repr) == json.dumps(plain, default=repr)  # the same order, nested too


def as_the_formatter_reads(message: str, deserializer: Callable[[str], object] = json.loads) -> object:
    """LambdaPowertoolsFormatter._extract_log_message: the deserialised message, or the message itself."""
    try:
        return deserializer(message)
    except ValueError:
        return message


@settings(max_examples=400)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=' \t\n\r"{}[]-0123456789.eEntrufalsNIy', max_size=8),
        st.sampled_from(["", "collected", "null", "NaN", "-Infinity", " 1", "\ufeff1", '"x"', "{}", "1 2"]),
    )
)
def test_a_message_is_logged_as_json_loads_would_read_it(message: str) -> None:
    ours, plain = as_the_formatter_reads(message, _message_from_json), as_the_formatter_reads(message)
    assert json.dumps(ours) == json.dumps(plain)  # NaN included, which is not equal to itself
    assert type(ours) is type(plain)


def powertools_own_formatter() -> LambdaPowertoolsFormatter:
    """The formatter Powertools would build, with the options and keys of ours."""
    ours = logger.registered_formatter
    assert isinstance(ours, LambdaPowertoolsFormatter)
    plain = LambdaPowertoolsFormatter(use_rfc3339=True)
    plain.log_format = dict(ours.log_format)
    # What ours replicates with one encoder (telemetry._reuse_one_json_encoder).
    assert isinstance(plain.json_serializer, partial) and plain.json_serializer.func is json.dumps
    assert plain.json_serializer.keywords == {
        "default": str,
        "separators": (",", ":"),
        "indent": None,
        "ensure_ascii": False,
    }
    return plain


@settings(max_examples=200)
@given(
    st.sampled_from(["collected", "rejected", '{"a": 1}', "[1, 2]", " 3", "é ü"]),
    st.dictionaries(
        st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6).filter(
            lambda key: (
                key not in logging.LogRecord("n", 20, "p", 1, "m", (), None).__dict__
                and key not in ("message", "asctime")
            )
        ),
        st.one_of(st.integers(), st.text(), st.lists(st.text(max_size=3)), st.builds(object), records),
        max_size=4,
    ),
)
def test_our_log_line_is_the_line_powertools_own_formatter_writes(
    message: str, extra: dict[str, Any]
) -> None:
    record = logging.LogRecord("ttrelay", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    assert logger.registered_formatter.format(record) == powertools_own_formatter().format(record)


@pytest.mark.parametrize(
    ("dev", "disabled"), list(product([None, "true", "false", "1", "0", "yes"], repeat=2))
)
def test_metrics_are_disabled_exactly_when_powertools_says_so(
    monkeypatch: pytest.MonkeyPatch, dev: str | None, disabled: str | None
) -> None:
    for name, value in (("POWERTOOLS_DEV", dev), ("POWERTOOLS_METRICS_DISABLED", disabled)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert metrics_disabled() == is_metrics_disabled()


def test_an_invalid_setting_still_fails_as_powertools_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "maybe")
    with pytest.raises(ValueError, match="invalid truth value"):
        metrics_disabled()


def plain_coverage(message: QueuedEvents) -> dict[str, int]:
    counts = dict.fromkeys(MATCH_KEYS, 0)
    shared = message.shared.user if message.shared else None
    for event in message.events:
        present = {
            name
            for user in (shared, event.user)
            if user is not None
            for name in ("ttclid", "ttp", "email", "phone", "external_id", "ip", "user_agent")
            if getattr(user, name)
        }
        for key in carried_match_keys(present):
            counts[key] += 1
    return counts


users = st.builds(
    TikTokUser,
    email=st.sampled_from([None, [], ["h"]]),
    phone=st.sampled_from([None, ["h"]]),
    external_id=st.sampled_from([None, ["h"]]),
    ttclid=st.sampled_from([None, "", "c"]),
    ttp=st.sampled_from([None, "t"]),
    ip=st.sampled_from([None, "203.0.113.1"]),
    user_agent=st.sampled_from([None, "", "ua"]),
    city=st.sampled_from([None, "x"]),
)
messages = st.builds(
    QueuedEvents,
    shared=st.one_of(st.none(), st.builds(SharedContext, user=users)),
    events=st.lists(
        st.builds(
            TikTokEvent, event=st.just("Lead"), event_time=st.just(1), event_id=st.just("e"), user=users
        ),
        min_size=1,
        max_size=6,
    ),
)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_match_key_coverage_counts_each_event_as_tiktok_gets_it(message: QueuedEvents) -> None:
    assert match_key_coverage(message) == plain_coverage(message)
