"""`ttrelay` command line: dev (local stack), invoke (a handler with a sample event), consent, dlq.

Subcommands import their modules lazily so `ttrelay consent ...` stays fast (no boto3, no moto).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

USAGE = """usage: ttrelay COMMAND ...

  dev                        run the local stack (see `ttrelay dev --help`)
  invoke FUNCTION --event F  invoke a function of template.yaml with a sample event
  consent decode-tcf S       decode a TCF v2 TC string (JSON; exit 2 if invalid)
  consent decode-gpp S       decode a GPP string (JSON; exit 2 if invalid)
  consent decide [...]       apply the consent policy (see `ttrelay consent decide --help`)
  chaos [--events N]         delivery under faults, crashes and duplicates (make chaos)
  dlq inspect|redrive        summarise the dead-letter queue / send it back (see `ttrelay dlq --help`)
  keys create|list|revoke    backend API keys, hashed and scoped to pixels (see `ttrelay keys --help`)
  openapi                    print the OpenAPI document of POST /events (docs/openapi.json)
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "consent":
        return _consent(rest)
    if command not in _COMMANDS:
        print(f"ttrelay: unknown command {command!r}\n{USAGE}", file=sys.stderr)
        return 2
    import importlib

    module_name, function_name = _COMMANDS[command]
    run: Callable[[list[str]], int] = getattr(importlib.import_module(module_name), function_name)
    return run(rest)


# Imported only when called, so `ttrelay consent ...` never loads moto, boto3 or the local stack.
_COMMANDS = {
    "dev": ("ttrelay.cli.dev", "dev_command"),
    "invoke": ("ttrelay.cli.invoke", "invoke_command"),
    "dlq": ("ttrelay.cli.dlq", "dlq_command"),
    "chaos": ("ttrelay.cli.chaos", "chaos_command"),
    "keys": ("ttrelay.cli.keys", "keys_command"),
    "openapi": ("ttrelay.cli.openapi", "openapi_command"),
}


def _consent(args: list[str]) -> int:
    if not args:
        print(USAGE, file=sys.stderr)
        return 2
    sub, rest = args[0], args[1:]
    if sub in ("decode-tcf", "decode-gpp"):
        if len(rest) != 1:
            print(f"usage: ttrelay consent {sub} STRING", file=sys.stderr)
            return 2
        from ttrelay.cli import consent_decode

        command = (
            consent_decode.decode_tcf_command if sub == "decode-tcf" else consent_decode.decode_gpp_command
        )
        return command(rest[0])
    if sub == "decide":
        from ttrelay.cli.consent_decide import decide_command

        return decide_command(rest)
    print(f"ttrelay consent: unknown subcommand {sub!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
