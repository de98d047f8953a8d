"""The consent policy document: default regime table, overrides, and the TCF staleness boundary."""

import json
from pathlib import Path

import pytest
from support.encoders import TcCore, restrictions_section, tc_string, vendor_section
from ttrelay.consent.decide import decide
from ttrelay.consent.model import ConsentSignals, Location
from ttrelay.consent.policy import PolicyError, load_policy, parse_policy, regime_for

NOW = 1_793_491_200
DAY = 86_400

EU_27 = [
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
]
OPT_IN_COUNTRIES = [*EU_27, "IS", "LI", "NO", "AX", "GF", "GP", "MQ", "RE", "YT", "MF", "GB", "CH"]


def _regime(country: str | None, subdivision: str | None = None) -> str:
    return regime_for(Location(country=country, subdivision=subdivision), load_policy())


@pytest.mark.parametrize("country", OPT_IN_COUNTRIES)
def test_eea_uk_switzerland_and_eu_areas_with_own_codes_are_opt_in(country: str) -> None:
    assert _regime(country) == "opt_in"


@pytest.mark.parametrize("subdivision", [None, "CA", "TX", "NY", "CO", "VA", "WA", "FL"])
def test_every_us_state_is_opt_out(subdivision: str | None) -> None:
    assert _regime("US", subdivision) == "opt_out"


@pytest.mark.parametrize(
    ("country", "subdivision", "expected"),
    [
        ("CA", "QC", "opt_in"),
        ("CA", "CA-QC", "opt_in"),  # the full ISO 3166-2 code is accepted too
        ("ca", "qc", "opt_in"),
        ("CA", None, "notice"),
        ("CA", "ON", "notice"),
        ("US", "QC", "opt_out"),  # a subdivision override belongs to its own country only
        ("JP", "QC", "notice"),
    ],
)
def test_quebec_is_opt_in_and_the_rest_of_canada_notice(
    country: str, subdivision: str | None, expected: str
) -> None:
    assert _regime(country, subdivision) == expected


@pytest.mark.parametrize(
    "country", ["BL", "JE", "GG", "IM", "GI", "KR", "BR", "JP", "PR", "GU", "VI", "AU", "SG"]
)
def test_unlisted_assigned_countries_are_notice(country: str) -> None:
    assert _regime(country) == "notice"


@pytest.mark.parametrize("country", [None, "", "XX", "ZZ", "EU", "A1", "T1", "XK", "EL", "USA", "1"])
def test_missing_or_unassigned_codes_are_unknown_so_opt_in(country: str | None) -> None:
    assert _regime(country) == "opt_in"


@pytest.mark.parametrize("country", ["de", "Gr", " gb "])
def test_country_codes_compare_case_insensitively(country: str) -> None:
    assert _regime(country) == "opt_in"


def test_default_policy_document() -> None:
    policy = load_policy()

    assert policy.version == "2026-11-01.1"
    assert policy.required_purposes == (1, 3, 4, 7)
    assert policy.vendor_id is None  # TikTok's GVL id is unconfirmed (reference/consent.md 1.9)
    assert policy.tcf_max_age_days == 390
    assert policy.us_opt_out_action == "limited"
    assert policy.regimes.unknown_location == "opt_in"
    assert policy.regimes.other_countries == "notice"


def test_override_file_replaces_only_the_keys_it_names(tmp_path: Path) -> None:
    override = tmp_path / "policy.json"
    override.write_text(json.dumps({"version": "acme-2026-12", "vendor_id": 1234}), encoding="utf-8")

    policy = load_policy(str(override))

    assert (policy.version, policy.vendor_id) == ("acme-2026-12", 1234)
    assert policy.required_purposes == (1, 3, 4, 7)
    assert regime_for(Location(country="DE"), policy) == "opt_in"


def test_override_text_can_replace_the_regime_table() -> None:
    text = json.dumps(
        {
            "version": "strict-1",
            "regimes": {"countries": {"opt_in": ["BR"], "opt_out": ["US"]}, "other_countries": "opt_in"},
            "us_opt_out_action": "drop",
        }
    )

    policy = parse_policy(text)

    assert regime_for(Location(country="BR"), policy) == "opt_in"
    assert regime_for(Location(country="JP"), policy) == "opt_in"
    assert regime_for(Location(country="CA", subdivision="QC"), policy) == "opt_in"
    decision = decide(ConsentSignals(gpc=True), Location(country="US"), policy, NOW)
    assert (decision.action, decision.limited_data_use) == ("drop", False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"vendor_id": 5}', "'version'"),
        ('{"version": "x", "regimes": {"countries": {"opt_in": ["EL"]}}}', "'EL' is not an assigned"),
        ('{"version": "x", "regimes": {"countries": {"opt_in": ["DE"], "notice": ["de"]}}}', "more than one"),
        ('{"version": "x", "regimes": {"countries": {"strict": ["DE"]}}}', "regimes.countries"),
        ('{"version": "x", "regimes": {"countries": {}, "subdivisions": {"QC": "opt_in"}}}', "ISO 3166-2"),
        ('{"version": "x", "required_purposes": []}', "required_purposes"),
        ('{"version": "x", "required_purposes": [25]}', "required_purposes"),
        ('{"version": "x", "vendor_id": 0}', "vendor_id"),
        ('{"version": "x", "us_opt_out_action": "forward"}', "us_opt_out_action"),
        ('{"version": "x", "surprise": true}', "surprise"),
        ('{"version": ""}', "version"),
    ],
)
def test_bad_override_is_rejected_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(text)


def test_unreadable_override_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(str(tmp_path / "missing.json"))


VENDOR = 986  # the vendor id these tests configure, consented in every string they build


def _tc_last_updated(unix_seconds: int, **fields: object) -> str:
    deciseconds = unix_seconds * 10
    fields.setdefault("vendor_consents", vendor_section(max_vendor_id=VENDOR, ids=[VENDOR]))
    return tc_string(TcCore(created_ds=deciseconds, last_updated_ds=deciseconds, **fields).bits())  # type: ignore[arg-type]


def _tcf_reason(tcf: str, policy_update: dict[str, object] | None = None) -> str:
    policy = load_policy().model_copy(update={"vendor_id": VENDOR, **(policy_update or {})})
    return decide(ConsentSignals(tcf=tcf), Location(country="DE"), policy, NOW).reason


def test_exactly_390_days_old_is_fresh_one_second_more_is_stale() -> None:
    assert _tcf_reason(_tc_last_updated(NOW - 390 * DAY)) == "grant:tcf"
    assert _tcf_reason(_tc_last_updated(NOW - 390 * DAY - 1)) == "deny:tcf:stale"


def test_up_to_a_day_ahead_is_clock_skew_further_ahead_is_malformed() -> None:
    assert _tcf_reason(_tc_last_updated(NOW + DAY)) == "grant:tcf"
    assert _tcf_reason(_tc_last_updated(NOW + DAY + 1)) == "deny:tcf:malformed"
    # Never stale however old the clock makes it look: the 50 years ahead.
    assert _tcf_reason(_tc_last_updated(NOW + 50 * 365 * DAY)) == "deny:tcf:malformed"


def test_max_age_is_configurable() -> None:
    tcf = _tc_last_updated(NOW - 31 * DAY)

    assert _tcf_reason(tcf, {"tcf_max_age_days": 30}) == "deny:tcf:stale"
    assert _tcf_reason(tcf, {"tcf_max_age_days": 31}) == "grant:tcf"


def test_required_purposes_are_configurable() -> None:
    tcf = _tc_last_updated(NOW, purpose_consents=(1, 3, 4, 7))

    assert _tcf_reason(tcf, {"required_purposes": (1, 2, 7)}) == "deny:tcf:purpose_2"
    assert _tcf_reason(tcf, {"required_purposes": (1, 7)}) == "grant:tcf"


def test_legitimate_interest_alone_never_grants() -> None:
    tcf = _tc_last_updated(NOW, purpose_consents=(1, 3, 4), purpose_legitimate_interests=(7,))

    assert _tcf_reason(tcf) == "deny:tcf:purpose_7"


@pytest.mark.parametrize(
    ("restrictions", "expected"),
    [
        ([(3, 0, [(900, 1000)])], "deny:tcf:restriction_p3"),  # not allowed, range covers the vendor
        ([(2, 0, [986])], "grant:tcf"),  # purpose 2 is not required
        ([(7, 1, [986]), (4, 2, [986])], "grant:tcf"),  # require consent / LI: no part in the rule
        ([(1, 0, [985, 987])], "grant:tcf"),  # neighbours only
    ],
)
def test_type_0_restriction_on_a_required_purpose_denies(
    restrictions: list[tuple[int, int, list[int | tuple[int, int]]]], expected: str
) -> None:
    tcf = _tc_last_updated(NOW, publisher_restrictions=restrictions_section(restrictions))

    assert _tcf_reason(tcf) == expected


def test_without_a_vendor_id_a_tc_string_refuses_but_never_grants() -> None:
    unconfigured = {"vendor_id": None}
    no_vendor_at_all = _tc_last_updated(NOW, vendor_consents=vendor_section(max_vendor_id=0))

    assert _tcf_reason(_tc_last_updated(NOW), unconfigured) == "tcf_vendor_unconfigured"
    assert _tcf_reason(no_vendor_at_all, unconfigured) == "tcf_vendor_unconfigured"
    assert (
        _tcf_reason(_tc_last_updated(NOW, purpose_consents=(1, 3, 4)), unconfigured) == "deny:tcf:purpose_7"
    )
    assert _tcf_reason(no_vendor_at_all) == "deny:tcf:vendor_consent"
