"""`ttrelay` command line: the local stack, invoking handlers, consent strings, and operating a stack.

Subcommands import their modules lazily so `ttrelay consent ...` stays fast (no boto3, no moto).
Every command answers --help with its options and their defaults.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from ttrelay import __version__

USAGE = """usage: ttrelay COMMAND ...   (ttrelay COMMAND --help for its options; ttrelay --version)

  dev                        run the local stack (http://127.0.0.1:{port}, $PORT or 3000)
  invoke FUNCTION --event F  invoke a function of template.yaml with a sample event
  consent decode-tcf S       decode a TCF v2 TC string (JSON; exit 2 if invalid)
  consent decode-gpp S       decode a GPP string (JSON; exit 2 if invalid)
  consent decide [...]       apply the consent policy to signals given as flags
  status [--stack-name N]    a stack's outputs, queue depth and age, DLQ count, configuration errors
  dlq inspect|redrive        summarise the dead-letter queue / send it back to be delivered
  keys create|list|revoke    backend API keys, hashed and scoped to pixels
  chaos [--events N]         delivery under faults, crashes and duplicates (make chaos)
  openapi                    print the OpenAPI document of POST /events (docs/openapi.json)

Operator commands (status, dlq, keys) act on --stack-name (your AWS credentials) or, without it, on the
running local stack (make dev). They look for the stack in --region, else AWS_REGION, AWS_DEFAULT_REGION,
the profile's region, samconfig.toml's region.
"""

CONSENT_USAGE = """usage: ttrelay consent SUBCOMMAND ...   (ttrelay consent SUBCOMMAND --help for details)

  decode-tcf STRING   decode an IAB TCF v2 TC string; print JSON, or exit 2 with the reason
  decode-gpp STRING   decode an IAB GPP string; print JSON, or exit 2 with the reason
  decide [FLAGS]      apply the default consent policy (country, TCF, GPP, USP, GPC, Consent Mode, CMP)
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        print(f"ttrelay {__version__}")
        return 0
    command, rest = args[0], args[1:]
    if command not in _COMMANDS and command != "consent":
        print(f"ttrelay: unknown command {command!r}\n{_usage()}", file=sys.stderr)
        return 2
    try:
        return _consent(rest) if command == "consent" else _load(*_COMMANDS[command])(rest)
    except SystemExit as exit_:
        # argparse exits on --help (0) and on bad arguments (2); main returns the code instead, so a
        # caller (the tests, another Python program) gets it like any other command's result.
        return exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1


def _usage() -> str:
    # The port `ttrelay dev` would take now, as its --port default does.
    return USAGE.format(port=os.environ.get("PORT", "3000"))


# Imported only when called, so `ttrelay consent ...` never loads moto, boto3 or the local stack.
_COMMANDS = {
    "dev": ("ttrelay_dev.cli.dev", "dev_command"),
    "invoke": ("ttrelay_dev.cli.invoke", "invoke_command"),
    "status": ("ttrelay_dev.cli.status", "status_command"),
    "dlq": ("ttrelay_dev.cli.dlq", "dlq_command"),
    "chaos": ("ttrelay_dev.cli.chaos", "chaos_command"),
    "keys": ("ttrelay_dev.cli.keys", "keys_command"),
    "openapi": ("ttrelay_dev.cli.openapi", "openapi_command"),
}


def _load(module_name: str, function_name: str) -> Callable[[list[str]], int]:
    import importlib

    run: Callable[[list[str]], int] = getattr(importlib.import_module(module_name), function_name)
    return run


def _consent(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        print(CONSENT_USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    sub, rest = args[0], args[1:]
    if sub in ("decode-tcf", "decode-gpp"):
        from ttrelay_dev.cli.consent_decode import decode_command

        return decode_command(sub, rest)
    if sub == "decide":
        from ttrelay_dev.cli.consent_decide import decide_command

        return decide_command(rest)
    print(f"ttrelay consent: unknown subcommand {sub!r}\n{CONSENT_USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
