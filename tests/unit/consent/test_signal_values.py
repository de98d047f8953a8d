"""Consent values are strict (DESIGN.md; reference/consent.md 8.1): a value the policy cannot read makes
its signal malformed, which refuses with a reason; nothing is coerced into a grant."""

from typing import Any

import pytest
from ttrelay.consent.decide import decide, evaluate
from ttrelay.consent.model import ConsentSignals, Location
from ttrelay.consent.policy import load_policy

NOW = 1_793_491_200
GRANTED_GCM = {"ad_storage": "granted", "ad_user_data": "granted"}


def _decision(consent: dict[str, Any], country: str) -> tuple[str, str]:
    decision = decide(ConsentSignals.model_validate(consent), Location(country=country), load_policy(), NOW)
    return decision.action, decision.reason


@pytest.mark.parametrize("value", ["yes", 1, "true", "1", 0, None, [True], {"granted": True}], ids=repr)
def test_a_cmp_category_that_is_not_a_json_boolean_refuses(value: object) -> None:
    consent = {"cmp": {"marketing": value}}
    assert _decision(consent, "DE") == ("drop", "deny:cmp:malformed")
    assert _decision(consent, "US") == ("limited", "deny:cmp:malformed")
    assert _decision(consent, "JP") == ("drop", "deny:cmp:malformed")


def test_any_bad_category_spoils_the_signal() -> None:
    # The marketing category is fine, another one is not: the CMP object as a whole cannot be trusted.
    assert _decision({"cmp": {"marketing": True, "analytics": "yes"}}, "DE") == ("drop", "deny:cmp:malformed")


@pytest.mark.parametrize("state", ["GRANTED", "Granted", True, 1, "yes", None, ["granted"]], ids=repr)
def test_a_consent_mode_state_other_than_granted_or_denied_refuses(state: object) -> None:
    consent = {"gcm": {"ad_storage": state, "ad_user_data": "granted"}}
    assert _decision(consent, "DE") == ("drop", "deny:gcm:malformed")
    assert _decision(consent, "US") == ("limited", "deny:gcm:malformed")
    # The other two types the policy does not read are judged all the same.
    assert _decision({"gcm": {**GRANTED_GCM, "analytics_storage": state}}, "DE") == (
        "drop",
        "deny:gcm:malformed",
    )


def test_unknown_consent_mode_types_are_ignored_not_judged() -> None:
    sent = {**GRANTED_GCM, "security_storage": "GRANTED", "wait_for_update": 500, "region": ["DE"]}
    signals = ConsentSignals.model_validate({"gcm": sent})

    assert signals.gcm == GRANTED_GCM
    assert signals.malformed == ()
    assert _decision({"gcm": sent}, "DE") == ("forward", "grant:gcm")
    assert _decision({"gcm": {"functionality_storage": "granted"}}, "DE") == ("drop", "no_consent_signal")


@pytest.mark.parametrize(
    ("consent", "expected_de", "expected_us"),
    [
        ({"tcf": 5}, ("drop", "deny:tcf:malformed"), ("limited", "deny:tcf:malformed")),
        ({"gpp": ["DBABMA"]}, ("drop", "deny:gpp:malformed"), ("limited", "opt_out:gpp:malformed")),
        ({"gpp_sid": "2"}, ("drop", "deny:gpp:malformed"), ("limited", "opt_out:gpp:malformed")),
        ({"gpp_sid": [True]}, ("drop", "deny:gpp:malformed"), ("limited", "opt_out:gpp:malformed")),
        # usp counts only under opt_out, as a malformed usp string does (section 8).
        ({"usp": 1}, ("drop", "no_consent_signal"), ("limited", "opt_out:usp:malformed")),
        ({"gpc": "yes"}, ("drop", "deny:gpc:malformed"), ("limited", "opt_out:gpc:malformed")),
        ({"gpc": 0}, ("drop", "deny:gpc:malformed"), ("limited", "opt_out:gpc:malformed")),
        ({"gcm": "granted"}, ("drop", "deny:gcm:malformed"), ("limited", "deny:gcm:malformed")),
        ({"cmp": True}, ("drop", "deny:cmp:malformed"), ("limited", "deny:cmp:malformed")),
    ],
)
def test_a_signal_of_the_wrong_type_is_malformed_and_refuses(
    consent: dict[str, Any], expected_de: tuple[str, str], expected_us: tuple[str, str]
) -> None:
    assert _decision(consent, "DE") == expected_de
    assert _decision(consent, "US") == expected_us


@pytest.mark.parametrize("consent", [{"tcf": 5}, {"gpc": 0}, {"gcm": {"ad_storage": True}}, {"gpp_sid": "2"}])
def test_a_malformed_signal_beside_a_grant_still_refuses(consent: dict[str, Any]) -> None:
    assert _decision({**consent, "cmp": {"marketing": True}}, "DE")[0] == "drop"


def test_a_malformed_signal_is_listed_in_the_receipt_without_its_value() -> None:
    signals = ConsentSignals.model_validate(
        {"cmp": {"marketing": "yes-please"}, "gcm": {"ad_storage": "Granted"}}
    )

    evaluation = evaluate(signals, Location(country="DE"), load_policy(), NOW)

    assert evaluation.receipt.signals_present == ("gcm", "cmp")
    assert evaluation.decision.reason == "deny:gcm:malformed"  # listed first: gcm before cmp
    assert "yes-please" not in evaluation.receipt.model_dump_json()


def test_null_means_not_sent_and_well_typed_values_are_kept() -> None:
    signals = ConsentSignals.model_validate(
        {"tcf": None, "gpp": None, "gpp_sid": None, "usp": None, "gpc": None, "gcm": None, "cmp": None}
    )
    assert signals == ConsentSignals()
    kept = ConsentSignals.model_validate({"gpc": False, "gpp_sid": [2, 7], "cmp": {"Marketing": False}})
    assert (kept.gpc, kept.gpp_sid, kept.cmp, kept.malformed) == (False, (2, 7), {"marketing": False}, ())


@pytest.mark.parametrize(
    "gcm",
    [
        {"ad_storage": "denied", "AD_STORAGE": "granted", "ad_user_data": "granted"},
        {"ad_storage": "denied", " ad_storage": "granted", "ad_user_data": "granted"},
        {"Ad_Storage": "granted", "ad_storage": "denied", "ad_user_data": "granted"},
    ],
)
def test_two_spellings_of_a_consent_mode_type_that_disagree_refuse(gcm: dict[str, Any]) -> None:
    # Keys are compared case-insensitively: a later spelling must not overwrite an earlier denial.
    assert _decision({"gcm": gcm}, "DE") == ("drop", "deny:gcm:denied")


def test_a_bad_state_cannot_hide_behind_another_spelling_of_its_type() -> None:
    gcm = {"ad_storage": 5, "AD_STORAGE": "granted", "ad_user_data": "granted"}
    assert _decision({"gcm": gcm}, "DE") == ("drop", "deny:gcm:malformed")
