"""The machine's speed right now: a fixed CPU workload that runs none of ttrelay's code.

    python bench/yardstick.py OUT.json ROOT

This VM's speed changes with what its neighbours do: the same commit's warm figures have read up to a
third apart from one hour to the next, and `import boto3` with them. The yardstick is work of the same
kind as a collect request (JSON, regular expressions, URL parsing, SHA-256, small dicts and objects,
all in this interpreter) that never changes, so its change between two runs is the machine's, and a
figure that moved while the yardstick did not is the code's.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import fixtures

ROUNDS = 7
ITERATIONS = 400  # per round: about 50 ms of CPU on the machine this was written on
_WORD = re.compile(r"[A-Za-z0-9+/_-]{8,}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


@dataclass(frozen=True, slots=True)
class _Item:
    name: str
    price: float
    quantity: int


def one_iteration(number: int) -> int:
    """One request's worth of work, on the benchmark's own inputs; the result keeps it from being skipped."""
    body = fixtures.collect_body(events=2, request_no=number)
    text = json.dumps(body)
    document = json.loads(text)
    url = urlsplit(document["context"]["page_url"])  # distinct per number: urlsplit's cache cannot serve it
    pairs = parse_qsl(url.query)
    found = len(_WORD.findall(text)) + len(_EMAIL.findall(text))
    digests = [hashlib.sha256(value.encode()).hexdigest() for value in document["user"].values()]
    items = [
        _Item(content["content_name"], content["price"], content["quantity"])
        for event in document["events"]
        for content in event["properties"]["contents"]
    ]
    totals = {item.name: item.price * item.quantity for item in sorted(items, key=lambda item: item.name)}
    return found + len(pairs) + len(digests) + len(totals) + len(json.dumps(totals))


def least_iteration_ms() -> float:
    """CPU ms per iteration in the least of ROUNDS rounds: the least is the machine's speed, the rest is
    noise (as bench/run.py keeps the least of the warm runs)."""
    for number in range(ITERATIONS):  # warm-up: caches, the specialising interpreter
        one_iteration(number)
    rounds = []
    for _ in range(ROUNDS):
        started = time.thread_time()
        for number in range(ITERATIONS):
            one_iteration(number)
        rounds.append(time.thread_time() - started)
    return min(rounds) * 1000 / ITERATIONS


def main() -> None:
    out = Path(sys.argv[1])
    out.write_text(json.dumps({"cpu_ms_per_iteration": least_iteration_ms()}))


if __name__ == "__main__":
    main()
