"""The operator commands find a deployed stack's region as the AWS CLI does (--region, AWS_REGION,
AWS_DEFAULT_REGION, the profile's region), then samconfig.toml's; and `keys create` refuses a pixel the
stack does not serve. A moto stack lives in one region only, so finding it proves the region used."""

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from ttrelay.adapters import aws
from ttrelay_dev.cli import main

REGION = "eu-central-1"  # where the stack is
ELSEWHERE = "ap-southeast-2"  # what a lower-priority source says
PIXEL = "CSERVEDPIXEL00000001"


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A stack in REGION with its keys secret; no region anywhere yet; cwd without a samconfig.toml."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "CONFIG_ENV", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.chdir(tmp_path)
    aws._client.cache_clear()
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="ttrelay-api-keys", SecretString=json.dumps({"keys": []})
        )["ARN"]
        template = {
            "Parameters": {"PixelCodes": {"Type": "String"}},
            "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {"ApiKeysSecretArn": {"Value": arn}},
        }
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="ttrelay",
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": "PixelCodes", "ParameterValue": f"{PIXEL},CSERVEDPIXEL00000002"}],
        )
        yield arn
    aws._client.cache_clear()


def keys_list(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["keys", "list", "--stack-name", "ttrelay", *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def write(path: Path, text: str) -> None:
    path.write_text(text)


@pytest.mark.parametrize(
    ("option", "env", "aws_config", "samconfig"),
    [
        pytest.param(REGION, {"AWS_REGION": ELSEWHERE, "AWS_DEFAULT_REGION": ELSEWHERE}, "", "", id="option"),
        pytest.param(None, {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": ELSEWHERE}, "", "", id="AWS_REGION"),
        pytest.param(
            None,
            {"AWS_DEFAULT_REGION": REGION},
            f"[default]\nregion = {ELSEWHERE}\n",
            "",
            id="AWS_DEFAULT_REGION",
        ),
        pytest.param(
            None,
            {},
            f"[default]\nregion = {REGION}\n",
            f'[default.deploy.parameters]\nregion = "{ELSEWHERE}"\n',
            id="profile-default",
        ),
        pytest.param(
            None,
            {"AWS_PROFILE": "ops"},
            f"[default]\nregion = {ELSEWHERE}\n[profile ops]\nregion = {REGION}\n",
            "",
            id="AWS_PROFILE",
        ),
        pytest.param(
            None, {}, "", f'[default.deploy.parameters]\nregion = "{REGION}"\n', id="samconfig-deploy"
        ),
        pytest.param(
            None,
            {"CONFIG_ENV": "prod"},
            "",
            f'[default.deploy.parameters]\nregion = "{ELSEWHERE}"\n'
            f'[prod.global.parameters]\nregion = "{REGION}"\n',
            id="samconfig-CONFIG_ENV-global",
        ),
    ],
)
def test_the_region_comes_from_the_first_source_that_names_one(
    stack: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str | None,
    env: dict[str, str],
    aws_config: str,
    samconfig: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    write(tmp_path / "aws-config", aws_config)
    if samconfig:
        write(tmp_path / "samconfig.toml", samconfig)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a new process reads the config file afresh
    code, printed = keys_list(capsys, *(["--region", option] if option else []))
    assert (code, json.loads(printed)) == (0, [])


def test_a_lower_source_does_not_win(
    stack: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_REGION", ELSEWHERE)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    code, printed = keys_list(capsys)
    assert code == 2 and f"cannot read stack 'ttrelay' in {ELSEWHERE}" in printed


@pytest.mark.parametrize("command", [["status"], ["dlq", "inspect"], ["keys", "list"]])
def test_no_region_anywhere_is_a_clear_error_naming_the_sources(
    stack: str, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert main([*command, "--stack-name", "ttrelay"]) == 2
    err = capsys.readouterr().err
    assert "no AWS region" in err
    for source in ("--region", "AWS_REGION", "AWS_DEFAULT_REGION", "profile", "samconfig.toml"):
        assert source in err
    assert "Traceback" not in err


def test_keys_create_refuses_a_pixel_the_stack_does_not_serve(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = ["--stack-name", "ttrelay", "--region", REGION]
    assert main(["keys", "create", "--pixel", "CNOTMYPIXEL000000000", *target]) == 2
    err = capsys.readouterr().err
    assert "does not serve pixel CNOTMYPIXEL000000000" in err and PIXEL in err and "PixelCodes" in err
    assert main(["keys", "list", *target]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing was stored
    assert main(["keys", "create", "--pixel", PIXEL, *target]) == 0
    assert json.loads(capsys.readouterr().out)["pixels"] == [PIXEL]


def test_version() -> None:
    from importlib.metadata import version

    import ttrelay

    assert ttrelay.__version__ == version("ttrelay")


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    import ttrelay

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"ttrelay {ttrelay.__version__}\n"
