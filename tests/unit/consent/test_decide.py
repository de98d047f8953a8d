"""The default consent policy (reference/consent.md 8) through `decide` and `ttrelay consent decide`."""

import json
from typing import Any

import pytest
from support.paths import vector_params
from ttrelay.consent.decide import decide, evaluate, receipt_for
from ttrelay.consent.model import ConsentSignals, Location, Policy
from ttrelay.consent.policy import load_policy
from ttrelay_dev.cli.consent_decide import decide_command

NOW = 1_793_491_200  # 2026-11-01T00:00:00Z, the vectors' clock
FR_GRANT_TCF = "CQr-V4AQr-V4AEwABBENCWEgAP_AAEPAAAYgIzQBIAAgAEAvMB7QEZgLzgBAACAXmAAA.IIzQBIAAgAEAvMB7QEZg"
SIGNAL_FIELDS = ("tcf", "gpp", "gpp_sid", "usp", "gpc", "gcm", "cmp")


def _policy(vendor_id: int | None = None) -> Policy:
    policy = load_policy()
    return policy if vendor_id is None else policy.model_copy(update={"vendor_id": vendor_id})


@pytest.mark.parametrize("case", vector_params("decisions.json"))
def test_vector_through_python_api(case: dict[str, Any]) -> None:
    given = case["input"]
    signals = ConsentSignals(**{name: given[name] for name in SIGNAL_FIELDS if name in given})
    location = Location(country=given.get("country"), subdivision=given.get("subdivision"))

    decision = decide(signals, location, _policy(given.get("vendor_id")), given["now"])

    assert decision.model_dump() == case["expect"]


@pytest.mark.parametrize("case", vector_params("decisions.json"))
def test_vector_through_cli(case: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = decide_command(list(case["args"]))

    out, err = capsys.readouterr()
    assert (exit_code, err) == (0, "")
    assert json.loads(out) == case["expect"]
    assert list(json.loads(out)) == ["action", "regime", "reason", "limited_data_use"]


def test_receipt_records_the_evaluation_without_raw_strings() -> None:
    signals = ConsentSignals(
        tcf=FR_GRANT_TCF, gpc=False, gcm={"ad_storage": "granted"}, cmp={"Marketing": True}
    )
    location = Location(country="fr", subdivision=None, source="cloudfront")

    evaluation = evaluate(signals, location, _policy(986), NOW)

    receipt = evaluation.receipt
    assert evaluation.decision.reason == "grant:tcf"
    assert receipt.policy_version == load_policy().version
    assert receipt.undecided == ()
    assert receipt.signals_present == ("tcf", "gcm", "cmp")
    assert (receipt.tcf_cmp_id, receipt.tcf_policy_version) == (304, 4)
    assert receipt.location.model_dump() == {"country": "FR", "subdivision": None, "source": "cloudfront"}
    assert (receipt.action, receipt.reason, receipt.decided_at) == ("forward", "grant:tcf", NOW)
    assert FR_GRANT_TCF not in json.dumps(receipt.model_dump(mode="json"))
    assert receipt_for(signals, location, _policy(986), evaluation.decision, NOW) == receipt


def test_receipt_takes_tcf_details_from_a_gpp_tcfeuv2_section() -> None:
    gpp = "DBABMA~" + FR_GRANT_TCF
    evaluation = evaluate(ConsentSignals(gpp=gpp, gpp_sid=(2,)), Location(country="DE"), load_policy(), NOW)

    assert evaluation.receipt.gpp_section_ids == (2,)
    assert evaluation.receipt.tcf_cmp_id == 304
    assert evaluation.receipt.signals_present == ("gpp",)


def test_malformed_strings_leave_no_decoded_details_in_the_receipt() -> None:
    signals = ConsentSignals(tcf="CQSbk4AQSbk4ANwAAAENAwCg", gpp="DBACOeA~~1YNN", usp="1Y", gpc=True)

    receipt = evaluate(signals, Location(country="US", subdivision="CA"), load_policy(), NOW).receipt

    assert receipt.signals_present == ("tcf", "gpp", "usp", "gpc")
    assert (receipt.tcf_cmp_id, receipt.gpp_section_ids) == (None, ())
    assert receipt.reason == "opt_out:gpc:gpc"  # GPC is listed first among the opt-outs


@pytest.mark.parametrize(
    ("signals", "country", "expected"),
    [
        # Several denies: the first in the fixed order gpc, tcf, gpp, usp, gcm, cmp names the reason.
        (
            {"cmp": {"marketing": False}, "gcm": {"ad_storage": "denied", "ad_user_data": "denied"}},
            "DE",
            ("drop", "deny:gcm:denied"),
        ),
        ({"cmp": {"marketing": False}}, "JP", ("drop", "deny:cmp:marketing")),
        # A grant never outweighs a deny in opt_in.
        ({"tcf": FR_GRANT_TCF, "cmp": {"marketing": False}}, "FR", ("drop", "deny:cmp:marketing")),
        # In opt_out a deny from cmp limits, a grant changes nothing.
        ({"cmp": {"marketing": False}}, "US", ("limited", "deny:cmp:marketing")),
        (
            {"cmp": {"marketing": True}, "gcm": {"ad_storage": "granted", "ad_user_data": "granted"}},
            "US",
            ("forward", "no_opt_out"),
        ),
        # A uspv1 section inside GPP is read like `usp` (the conservative reading of 8.1).
        ({"gpp": "DBABTA~1YYN"}, "US", ("limited", "opt_out:gpp.uspv1:opted_out")),
        ({"gpp": "DBABTA~1YNN"}, "US", ("forward", "no_opt_out")),
        ({"gpp": "DBABTA~1YYN"}, "DE", ("drop", "no_consent_signal")),
        # A malformed usp outside opt_out changes nothing.
        ({"usp": "garbage"}, "SG", ("forward", "notice")),
        # A blank string is no string at all (e.g. `__tcfapi` where GDPR does not apply).
        ({"tcf": "", "usp": " "}, "JP", ("forward", "notice")),
        ({"tcf": ""}, "DE", ("drop", "no_consent_signal")),
    ],
)
def test_precedence_between_signals(signals: dict[str, Any], country: str, expected: tuple[str, str]) -> None:
    decision = decide(ConsentSignals(**signals), Location(country=country), load_policy(), NOW)

    assert (decision.action, decision.reason) == expected
    assert decision.limited_data_use is (decision.action == "limited")


def test_gpp_tcfeuv2_section_and_tcf_are_two_signals_either_can_deny() -> None:
    stale_policy = load_policy().model_copy(update={"tcf_max_age_days": 1})
    signals = ConsentSignals(tcf=FR_GRANT_TCF, gpp="DBABMA~" + FR_GRANT_TCF)

    decision = decide(signals, Location(country="FR"), stale_policy, NOW)

    assert (decision.action, decision.reason) == ("drop", "deny:tcf:stale")


def test_vendor_id_from_policy_is_checked() -> None:
    policy = load_policy().model_copy(update={"vendor_id": 986})  # vendor 986 consented in this string
    assert decide(ConsentSignals(tcf=FR_GRANT_TCF), Location(country="FR"), policy, NOW).reason == "grant:tcf"

    policy = load_policy().model_copy(update={"vendor_id": 3})
    assert decide(ConsentSignals(tcf=FR_GRANT_TCF), Location(country="FR"), policy, NOW).reason == (
        "deny:tcf:vendor_consent"
    )


def test_cli_vendor_id_sets_the_policy_vendor(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--country", "FR", "--tcf", FR_GRANT_TCF, "--now", str(NOW), "--vendor-id", "3"]

    assert decide_command(argv) == 0

    assert json.loads(capsys.readouterr().out)["reason"] == "deny:tcf:vendor_consent"


def test_cli_defaults_now_to_the_current_time(capsys: pytest.CaptureFixture[str]) -> None:
    # The vector string is fresh on 2026-11-01 and has last_updated 2026-10-12; today it is either fresh
    # (grant) or, long after 2027-11, stale: what must not happen is a failure to decide.
    assert decide_command(["--country", "FR", "--tcf", FR_GRANT_TCF, "--vendor-id", "986"]) == 0

    assert json.loads(capsys.readouterr().out)["reason"] in {"grant:tcf", "deny:tcf:stale"}


@pytest.mark.parametrize(
    "argv",
    [
        ["--gcm", "ad_storage=maybe"],
        ["--gcm", "ad_storage"],
        ["--cmp", "marketing=perhaps"],
        ["--gpp-sid", "7,x"],
        ["--vendor-id", "0"],
        ["--vendor-id", "abc"],
        ["--now", "-5"],
        ["--now", "yesterday"],
        ["--country"],
        ["--unknown-flag"],
        ["--gp", "DBABMA~x"],  # no abbreviations of --gpp / --gpp-sid
        ["stray"],
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = decide_command(argv)

    out, err = capsys.readouterr()
    assert exit_code == 2
    assert out == ""
    assert err.startswith("ttrelay consent decide: error: ")
    assert err.count("\n") == 1


def test_cli_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert decide_command(["--help"]) == 0
    assert "--gpp-sid" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("FR", ("drop", "tcf_vendor_unconfigured")),
        ("JP", ("forward", "notice")),  # neither grant nor deny: notice forwards
        ("US", ("forward", "no_opt_out")),  # not an opt-out, so nothing to limit
    ],
)
def test_without_a_vendor_id_a_granting_tc_string_decides_nothing(
    country: str, expected: tuple[str, str]
) -> None:
    decision = decide(ConsentSignals(tcf=FR_GRANT_TCF), Location(country=country), load_policy(), NOW)

    assert (decision.action, decision.reason) == expected


def test_the_receipt_says_the_tc_string_could_not_grant_even_when_another_signal_did() -> None:
    signals = ConsentSignals(tcf=FR_GRANT_TCF, gpp="DBABMA~" + FR_GRANT_TCF, cmp={"marketing": True})

    evaluation = evaluate(signals, Location(country="FR"), load_policy(), NOW)

    assert evaluation.decision.reason == "grant:cmp"
    assert evaluation.receipt.undecided == ("tcf_vendor_unconfigured",)
    assert evaluate(signals, Location(country="FR"), _policy(986), NOW).receipt.undecided == ()
