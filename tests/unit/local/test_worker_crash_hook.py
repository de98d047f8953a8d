"""The chaos harness's crash hook is wired in by the local worker, so the runtime never imports it."""

import functools
import os
from collections.abc import Callable

import pytest
from ttrelay import runtime
from ttrelay.forward.use_case import Forwarder, no_checkpoint
from ttrelay_dev.local import worker


def _plain_forwarder() -> Callable[[], Forwarder]:
    forwarder = Forwarder(dedup=None, events_api=None, dead_letters=None, owner="fwd-test")
    return functools.cache(lambda: forwarder)


def test_the_crash_rate_installs_the_hook_and_leaves_the_runtime_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime, "forwarder", _plain_forwarder())
    monkeypatch.setenv("LOCAL_CRASH_RATE", "0.25")
    monkeypatch.setenv("LOCAL_CRASH_LOG", "/tmp/crashes.jsonl")

    worker.install_crash_hook()

    forwarder = runtime.forwarder()
    assert forwarder.checkpoint is not no_checkpoint
    assert forwarder.owner == "fwd-test"  # the same Forwarder otherwise
    assert runtime.forwarder() is forwarder  # built once per execution environment, like the original
    # ForwardSettings never sees the variables, so the runtime's own settings stay those of a deployment.
    assert "LOCAL_CRASH_RATE" not in os.environ
    assert "LOCAL_CRASH_LOG" not in os.environ


def test_without_a_crash_rate_the_forwarder_is_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    original = _plain_forwarder()
    monkeypatch.setattr(runtime, "forwarder", original)
    monkeypatch.delenv("LOCAL_CRASH_RATE", raising=False)

    worker.install_crash_hook()

    assert runtime.forwarder is original
    assert runtime.forwarder().checkpoint is no_checkpoint
