"""`make build` and `make deploy`: the pinned SAM CLI, python3.13 on PATH, guided until configured.

`make deploy` cannot run here (no AWS account): its command lines are read with `make -n`. `make build`
runs for real once (SAM's build cache makes it a few seconds after the first build), the command lines
of both are checked with `make -n`. docs/deploy.md must describe every template parameter.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
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
    config.write_text(f'version = 0.1\n[default.global.parameters]\nstack_name = "ttrelay"\n{deploy}')
    return config


def test_deploy_is_guided_while_samconfig_holds_the_example_pixel() -> None:
    lines = make_n("deploy")
    assert sam_line(lines, "build")  # deploy builds first
    words = sam_line(lines, "deploy")
    assert "--guided" in words
    assert words[words.index("--config-file") + 1] == str(REPO_ROOT / "samconfig.toml")
    assert words[words.index("--config-env") + 1] == "default"


def test_deploy_is_guided_without_deploy_parameters(tmp_path: Path) -> None:
    words = sam_line(make_n("deploy", f"SAMCONFIG={_samconfig(tmp_path, None)}"), "deploy")
    assert "--guided" in words


def test_deploy_is_plain_once_samconfig_holds_your_parameters(tmp_path: Path) -> None:
    config = _samconfig(
        tmp_path, '["PixelCodes=C1234567890ABCDEFGHI", "AllowedOrigins=https://shop.example"]'
    )
    words = sam_line(make_n("deploy", f"SAMCONFIG={config}"), "deploy")
    assert "--guided" not in words
    assert words[words.index("--config-file") + 1] == str(config)
    # Another stack, another config env, or being asked again are one variable each.
    words = sam_line(make_n("deploy", f"SAMCONFIG={config}", "STACK=ttrelay-staging"), "deploy")
    assert words[words.index("--stack-name") + 1] == "ttrelay-staging" and "--guided" not in words
    assert "--guided" in sam_line(make_n("deploy", f"SAMCONFIG={config}", "GUIDED=1"), "deploy")
    words = sam_line(make_n("deploy", f"SAMCONFIG={config}", "CONFIG_ENV=prod"), "deploy")
    assert words[words.index("--config-env") + 1] == "prod" and "--guided" in words  # prod has none yet


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
    assert (built / "TtrelayLayer" / "python" / "ttrelay" / "forward.py").is_file()
    assert (built / "ForwardFunction" / "app.py").is_file()


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
