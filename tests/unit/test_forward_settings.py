"""ForwardSettings: the access token only ever leaves over https, except to a fake on this machine; the
dedup mode reaches the store."""

import pytest
from pydantic import ValidationError
from ttrelay.config import ForwardSettings, forward_settings
from ttrelay.forward.dedup import DedupMode
from ttrelay.runtime import forwarder


def _settings(base_url: str) -> ForwardSettings:
    return ForwardSettings(dedup_table_name="t", access_token_secret_arn="arn", events_api_base_url=base_url)


@pytest.mark.parametrize(
    "url",
    [
        "https://business-api.tiktok.com",
        "http://127.0.0.1:3000/_local/tiktok",  # the local stack's fake
        "http://127.8.9.10:3000",  # all of 127.0.0.0/8 is loopback
        "http://localhost:3100/_local/tiktok",
        "http://[::1]:3000/_local/tiktok",
    ],
)
def test_https_or_a_loopback_fake_is_accepted(url: str) -> None:
    assert _settings(url).events_api_base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://business-api.tiktok.com",
        "http://10.0.0.5:3000",
        "http://localhost.example.com",
        "http://128.0.0.1",
        "ftp://business-api.tiktok.com",
    ],
)
def test_plain_http_to_another_host_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="must be https"):
        _settings(url)


@pytest.mark.parametrize(("value", "mode"), [(None, DedupMode.MESSAGE), ("lease", DedupMode.LEASE)])
def test_the_dedup_mode_reaches_the_forwarders_store(
    monkeypatch: pytest.MonkeyPatch, value: str | None, mode: DedupMode
) -> None:
    for name, setting in {
        "DEDUP_TABLE_NAME": "t",
        "ACCESS_TOKEN_SECRET_ARN": "arn",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, setting)
    if value is None:
        monkeypatch.delenv("DEDUP_MODE", raising=False)
    else:
        monkeypatch.setenv("DEDUP_MODE", value)
    forward_settings.cache_clear()
    forwarder.cache_clear()
    try:
        assert forwarder().dedup.mode is mode
    finally:
        forward_settings.cache_clear()
        forwarder.cache_clear()


def test_an_unknown_dedup_mode_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match="dedup_mode"):
        ForwardSettings(dedup_table_name="t", access_token_secret_arn="arn", dedup_mode="worker")  # type: ignore[arg-type]
