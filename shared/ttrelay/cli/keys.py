"""`ttrelay keys create|list|revoke`: backend API keys (hashed in the API-keys secret, scoped to pixels).

Targets, in this order: --secret-id; --stack-name (a deployed stack's ApiKeysSecretArn output, with your
AWS credentials); else the running local stack (`make dev`). A new key is printed once and stored only
as its SHA-256 digest. The collector reads the secret through a 5-minute cache, so a new or revoked key
takes effect within 5 minutes of the change.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ttrelay.cli.help import HelpFormatter
from ttrelay.cli.targets import deployed_outputs, local_outputs
from ttrelay.local.stack import STATE_FILE
from ttrelay.senders import ALL_PIXELS, ApiKeysDocument, add_api_key, revoke_api_key


def keys_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ttrelay keys", description=__doc__, formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
    create = sub.add_parser(
        "create",
        help="make a key (printed once) for some pixels or all of them",
        description="Make a backend API key; it is printed once and stored only as its SHA-256 digest.",
        formatter_class=HelpFormatter,
    )
    scope = create.add_mutually_exclusive_group(required=True)
    scope.add_argument("--pixel", action="append", help="a pixel code the key may send for (repeatable)")
    scope.add_argument("--all-pixels", action="store_true", help="every pixel the relay accepts")
    create.add_argument("--label", default="", help="who uses the key, e.g. 'orders backend'")
    sub.add_parser(
        "list",
        help="ids, labels, scopes and creation times (never keys or digests)",
        description="List the API keys: ids, labels, scopes and creation times (never keys or digests).",
        formatter_class=HelpFormatter,
    )
    revoke = sub.add_parser(
        "revoke",
        help="remove a key by id",
        description="Remove an API key; it stops working within 5 minutes.",
        formatter_class=HelpFormatter,
    )
    revoke.add_argument("key_id", help="the key's id as `ttrelay keys list` shows it, e.g. k-3f9a1c2e")
    for command in sub.choices.values():
        _add_target_options(command)
    args = parser.parse_args(argv)
    try:
        secret_id = _secret_id(args)
        from ttrelay.adapters.secrets import put_json_secret, read_json_secret_now

        document = ApiKeysDocument.model_validate(read_json_secret_now(secret_id))
        if args.action == "list":
            print(json.dumps([record.model_dump(exclude={"hash"}) for record in document.keys], indent=2))
            return 0
        if args.action == "revoke":
            put_json_secret(secret_id, revoke_api_key(document, args.key_id).model_dump(mode="json"))
            print(json.dumps({"revoked": args.key_id}))
            return 0
        pixels = (ALL_PIXELS,) if args.all_pixels else tuple(dict.fromkeys(args.pixel))
        updated, record, key = add_api_key(document, pixels, args.label, int(time.time()))
        put_json_secret(secret_id, updated.model_dump(mode="json"))
    except LookupError as exc:
        print(f"ttrelay keys: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"id": record.id, "key": key, "pixels": list(record.pixels), "label": record.label}))
    print("Store the key now: only its digest is kept.", file=sys.stderr)
    return 0


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--secret-id", help="the API-keys secret's ARN or name")
    parser.add_argument("--stack-name", help="a deployed ttrelay stack (reads its ApiKeysSecretArn output)")
    parser.add_argument("--state-file", type=Path, default=STATE_FILE, help="the local stack's state file")


def _secret_id(args: argparse.Namespace) -> str:
    if args.secret_id:
        return str(args.secret_id)
    if args.stack_name:
        return deployed_outputs(args.stack_name)["ApiKeysSecretArn"]
    return local_outputs(args.state_file)["ApiKeysSecretArn"]
