"""make deploy's questions: only what a site owner decides, asked until the answer is not an example."""

from __future__ import annotations

from pathlib import Path

import pytest
from ttrelay_dev.cli.deploy_check import (
    allowed_origins_problem,
    cookie_domain_problem,
    deploy_check_command,
    pixel_codes_problem,
)

SAM = ".tools/sam/bin/sam"
REPO_SAMCONFIG = Path(__file__).resolve().parents[2] / "samconfig.toml"


class Answers:
    """A terminal that answers the questions in turn and remembers what it was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, str]] = []

    def __call__(self, prompt: str, default: str) -> str:
        self.asked.append((prompt, default))
        return self.answers.pop(0)


@pytest.mark.parametrize(
    "codes",
    [
        "CXXXXXXXXXXXXXXXXXXX",
        "XXXXXXXXXXXXXXXXXXXX",
        "CNEWPIXEL00000000000",
        "C1234567890ABCDEFGHI,cnotapixel",
        "",
    ],
)
def test_example_and_malformed_pixel_codes_are_refused(codes: str) -> None:
    assert pixel_codes_problem(codes) is not None


@pytest.mark.parametrize(
    "origins",
    [
        "https://www.example.com",
        "https://shop.example.org",
        "https://example.net",
        "https://shop.example",
        "https://www.acme-shoes.com,http://localhost:3000",
        "http://www.acme-shoes.com",
        "https://www.acme-shoes.com/checkout",
        "www.acme-shoes.com",
    ],
)
def test_example_local_and_malformed_origins_are_refused(origins: str) -> None:
    assert allowed_origins_problem(origins) is not None


def test_real_values_pass_and_local_origins_only_when_allowed() -> None:
    assert pixel_codes_problem("C1234567890ABCDEFGHI,CABCDEFGHIJ123456789") is None
    assert allowed_origins_problem("https://www.acme-shoes.com,https://acme-shoes.com") is None
    assert allowed_origins_problem("") is None  # back ends only: a deliberate choice
    assert allowed_origins_problem("http://localhost:3000,http://127.0.0.1:8080", allow_local=True) is None
    assert allowed_origins_problem("https://www.example.com", allow_local=True) is not None
    assert cookie_domain_problem(".example.com") is not None
    assert cookie_domain_problem(".acme-shoes.com") is None


def test_a_first_deploy_asks_four_questions_and_re_asks_examples(capsys: pytest.CaptureFixture[str]) -> None:
    terminal = Answers(
        "",  # region: keeps samconfig's eu-west-1
        "CXXXXXXXXXXXXXXXXXXX",
        "C1234567890ABCDEFGHI",
        "https://www.example.com",
        "https://www.acme-shoes.com,https://acme-shoes.com",
        "",  # no alarm e-mail
    )
    argv = ["--sam", SAM, "--config-file", str(REPO_SAMCONFIG), "--dry-run"]
    assert deploy_check_command(argv, ask=terminal, interactive=True) == 0
    assert [prompt.split(" ")[0] for prompt, _ in terminal.asked] == [
        "AWS", "TikTok", "TikTok", "your", "your", "e-mail"
    ]  # fmt: skip
    assert terminal.asked[0][1] == "eu-west-1"
    out = capsys.readouterr().out
    assert "PixelCodes: CXXXXXXXXXXXXXXXXXXX is an example, not your pixel." in out
    assert "AllowedOrigins: https://www.example.com is an example" in out
    command = out.strip().splitlines()[-1]
    assert command.startswith(
        f"{SAM} deploy --config-file {REPO_SAMCONFIG} --config-env default --region eu-west-1"
    )
    assert "'PixelCodes=\"C1234567890ABCDEFGHI\"'" in command
    assert "'AllowedOrigins=\"https://www.acme-shoes.com,https://acme-shoes.com\"'" in command
    assert "'LogLevel=\"INFO\"'" in command  # samconfig's other parameters go along unchanged
    assert command.endswith("--save-params")


def test_a_wrong_saved_value_is_asked_again_and_the_right_ones_are_not(tmp_path: Path) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(
        'version = 0.1\n[default.global.parameters]\nregion = "eu-central-1"\n[default.deploy.parameters]\n'
        'parameter_overrides = ["PixelCodes=C1234567890ABCDEFGHI", "AllowedOrigins=https://acme-shoes.com",'
        ' "CookieDomain=.example.com"]\n'
    )
    terminal = Answers(".example.com", ".acme-shoes.com")
    argv = ["--sam", SAM, "--config-file", str(config), "--dry-run"]
    assert deploy_check_command(argv, ask=terminal, interactive=True) == 0
    assert [prompt for prompt, _ in terminal.asked] == ["CookieDomain", "CookieDomain"]
    # GUIDED=1 asks the four again, with the saved values as defaults.
    config.write_text(config.read_text().replace(".example.com", ".acme-shoes.com"))
    terminal = Answers("", "", "", "")
    assert deploy_check_command([*argv, "--ask"], ask=terminal, interactive=True) == 0
    assert [default for _, default in terminal.asked] == [
        "eu-central-1", "C1234567890ABCDEFGHI", "https://acme-shoes.com", ""
    ]  # fmt: skip
