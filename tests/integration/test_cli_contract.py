"""The `ttrelay consent` CLI as the maintainers' checks call it: the installed binary, every vector."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import load_vectors

TTRELAY = str(Path(sys.executable).parent / "ttrelay")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TTRELAY, "consent", *args], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize(("command", "vectors"), [("decode-tcf", "tcf.json"), ("decode-gpp", "gpp.json")])
def test_decoders_print_the_expected_json_or_exit_2(command: str, vectors: str) -> None:
    for case in load_vectors(vectors)["cases"]:
        result = run(command, case["input"])
        if case["expect"] == "invalid":
            assert result.returncode == 2, case["id"]
            assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, case["id"]
            continue
        assert result.returncode == 0, (case["id"], result.stderr)
        decoded = json.loads(result.stdout)
        if command == "decode-tcf":
            assert decoded == case["expect"], case["id"]
        else:
            assert decoded["version"] == case["expect"]["version"]
            assert decoded["section_ids"] == case["expect"]["section_ids"], case["id"]
            for prefix, fields in case["expect"]["sections"].items():
                actual = decoded["sections"][prefix]
                assert {key: actual[key] for key in fields} == fields, (case["id"], prefix)


def test_decide_matches_every_decision_vector() -> None:
    for case in load_vectors("decisions.json")["cases"]:
        result = run("decide", *case["args"])
        assert result.returncode == 0, (case["id"], result.stderr)
        decision = json.loads(result.stdout)
        expected = {key: case["expect"][key] for key in ("action", "regime", "limited_data_use")}
        assert {key: decision[key] for key in expected} == expected, case["id"]
        assert set(decision) == {"action", "regime", "reason", "limited_data_use"}


def test_bad_arguments_exit_2() -> None:
    assert run("decide", "--gpc", "--now", "not-a-number").returncode == 2
    assert run("decode-tcf").returncode == 2
    assert run("nope").returncode == 2
