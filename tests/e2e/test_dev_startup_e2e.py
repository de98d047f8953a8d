"""`make dev` started twice, or with a refused parameter: one clear line, a non-zero exit, and nothing it
started left running (the port is checked before moto starts; a later failure stops every child)."""

import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from support.paths import ROOT
from support.stack import TTRELAY

pytestmark = pytest.mark.e2e
MARK = "TTRELAY_TEST_STARTUP_MARK"  # inherited by every child, so its survivors can be found


def processes_marked(mark: str) -> list[int]:
    """Live processes whose environment carries `mark` (the tried `ttrelay dev` and its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours
            continue
        if f"{MARK}={mark}".encode() in environment.split(b"\0"):
            found.append(int(entry.name))
    return found


def try_dev(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[int]]:
    mark = uuid.uuid4().hex
    result = subprocess.run(
        [TTRELAY, "dev", "--state-file", str(tmp_path / "state.json"), *args],
        cwd=ROOT,
        env={**os.environ, MARK: mark},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, processes_marked(mark)


def test_a_second_make_dev_on_the_same_port_says_so_in_one_line_and_leaves_no_moto_running(
    base: str, tmp_path: Path
) -> None:
    port = urlsplit(base).port
    result, survivors = try_dev(tmp_path, "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"ttrelay dev: port {port} is in use: another `make dev`? stop it or use `make dev PORT={port + 100}`"
    ]
    assert survivors == []
    assert not (tmp_path / "state.json").exists()
    assert httpx.get(f"{base}/_local/queue").status_code == 200  # the first stack serves on


def test_a_parameter_cloudformation_would_refuse_stops_the_moto_server_already_started(
    tmp_path: Path,
) -> None:
    result, survivors = try_dev(tmp_path, "--port", "0", "--parameter-overrides", "ForwardBatchSize=many")
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["ttrelay dev: ForwardBatchSize='many' is not a number"], (
        result.stderr
    )
    assert survivors == []
