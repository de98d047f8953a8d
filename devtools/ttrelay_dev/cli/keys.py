"""`ttrelay keys create|list|revoke`: backend API keys and publishable site keys (hashed in the API-keys
secret, scoped to pixels).

Targets, in this order: --secret-id; --stack-name (a deployed stack's ApiKeysSecretArn output, with your
AWS credentials); else the running local stack (`make dev`). `create --pixel` refuses a pixel the relay
does not serve (the stack's PixelCodes, or the local stack's pixels); with --secret-id alone there is no
stack to ask, so add --stack-name to have it checked. A new key is printed once and stored only
as its SHA-256 digest. A site key (`--publishable`) is public by design: it goes into a sandboxed page such
as a Shopify custom pixel, limited to its pixels, its page hosts and its rate. The collector reads the
secret through a 5-minute cache, so a new or revoked key takes effect within 5 minutes of the change.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ttrelay.collect.senders import (
    ALL_PIXELS,
    DEFAULT_SITE_KEY_RATE_LIMIT,
    ApiKeysDocument,
    add_api_key,
    add_site_key,
    revoke_api_key,
)

from ttrelay_dev.cli.help import HelpFormatter
from ttrelay_dev.cli.region import use_region
from ttrelay_dev.cli.targets import (
    add_region_option,
    deployed_outputs,
    deployed_pixels,
    local_outputs,
    local_pixels,
)
from ttrelay_dev.local.stack import STATE_FILE


def keys_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ttrelay keys", description=__doc__, formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
    create = sub.add_parser(
        "create",
        help="make a key (printed once) for some pixels or all of them",
        description="Make a backend API key, or with --publishable a site key for a sandboxed page; it is "
        "printed once and stored only as its SHA-256 digest.",
        formatter_class=HelpFormatter,
    )
    scope = create.add_mutually_exclusive_group(required=True)
    scope.add_argument("--pixel", action="append", help="a pixel code the key may send for (repeatable)")
    scope.add_argument("--all-pixels", action="store_true", help="every pixel the relay accepts")
    create.add_argument("--label", default="", help="who uses the key, e.g. 'orders backend'")
    create.add_argument(
        "--publishable",
        action="store_true",
        help="a public site key (ttrelay_pk_...) for a sandboxed page, e.g. a Shopify custom pixel",
    )
    create.add_argument(
        "--host",
        action="append",
        default=[],
        help="site keys: a page host the events must come from, e.g. shop.example.com (repeatable; "
        "none: any host)",
    )
    create.add_argument(
        "--rate-limit",
        type=int,
        help=f"site keys: requests per second per collector instance (default {DEFAULT_SITE_KEY_RATE_LIMIT})",
    )
    sub.add_parser(
        "list",
        help="ids, kinds, labels, scopes, hosts, limits and creation times (never keys or digests)",
        description="List the keys: ids, kinds, labels, scopes, creation times, and a site key's hosts and "
        "rate limit (never keys or digests).",
        formatter_class=HelpFormatter,
    )
    revoke = sub.add_parser(
        "revoke",
        help="remove a key (either kind) by id",
        description="Remove an API key or a site key; it stops working within 5 minutes.",
        formatter_class=HelpFormatter,
    )
    revoke.add_argument(
        "key_id", help="the key's id as `ttrelay keys list` shows it, e.g. k-3f9a1c2e or pk-5b0d7e91"
    )
    for command in sub.choices.values():
        _add_target_options(command)
    args = parser.parse_args(argv)
    if args.action == "create" and not args.publishable and (args.host or args.rate_limit is not None):
        parser.error("--host and --rate-limit are for site keys: add --publishable")
    if args.action == "create" and args.rate_limit is not None and args.rate_limit < 1:
        parser.error("--rate-limit takes a whole number of requests per second, at least 1")
    try:
        secret_id, served = _target(args, pixels_needed=args.action == "create" and not args.all_pixels)
        from ttrelay.adapters.secrets import put_json_secret, read_json_secret_now

        document = ApiKeysDocument.model_validate(read_json_secret_now(secret_id))
        if args.action == "list":
            print(json.dumps([record.listing() for record in document.keys], indent=2))
            return 0
        if args.action == "revoke":
            put_json_secret(secret_id, revoke_api_key(document, args.key_id).model_dump(mode="json"))
            print(json.dumps({"revoked": args.key_id}))
            return 0
        pixels = (ALL_PIXELS,) if args.all_pixels else tuple(dict.fromkeys(args.pixel))
        if served is not None:
            _check_served(pixels, served)
        elif not args.all_pixels:
            print("ttrelay keys: pixels not checked (--secret-id names no stack)", file=sys.stderr)
        if args.publishable:
            limit = args.rate_limit or DEFAULT_SITE_KEY_RATE_LIMIT
            made = add_site_key(document, pixels, tuple(args.host), limit, args.label, int(time.time()))
        else:
            made = add_api_key(document, pixels, args.label, int(time.time()))
        updated, record, key = made
        put_json_secret(secret_id, updated.model_dump(mode="json"))
    except (LookupError, ValueError) as exc:
        print(f"ttrelay keys: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"key": key, **record.listing()}))
    if args.publishable:
        print("The site key is public by design: paste it into the page's code.", file=sys.stderr)
    else:
        print("Store the key now: only its digest is kept.", file=sys.stderr)
    return 0


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--secret-id", help="the API-keys secret's ARN or name")
    parser.add_argument(
        "--stack-name", help="a deployed ttrelay stack (reads its ApiKeysSecretArn output and PixelCodes)"
    )
    add_region_option(parser)
    parser.add_argument("--state-file", type=Path, default=STATE_FILE, help="the local stack's state file")


def _target(args: argparse.Namespace, pixels_needed: bool) -> tuple[str, tuple[str, ...] | None]:
    """The keys secret, and the pixels the relay serves when they are needed and can be known."""
    if args.stack_name:
        secret_id = args.secret_id or deployed_outputs(args.stack_name, args.region)["ApiKeysSecretArn"]
        return secret_id, deployed_pixels(args.stack_name, args.region) if pixels_needed else None
    if args.secret_id:
        use_region(args.region)
        return str(args.secret_id), None
    secret_id = local_outputs(args.state_file)["ApiKeysSecretArn"]
    return secret_id, local_pixels(args.state_file) if pixels_needed else None


def _check_served(pixels: tuple[str, ...], served: tuple[str, ...]) -> None:
    """A key for a pixel the relay does not serve could never send: every request would get 403."""
    if unserved := [pixel for pixel in pixels if pixel not in served]:
        serves = ", ".join(served) if served else "none: its PixelCodes is empty"
        raise ValueError(
            f"the relay does not serve pixel {', '.join(unserved)} (it serves {serves}); add it to the "
            "stack's PixelCodes first, or a key for it gets 403 pixel_not_allowed"
        )
