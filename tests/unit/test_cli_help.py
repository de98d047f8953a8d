"""The `ttrelay` command line helps: every command answers --help with its options, their meaning and
defaults, and a value that is not a consent string at all is called out as such."""

from __future__ import annotations

import os
import subprocess

import pytest
from support.paths import ROOT, load_vectors
from ttrelay_dev.cli import main

# Per command: fragments its --help must show (an option's description, a default).
HELP = {
    (): ["status [--stack-name N]", "dlq inspect|redrive", "consent decode-tcf S", "ttrelay COMMAND --help"],
    ("dev",): [
        "--port PORT",
        "HTTP port of the local front",
        "(default: ",
        "--pixel PIXEL",
        "pixel code to accept",
        "--test-event-code",
        "TikTok test event code",
        "--parameter-overrides",
        "template parameters",
    ],
    ("invoke",): ["logical id in template.yaml", "--event", "event JSON file", "--root", "project root"],
    ("status",): [
        "--stack-name",
        "a deployed ttrelay stack",
        "--state-file",
        "(default: .local-",
        "--window-minutes",
        "(default: 60)",
        "attention",
    ],
    ("dlq",): [
        "inspect: summarise",
        "redrive: move messages",
        "--limit",
        "(default: 1000)",
        "--dlq-url",
        "the dead-letter queue's URL",
        "--queue-url",
    ],
    ("keys",): ["create", "make a key (printed once)", "list", "revoke", "remove a key (either kind) by id"],
    ("keys", "create"): [
        "--pixel",
        "repeatable",
        "--all-pixels",
        "--label",
        "--publishable",
        "--host",
        "--rate-limit",
        "(default 100)",
        "--stack-name",
        "(default: .local-",
    ],
    ("keys", "list"): ["--secret-id", "the API-keys secret's ARN or name", "--stack-name"],
    ("keys", "revoke"): ["key_id", "as `ttrelay keys list` shows it", "--secret-id"],
    ("consent",): ["decode-tcf STRING", "decode-gpp STRING", "decide [FLAGS]"],
    ("consent", "decode-tcf"): ["STRING", "TCF v2 TC string", "not URL-encoded", "exit 2"],
    ("consent", "decode-gpp"): ["STRING", "IAB GPP string", "not URL-encoded", "exit 2"],
    ("consent", "decide"): [
        "--country",
        "ISO 3166-1",
        "--gpp-sid",
        "(default: none)",
        "--now",
        "(default: now)",
    ],
    ("openapi",): ["docs/openapi.json"],
    ("chaos",): [
        "--events",
        "unique events to send",
        "(default: 20000)",
        "--error-rate",
        "(default: 0.3)",
        "--crash-rate",
        "kill the process",
        "--permanent-events",
        "end in the DLQ",
        "--delivery-bound",
        "--log-dir",
    ],
}


@pytest.mark.parametrize("command", sorted(HELP), ids=lambda command: " ".join(command) or "ttrelay")
def test_every_command_explains_its_options(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal's width
    for fragment in HELP[command]:
        assert fragment in out, (command, fragment)
    assert "(default: None)" not in out  # an unset option has nothing worth showing


def test_help_never_shows_an_unhelpful_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--help"]) == 0
    out = capsys.readouterr().out
    assert "(default: None)" not in out and "(default: False)" not in out


def test_bad_arguments_return_2_instead_of_raising(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--window-minutes", "soon"]) == 2
    assert "invalid int value" in capsys.readouterr().err
    assert main(["consent", "nope"]) == 2
    assert "unknown subcommand 'nope'" in capsys.readouterr().err
    assert main(["consent"]) == 2
    assert main(["consent", "decode-tcf"]) == 2
    assert main(["consent", "decode-tcf", "a", "b"]) == 2


TCF_V2 = next(case["input"] for case in load_vectors("tcf.json")["cases"] if case["expect"] != "invalid")


@pytest.mark.parametrize(
    ("sub", "value", "hint"),
    [
        ("decode-tcf", "DBABTA~1YNN", "this looks like a GPP string (starts with D...)"),
        ("decode-gpp", TCF_V2, "this looks like a TC string (starts with C...)"),
        ("decode-tcf", "CQSbk4AQSbk4ANwAAAENAwCg%2EIDKQA", "URL-encoded"),
        ("decode-gpp", "DBABTA%7E1YNN", "URL-encoded"),
        ("decode-tcf", f'"{TCF_V2}"', "quotes"),
        ("decode-tcf", "1YNN", "US Privacy string"),
        ("decode-tcf", "", "empty"),
    ],
)
def test_a_value_that_is_not_this_kind_of_string_says_so(
    sub: str, value: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["consent", sub, value]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and hint in captured.err


def test_a_value_starting_with_a_dash_is_decoded_not_read_as_an_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["consent", "decode-tcf", "-CQSbk4A"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" not in err and "usage" not in err


def test_a_valid_string_still_decodes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consent", "decode-tcf", TCF_V2]) == 0
    assert '"version": 2' in capsys.readouterr().out


def test_a_zero_default_is_shown_but_an_unset_one_is_not() -> None:
    import argparse

    from ttrelay_dev.cli.help import HelpFormatter

    parser = argparse.ArgumentParser(prog="x", formatter_class=HelpFormatter)
    parser.add_argument("--retries", type=int, default=0, help="how many retries")
    parser.add_argument("--name", help="a name")
    parser.add_argument("--dry-run", action="store_true", help="print only")
    text = " ".join(parser.format_help().split())
    assert "how many retries (default: 0)" in text
    assert "a name --dry-run" in text and "print only" in text and "(default: False)" not in text


def test_help_shows_the_port_in_effect(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "3100")
    assert main(["--help"]) == 0
    assert "http://127.0.0.1:3100" in capsys.readouterr().out
    assert main(["dev", "--help"]) == 0
    assert "(default: 3100)" in " ".join(capsys.readouterr().out.split())
    for command, env in ((["make", "help"], {"PORT": "3100"}), (["make", "help", "PORT=3200"], {})):
        made = subprocess.run(
            command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=True
        )
        assert f"http://127.0.0.1:{env.get('PORT', '3200')}" in made.stdout
        assert "3000" not in made.stdout
    monkeypatch.delenv("PORT")
    assert main(["--help"]) == 0
    assert "http://127.0.0.1:3000" in capsys.readouterr().out
