"""`ttrelay keys` on an API-keys secret (moto): publishable site keys beside backend keys, proven by the
collector's own key ring reading what the command wrote."""

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from ttrelay.collect.senders import DEFAULT_SITE_KEY_RATE_LIMIT, ApiKeyRing, api_key_digest
from ttrelay_dev.cli.keys import keys_command

PIXEL = "CTTRELAYLOCALDEV0001"
SECRET = "ttrelay-api-keys"


@pytest.fixture
def secret() -> Iterator[str]:
    with mock_aws():
        boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps({"keys": []}))
        yield SECRET


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object, str]:
    code = keys_command([*args, "--secret-id", SECRET])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def ring() -> ApiKeyRing:
    text = boto3.client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"]
    return ApiKeyRing.from_secret(json.loads(text))


def test_a_publishable_key_is_printed_once_stored_hashed_and_admits_as_a_site_key_only(
    secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, created, err = run(
        capsys,
        "create",
        "--publishable",
        "--pixel",
        PIXEL,
        "--host",
        "Shop.Example.com",
        "--rate-limit",
        "20",
    )
    assert code == 0 and isinstance(created, dict)
    key = created.pop("key")
    assert key.startswith("ttrelay_pk_") and len(key) >= 40
    assert created == {
        "id": created["id"],
        "pixels": [PIXEL],
        "label": "",
        "created_at": created["created_at"],
        "kind": "publishable",
        "hosts": ["shop.example.com"],
        "rate_limit": 20,
    }
    assert created["id"].startswith("pk-") and "public" in err
    stored = json.dumps(
        json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"])
    )
    assert key not in stored and api_key_digest(key) in stored
    assert ring().match(key, kind="publishable") is not None
    assert ring().match(key) is None  # never a backend key


def test_list_shows_kind_scope_hosts_and_limit_but_never_keys_or_digests(
    secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, backend, _ = run(capsys, "create", "--all-pixels", "--label", "orders backend")
    _, site, _ = run(capsys, "create", "--publishable", "--pixel", PIXEL, "--label", "shopify")
    assert isinstance(backend, dict) and isinstance(site, dict)
    code, listed, _ = run(capsys, "list")
    assert code == 0 and isinstance(listed, list)
    by_id = {entry["id"]: entry for entry in listed}
    assert by_id[backend["id"]] == {
        "id": backend["id"],
        "pixels": ["*"],
        "label": "orders backend",
        "created_at": backend["created_at"],
        "kind": "backend",
    }
    assert by_id[site["id"]] == {
        "id": site["id"],
        "pixels": [PIXEL],
        "label": "shopify",
        "created_at": site["created_at"],
        "kind": "publishable",
        "hosts": [],
        "rate_limit": DEFAULT_SITE_KEY_RATE_LIMIT,
    }
    text = json.dumps(listed)
    assert backend["key"] not in text and site["key"] not in text and "hash" not in text


def test_revoke_removes_either_kind(secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, backend, _ = run(capsys, "create", "--pixel", PIXEL)
    _, site, _ = run(capsys, "create", "--publishable", "--pixel", PIXEL)
    assert isinstance(backend, dict) and isinstance(site, dict)
    for created in (site, backend):
        assert run(capsys, "revoke", created["id"])[1] == {"revoked": created["id"]}
    assert ring().records == ()
    code, _, err = run(capsys, "revoke", site["id"])
    assert code == 2 and site["id"] in err


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--host", "shop.example.com"], "add --publishable"),
        (["--rate-limit", "5"], "add --publishable"),
        (["--publishable", "--rate-limit", "0"], "at least 1"),
    ],
)
def test_site_key_options_without_a_site_key_or_out_of_range_are_usage_errors(
    secret: str, capsys: pytest.CaptureFixture[str], args: list[str], complaint: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        keys_command(["create", "--pixel", PIXEL, *args, "--secret-id", SECRET])
    assert exited.value.code == 2 and complaint in capsys.readouterr().err
    assert ring().records == ()


@pytest.mark.parametrize("host", ["https://shop.example.com", "shop.example.com/checkout", "shop example"])
def test_a_host_that_is_not_a_plain_host_name_is_refused_and_nothing_is_stored(
    secret: str, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    code, _, err = run(capsys, "create", "--publishable", "--pixel", PIXEL, "--host", host)
    assert code == 2 and "a host is a name like shop.example.com" in err
    assert ring().records == ()
