"""Settings come from the environment as Lambda sets it (template.yaml's upper-case variables), read once
and validated, without pydantic-settings (a cold-start cost as large as boto3's)."""

import subprocess
import sys

import pytest
from pydantic import ValidationError
from ttrelay.config import CollectSettings, ForwardSettings, collect_settings

COLLECT_ENV = {
    "EVENTS_QUEUE_URL": "https://sqs.example/q",
    "COOKIE_KEYS_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:keys",
    "PIXEL_CODES": " CAAAAAAAAAAAAAAAAAAA, CBBBBBBBBBBBBBBBBBBB ,",
    "ALLOWED_ORIGINS": "https://shop.example.com,https://www.shop.example.com",
    "TRUST_IP_COUNTRY": "true",
    "MAX_EVENTS_PER_REQUEST": "20",
    "POWERTOOLS_SERVICE_NAME": "ttrelay-collect",  # not a setting: ignored
}


def test_each_field_comes_from_the_variable_of_its_name_with_lists_as_comma_separated_text() -> None:
    settings = CollectSettings.from_environment(COLLECT_ENV)
    assert settings.events_queue_url == "https://sqs.example/q"
    assert settings.pixel_codes == ("CAAAAAAAAAAAAAAAAAAA", "CBBBBBBBBBBBBBBBBBBB")
    assert settings.allowed_origins == ("https://shop.example.com", "https://www.shop.example.com")
    assert settings.trust_ip_country is True
    assert settings.max_events_per_request == 20
    assert settings.cookie_max_age_days == 30  # unset: the default


def test_names_are_matched_whatever_their_case() -> None:
    lower = {key.lower(): value for key, value in COLLECT_ENV.items()}
    assert CollectSettings.from_environment(lower) == CollectSettings.from_environment(COLLECT_ENV)


def test_a_missing_or_invalid_value_is_refused_at_cold_start_not_guessed() -> None:
    without_queue = {key: value for key, value in COLLECT_ENV.items() if key != "EVENTS_QUEUE_URL"}
    with pytest.raises(ValidationError, match="events_queue_url"):
        CollectSettings.from_environment(without_queue)
    with pytest.raises(ValidationError, match="max_events_per_request"):
        CollectSettings.from_environment({**COLLECT_ENV, "MAX_EVENTS_PER_REQUEST": "0"})
    with pytest.raises(ValidationError, match="TestEventCodes takes PIXEL=CODE pairs"):
        ForwardSettings.from_environment(
            {"DEDUP_TABLE_NAME": "t", "ACCESS_TOKEN_SECRET_ARN": "a", "TEST_EVENT_CODES": "CAAAA"}
        )


def test_the_functions_read_the_process_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in COLLECT_ENV.items():
        monkeypatch.setenv(key, value)
    collect_settings.cache_clear()
    try:
        assert collect_settings().pixel_codes == ("CAAAAAAAAAAAAAAAAAAA", "CBBBBBBBBBBBBBBBBBBB")
        monkeypatch.setenv("PIXEL_CODES", "CCCCCCCCCCCCCCCCCCCC")
        assert collect_settings().pixel_codes == ("CAAAAAAAAAAAAAAAAAAA", "CBBBBBBBBBBBBBBBBBBB")
    finally:
        collect_settings.cache_clear()


def test_reading_settings_does_not_load_pydantic_settings() -> None:
    # In a fresh interpreter, as at a cold start: importing the settings must not pull the package in.
    probe = "import sys, ttrelay.config; print('pydantic_settings' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "False"
