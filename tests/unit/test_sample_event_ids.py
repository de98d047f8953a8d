"""The sample Lambda events (events/*.json) never reuse an event id of the README's quick start: the
forwarder deduplicates by event id, so a sample invoked after the quick start would silently send
nothing."""

import json
import re
from pathlib import Path
from typing import Any

from support.paths import ROOT

EVENT_ID = re.compile(r'"event_id":\s*"([^"]+)"')


def sample_event_ids(path: Path) -> list[str]:
    event: dict[str, Any] = json.loads(path.read_text())
    bodies = [record["body"] for record in event.get("Records", [])] or [event.get("body", "{}")]
    return [item["event_id"] for body in bodies for item in json.loads(body).get("events", [])]


def test_every_sample_event_id_is_its_own_and_none_is_the_quick_starts() -> None:
    quick_start = set(EVENT_ID.findall((ROOT / "README.md").read_text()))
    assert "order-1001" in quick_start  # the quick start is still read from where it is
    samples = [
        event_id for path in sorted((ROOT / "events").glob("*.json")) for event_id in sample_event_ids(path)
    ]
    assert len(samples) >= 5  # every sample with events was read
    assert len(set(samples)) == len(samples), samples
    assert not quick_start & set(samples)
