"""`make build` and `make deploy`: the pinned SAM CLI, python3.13 on PATH, the deploy check before SAM.

`make deploy` cannot run here (no AWS account): its command lines are read with `make -n`, and its deploy
check runs as make would run it, with `--dry-run` (the sam command it would start is printed). `make
build` runs for real once (SAM's build cache makes it a few seconds after the first build).
docs/deploy.md must describe every template parameter.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SAM = ".tools/sam/bin/sam"
MAKE_ENV = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS"))}


def make_n(*args: str) -> list[str]:
    """The recipe lines `make -n` prints (nothing is run, except the Makefile's $(shell ...) reads)."""
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", *args],
        cwd=REPO_ROOT,
        env=MAKE_ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def sam_line(lines: list[str], subcommand: str) -> list[str]:
    matches = [shlex.split(line) for line in lines if f"{SAM} {subcommand}" in line]
    assert len(matches) == 1, lines
    return matches[0]


def path_of(words: list[str]) -> list[str]:
    return next(word for word in words if word.startswith("PATH=")).removeprefix("PATH=").split(os.pathsep)


def test_build_runs_the_pinned_sam_with_python313_first_on_path() -> None:
    words = sam_line(make_n("build"), "build")
    assert words[words.index(SAM) + 1] == "build"
    python313 = Path(path_of(words)[0]) / "python3.13"
    assert python313.is_file(), python313  # sam build's "Binary validation" finds the runtime here
    version = subprocess.run(
        [str(python313), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version.strip() == "(3, 13)"
    assert "SAM_CLI_TELEMETRY=0" in words


def _samconfig(tmp_path: Path, overrides: str | None) -> Path:
    config = tmp_path / "samconfig.toml"
    deploy = f"[default.deploy.parameters]\nparameter_overrides = {overrides}\n" if overrides else ""
    config.write_text(
        f'version = 0.1\n[default.global.parameters]\nstack_name = "ttrelay"\nregion = "eu-west-1"\n{deploy}'
    )
    return config


def deploy_check_line(*args: str) -> list[str]:
    """make deploy's one command after the build: the deploy check, which runs sam deploy itself."""
    lines = make_n("deploy", *args)
    assert sam_line(lines, "build")  # deploy builds first
    assert not [line for line in lines if f"{SAM} deploy" in line]  # sam deploy only through the check
    joined = " ".join(lines).replace("\\ ", " ")
    words = shlex.split(
        joined[joined.index("SAM_CLI_TELEMETRY=0 .venv/bin/python -m ttrelay_dev.cli.deploy_check") :]
    )
    assert words[words.index("--sam") + 1] == SAM
    return words


def run_deploy_check(words: list[str]) -> subprocess.CompletedProcess[str]:
    """make deploy's check as make would run it, without a terminal, printing the sam command it would run."""
    return subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "python"), *words[words.index("-m") :], "--dry-run"],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_first_deploy_without_a_terminal_deploys_nothing_and_says_what_to_set() -> None:
    words = deploy_check_line()
    assert words[words.index("--config-file") + 1] == str(REPO_ROOT / "samconfig.toml")
    assert words[words.index("--config-env") + 1] == "default"
    result = run_deploy_check(words)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "make deploy: PixelCodes: not set." in result.stderr
    assert "make deploy: AllowedOrigins: not set." in result.stderr
    assert "nothing deployed" in result.stderr and "sam" not in result.stdout


def test_deploy_refuses_the_example_pixel_and_origins_in_samconfig(tmp_path: Path) -> None:
    config = _samconfig(
        tmp_path,
        '["PixelCodes=CXXXXXXXXXXXXXXXXXXX", "AllowedOrigins=https://www.example.com,https://example.com"]',
    )
    result = run_deploy_check(deploy_check_line(f"SAMCONFIG={config}"))
    assert result.returncode == 2
    assert "PixelCodes: CXXXXXXXXXXXXXXXXXXX is an example, not your pixel." in result.stderr
    assert "AllowedOrigins: https://www.example.com is an example" in result.stderr
    # What `sam deploy --guided` saves (one string) is read and refused the same way.
    config = _samconfig(tmp_path, '\'PixelCodes="CNOTAPIXEL" AllowedOrigins="https://shop.acme-shoes.com"\'')
    result = run_deploy_check(deploy_check_line(f"SAMCONFIG={config}"))
    assert result.returncode == 2
    assert "PixelCodes: 'CNOTAPIXEL' is not a pixel code (20 upper-case letters and digits)" in result.stderr


def test_deploy_is_plain_sam_deploy_once_samconfig_holds_your_parameters(tmp_path: Path) -> None:
    config = _samconfig(
        tmp_path, '["PixelCodes=C1234567890ABCDEFGHI", "AllowedOrigins=https://shop.acme-shoes.com"]'
    )
    result = run_deploy_check(deploy_check_line(f"SAMCONFIG={config}"))
    assert result.returncode == 0, result.stderr
    assert shlex.split(result.stdout) == [
        SAM, "deploy", "--config-file", str(config), "--config-env", "default"
    ]  # fmt: skip
    # Another stack, another config env, or being asked again are one variable each.
    words = deploy_check_line(f"SAMCONFIG={config}", "STACK=ttrelay-staging")
    assert shlex.split(run_deploy_check(words).stdout)[-2:] == ["--stack-name", "ttrelay-staging"]
    assert "--ask" in deploy_check_line(f"SAMCONFIG={config}", "GUIDED=1")
    assert "--allow-local-origins" in deploy_check_line(f"SAMCONFIG={config}", "ALLOW_LOCAL_ORIGINS=1")
    words = deploy_check_line(f"SAMCONFIG={config}", "CONFIG_ENV=prod")
    assert run_deploy_check(words).returncode == 2  # prod has no parameters yet


def test_the_repository_samconfig_sets_everything_but_what_a_site_owner_decides() -> None:
    from ttrelay_dev.cli.deploy_check import QUESTIONS, read_config

    template = yaml.load((REPO_ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    config = read_config(REPO_ROOT / "samconfig.toml", "default", environ={})
    asked = {question.name for question in QUESTIONS}
    assert config.region == "eu-west-1"
    assert set(config.parameters) <= set(template["Parameters"])
    assert not asked & set(config.parameters)  # nothing asked is preset, so no example can be kept
    # The region lives where `sam deploy --save-params` writes it: a deploy-section region would win.
    raw = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    assert "region" not in raw["default"]["deploy"]["parameters"]


@pytest.mark.sam
def test_sam_saves_the_checked_answers_so_the_next_deploy_asks_nothing(tmp_path: Path) -> None:
    """The deploy check's sam command, run by the pinned SAM without AWS credentials: it saves, then stops."""
    from ttrelay_dev.cli.deploy_check import DeployConfig, problems, read_config, sam_deploy_argv

    config_file = tmp_path / "samconfig.toml"
    config_file.write_text((REPO_ROOT / "samconfig.toml").read_text())
    before = read_config(config_file, "default", environ={})
    answers = {
        "region": "us-east-2",
        "PixelCodes": "C1234567890ABCDEFGHI,C2234567890ABCDEFGHI",
        "AllowedOrigins": "https://www.acme-shoes.com,https://acme-shoes.com",
        "AlarmEmail": "",
    }
    argv = sam_deploy_argv(str(REPO_ROOT / SAM), config_file, "default", "", before, answers)
    result = subprocess.run(
        [*argv, "--template-file", str(REPO_ROOT / "template.yaml")],
        cwd=tmp_path,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "SAM_CLI_TELEMETRY": "0",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "Saved parameters to config file" in result.stdout + result.stderr, result.stderr[-2000:]
    after = read_config(config_file, "default", environ={})
    assert after == DeployConfig(
        "us-east-2", before.parameters | {k: v for k, v in answers.items() if k != "region"}
    )
    assert problems(after.values(), allow_local=False) == {}


@pytest.mark.sam
@pytest.mark.timeout(600)  # the first build in a clone fetches the layer's wheels; later ones are cached
def test_make_build_builds() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "build"],
        cwd=REPO_ROOT,
        env=MAKE_ENV,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Build Succeeded" in result.stdout
    built = REPO_ROOT / ".aws-sam" / "build"
    assert (built / "template.yaml").is_file()
    assert (built / "TtrelayLayer" / "python" / "ttrelay" / "forward" / "use_case.py").is_file()
    assert not (
        built / "TtrelayLayer" / "python" / "ttrelay_dev"
    ).exists()  # the CLI and local stack stay out
    assert (built / "ForwardFunction" / "app.py").is_file()
    # Each function's requirements.txt says its dependencies come with the layer, so SAM does not warn.
    assert "requirements.txt file not found" not in result.stdout + result.stderr


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !If ...) as plain values: only the names matter here."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_docs_deploy_describes_every_template_parameter() -> None:
    template = yaml.load((REPO_ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    documented = set(re.findall(r"^\| `(\w+)` \|", (REPO_ROOT / "docs" / "deploy.md").read_text(), re.M))
    missing = sorted(set(template["Parameters"]) - documented)
    assert not missing, f"add these parameters to the table in docs/deploy.md: {missing}"


def test_per_pixel_test_codes_reach_the_forwarder() -> None:
    text = (REPO_ROOT / "template.yaml").read_text()
    template = yaml.load(text, Loader=_CfnLoader)  # noqa: S506
    parameter = template["Parameters"]["TestEventCodes"]
    assert parameter["Type"] == "CommaDelimitedList" and parameter["Default"] == ""
    assert "TestEventCodes" in next(
        group["Parameters"]
        for group in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        if "TestEventCode" in group["Parameters"]
    )
    # The short tags read as None above; the variable's source is checked on the text itself.
    assert 'TEST_EVENT_CODES: !Join [",", !Ref TestEventCodes]' in text
