"""`make deploy`'s guard: what is about to be deployed names your pixels and your site, not examples.

`sam deploy --guided` asks every template parameter (38 of them) and takes Enter for any value shown, so
an example (the pixel `CXXXXXXXXXXXXXXXXXXX`, `https://www.example.com`) reached CloudFormation
unnoticed; and SAM has no hook between its questions and the change set. So `make deploy` asks here
instead, and only what a site owner must decide (region, pixel codes, allowed origins, alarm e-mail):
samconfig.toml holds every other parameter. The check runs on the resolved parameters (samconfig's plus
the answers). Only then is `sam deploy` started, with exactly those parameters and, when something was
asked, `--save-params`, so SAM writes the answers to samconfig.toml and later deploys ask nothing.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ttrelay.forward.events_api import PIXEL_CODE_PATTERN

_PIXEL_CODE = re.compile(PIXEL_CODE_PATTERN)
# Pixel codes that this project's docs and local stack show as examples: deployed, they match no pixel.
EXAMPLE_PIXELS = frozenset({"CNEWPIXEL00000000000", "COLDPIXEL00000000000", "CTTRELAYLOCALDEV0001"})
# RFC 2606 / 6761 names: never a site owner's site. Local names are a developer's own machine.
_EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
_EXAMPLE_TLDS = ("example", "invalid")
_LOCAL_TLDS = ("localhost", "test")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_EMAIL = re.compile(r"([^\s@]+@[^\s@]+)?")  # template.yaml AlarmEmail's AllowedPattern

Check = Callable[[str, bool], str | None]
Ask = Callable[[str, str], str]


def _host_kind(host: str) -> str:
    """'example', 'local' or '' (a name that can be someone's site)."""
    host = host.lower().strip("[]").rstrip(".")
    tld = host.rsplit(".", 1)[-1]
    if tld in _EXAMPLE_TLDS or any(host == name or host.endswith("." + name) for name in _EXAMPLE_DOMAINS):
        return "example"
    if tld in _LOCAL_TLDS:
        return "local"
    try:
        return "local" if ipaddress.ip_address(host).is_loopback else ""
    except ValueError:
        return ""


def pixel_codes_problem(value: str, allow_local: bool = False) -> str | None:
    codes = [code.strip() for code in value.split(",") if code.strip()]
    if not codes:
        return (
            "empty, so the relay would reject every event. Put your pixel code(s) from TikTok Events Manager"
        )
    for code in codes:
        if code in EXAMPLE_PIXELS or set(code[1:]) <= {"X"}:
            return f"{code} is an example, not your pixel. Put your pixel code(s) from TikTok Events Manager"
        if not _PIXEL_CODE.fullmatch(code):
            return (
                f"{code[:40]!r} is not a pixel code (20 upper-case letters and digits). "
                "Copy yours from TikTok Events Manager"
            )
    return None


def allowed_origins_problem(value: str, allow_local: bool = False) -> str | None:
    for origin in (item.strip() for item in value.split(",") if item.strip()):
        parts = urlsplit(origin)
        kind = _host_kind(parts.hostname or "")
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/"):
            return (
                f"{origin[:80]!r} is not an origin. Put your site's origins, like https://www.your-shop.com"
            )
        if kind == "example" or (not allow_local and (kind == "local" or parts.scheme == "http")):
            return (
                f"{origin[:80]} is an example, local or plain-http address. Put your site's own "
                "https:// origins, comma-separated, or nothing for back ends only "
                "(ALLOW_LOCAL_ORIGINS=1 admits local ones)"
            )
    return None


def cookie_domain_problem(value: str, allow_local: bool = False) -> str | None:
    if value.strip(".") and _host_kind(value.strip(".")) == "example":
        return f"{value[:80]} is an example domain. Put your site's domain (e.g. .your-shop.com) or nothing"
    return None


def region_problem(value: str, allow_local: bool = False) -> str | None:
    return None if _REGION.fullmatch(value) else f"{value[:40]!r} is not an AWS region (e.g. eu-west-1)"


def alarm_email_problem(value: str, allow_local: bool = False) -> str | None:
    if not _EMAIL.fullmatch(value):
        return f"{value[:80]!r} is not an e-mail address. Put yours, or nothing for no e-mail"
    if value and _host_kind(value.rpartition("@")[2]):
        return f"{value[:80]} is an example address. Put yours, or nothing for no e-mail"
    return None


@dataclass(frozen=True)
class Question:
    name: str
    prompt: str
    check: Check
    required: bool


# What a site owner must decide on a first deploy, in the order asked. `region` is SAM's setting; the
# others are template parameters. Every other parameter has a working value in samconfig.toml.
QUESTIONS = (
    Question("region", "AWS region, the one nearest your visitors", region_problem, True),
    Question("PixelCodes", "TikTok pixel code(s), comma-separated", pixel_codes_problem, True),
    Question(
        "AllowedOrigins",
        "your site's origins, comma-separated (none: back ends only)",
        allowed_origins_problem,
        True,
    ),
    Question("AlarmEmail", "e-mail for the stack's alarms (none: no e-mail)", alarm_email_problem, False),
)
# Checked too when set (docs/deploy.md's example `.example.com`), and asked only when wrong.
CHECKED: dict[str, Check] = {"CookieDomain": cookie_domain_problem}


@dataclass(frozen=True)
class DeployConfig:
    region: str
    parameters: dict[str, str]

    def values(self) -> dict[str, str]:
        return self.parameters | ({"region": self.region} if self.region else {})


def parse_overrides(value: object) -> dict[str, str]:
    """samconfig's parameter_overrides in each form SAM writes: a string, a list of strings, a table."""
    if isinstance(value, Mapping):
        return {str(key): str(item) for key, item in value.items()}
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    parsed: dict[str, str] = {}
    for item in items:
        for token in shlex.split(str(item)):  # `Key="a b"` and `Key=""` read as SAM reads them
            key, _, text = token.partition("=")
            parsed[key] = text
    return parsed


def read_config(path: Path, env: str, environ: Mapping[str, str] = os.environ) -> DeployConfig:
    """The parameters and region `sam deploy --config-env env` would use (SAM's order of lookup)."""
    section = tomllib.loads(path.read_text()).get(env, {}) if path.is_file() else {}
    deploy = section.get("deploy", {}).get("parameters", {})
    region = (
        deploy.get("region")
        or section.get("global", {}).get("parameters", {}).get("region")
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION", "")
    )
    return DeployConfig(str(region), parse_overrides(deploy.get("parameter_overrides", [])))


def problems(values: Mapping[str, str], allow_local: bool) -> dict[str, str]:
    """Each wrong value's name and what to put there. A required value is wrong when missing too."""
    found: dict[str, str] = {}
    for question in QUESTIONS:
        if question.name not in values:
            if question.required:
                found[question.name] = "not set"
        elif (problem := question.check(values[question.name], allow_local)) is not None:
            found[question.name] = problem
    for name, check in CHECKED.items():
        if name in values and (problem := check(values[name], allow_local)) is not None:
            found[name] = problem
    return found


def ask_until_valid(
    names: list[str], values: Mapping[str, str], allow_local: bool, ask: Ask, say: Callable[[str], None]
) -> dict[str, str]:
    """Asks for each name until the answer passes its check; a current value that passes is the default."""
    checks = {question.name: question.check for question in QUESTIONS} | CHECKED
    prompts = {question.name: question.prompt for question in QUESTIONS}
    answers: dict[str, str] = {}
    for name in names:
        current = values.get(name, "")
        default = "" if checks[name](current, allow_local) else current
        while True:
            answer = ask(prompts.get(name, name), default).strip() or default
            problem = checks[name](answer, allow_local)
            if problem is None:
                break
            say(f"  {name}: {problem}.")
        answers[name] = answer
    return answers


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sam_deploy_argv(
    sam: str,
    config_file: Path,
    config_env: str,
    stack_name: str,
    config: DeployConfig,
    answers: Mapping[str, str],
) -> list[str]:
    argv = [sam, "deploy", "--config-file", str(config_file), "--config-env", config_env]
    if stack_name:
        argv += ["--stack-name", stack_name]
    if answers:
        # The whole resolved set: on the command line it replaces samconfig's overrides, and --save-params
        # writes it back (and the region, to the env's global parameters).
        parameters = config.parameters | {key: value for key, value in answers.items() if key != "region"}
        argv += ["--region", answers.get("region", config.region)]
        argv += ["--parameter-overrides", *(f"{key}={_quoted(value)}" for key, value in parameters.items())]
        argv.append("--save-params")
    return argv


def _input(prompt: str, default: str) -> str:
    return input(f"  {prompt} [{default}]: ")


def deploy_check_command(argv: list[str], ask: Ask = _input, interactive: bool | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ttrelay_dev.cli.deploy_check",
        description="Check (and on a first deploy ask for) what make deploy deploys, then run sam deploy.",
    )
    parser.add_argument("--sam", required=True, help="the sam executable to run once the parameters pass")
    parser.add_argument("--config-file", type=Path, default=Path("samconfig.toml"))
    parser.add_argument("--config-env", default="default")
    parser.add_argument("--stack-name", default="", help="another stack than samconfig's stack_name")
    parser.add_argument("--ask", action="store_true", help="ask the first-deploy questions again (GUIDED=1)")
    parser.add_argument(
        "--allow-local-origins",
        action="store_true",
        help="admit http:// and localhost origins (a test stack)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the sam command instead of running it")
    args = parser.parse_args(argv)
    config = read_config(args.config_file, args.config_env)
    values = config.values()
    wrong = problems(values, args.allow_local_origins)
    first_deploy = "PixelCodes" not in config.parameters
    to_ask = [question.name for question in QUESTIONS] if args.ask or first_deploy else []
    to_ask += [name for name in wrong if name not in to_ask]
    if to_ask and not (sys.stdin.isatty() if interactive is None else interactive):
        for name, problem in wrong.items():
            print(f"make deploy: {name}: {problem}.", file=sys.stderr)
        print(
            f"make deploy: nothing deployed. Run it in a terminal to be asked, or set these in "
            f"{args.config_file} under [{args.config_env}.deploy.parameters] (docs/deploy.md).",
            file=sys.stderr,
        )
        return 2
    answers: dict[str, str] = {}
    if to_ask:
        print(f"Deploy settings for [{args.config_env}] in {args.config_file} (Enter keeps the value shown):")
        for name, problem in wrong.items():
            if name in values:
                print(f"  {name}: {problem}.")
        answers = ask_until_valid(to_ask, values, args.allow_local_origins, ask, print)
    command = sam_deploy_argv(args.sam, args.config_file, args.config_env, args.stack_name, config, answers)
    if args.dry_run:
        print(shlex.join(command))
        return 0
    return subprocess.run(command, check=False).returncode  # noqa: S603 (argv, no shell)


if __name__ == "__main__":
    sys.exit(deploy_check_command(sys.argv[1:]))
