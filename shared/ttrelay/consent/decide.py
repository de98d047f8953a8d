"""The DEFAULT POLICY of reference/consent.md section 8, as pure functions.

Each present signal yields a verdict: grant, deny, (US-type signals) opt-out, or undecided (a TC string
that would grant but no TikTok vendor id is configured). The regime then turns the verdicts into forward /
limited / drop. Verdicts are listed in a fixed order (gpc, tcf, gpp, usp, gcm, cmp) and the first one that
decides becomes the reason, e.g. `deny:tcf:purpose_7`, `deny:cmp:malformed`, `grant:gpp.tcfeuv2`,
`opt_out:gpp.usnat:opted_out`; with nothing decisive the reason is `tcf_vendor_unconfigured` or
`no_consent_signal` (opt_in), `notice` (notice) or `no_opt_out` (opt_out).

Each consent string is decoded at most once per request: `evaluate` returns the decision and its receipt
from one decoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Literal, NamedTuple

from ttrelay.consent.gcm import consent_mode_outcome
from ttrelay.consent.model import (
    TCF_VENDOR_UNCONFIGURED,
    Action,
    ConsentDecision,
    ConsentReceipt,
    ConsentSignals,
    Location,
    Policy,
    Regime,
)
from ttrelay.consent.policy import regime_for
from ttrelay.consent.signal_values import SIGNAL_ORDER, SignalName
from ttrelay.consent.tcf import TcString, decode_tcf
from ttrelay.consent.usp import UspString, decode_usp

if TYPE_CHECKING:
    from ttrelay.consent.gpp import GppString

_SECONDS_PER_DAY = 86_400
# Clock skew allowed for a TC string's last_updated; further ahead it is malformed (8.1).
_MAX_AHEAD_SECONDS = _SECONDS_PER_DAY
# TCF 2.2 strings carry policy version 4; lower versions are invalid since 2023-09-30 (1.2).
_MIN_TCF_POLICY_VERSION = 4
# Restriction type 0, "not allowed", binds whatever the legal basis (1.4); types 1 and 2 play no part (8.1).
_NOT_ALLOWED = 0

VerdictKind = Literal["grant", "deny", "opt_out", "undecided"]
# Verdicts read from CMP cookies are named `cookie.<signal>` in reasons (e.g. `deny:cookie.cmp:marketing`).
COOKIE_SOURCE = "cookie"
_SEVERITY: dict[Action, int] = {"forward": 0, "limited": 1, "drop": 2}


# Verdict, Evaluation and _Decoded are NamedTuples rather than frozen dataclasses: as immutable, and
# several are built per request, where a frozen dataclass pays object.__setattr__ for every field.


class Verdict(NamedTuple):
    """What one signal says; `source` names it (`tcf`, `gpp.tcfeuv2`, `gpp.usnat`, `gcm`…).

    An undecided verdict's `detail` is its whole reason: it is the same whichever TC string said it.
    """

    kind: VerdictKind
    source: str
    detail: str = ""

    @property
    def reason(self) -> str:
        if self.kind == "grant":
            return f"grant:{self.source}"
        if self.kind == "undecided":
            return self.detail
        return f"{self.kind}:{self.source}:{self.detail}"


class Evaluation(NamedTuple):
    decision: ConsentDecision
    receipt: ConsentReceipt
    verdicts: tuple[Verdict, ...]


class _Decoded(NamedTuple):
    """The request's strings, each decoded once; one that failed strict decoding is kept as its error."""

    tcf: TcString | ValueError | None
    gpp: GppString | ValueError | None
    usp: UspString | ValueError | None


def evaluate(
    signals: ConsentSignals,
    location: Location,
    policy: Policy,
    now: int,
    *,
    stored: ConsentSignals | None = None,
    trust_ip_location: bool = False,
) -> Evaluation:
    """Decide, and describe the decision in a receipt, decoding each consent string once.

    `stored` holds what the site's CMP left in cookies. Both sources are read and every verdict counts,
    so a refusal from either wins over a grant from the other (a stored "no" cannot be silenced by a
    body that says "yes", and vice versa).

    A location from IP registry data (`source="ip"`) may only tighten the rules unless
    `trust_ip_location`: the decision is the stricter of the one for that country and the one for an
    unknown location (VPNs, proxies and cloud egress are registered where their operator is).
    """
    decoded = _decode(signals)
    stored_decoded = _decode(stored) if stored is not None else None
    candidates: list[tuple[ConsentDecision, tuple[Verdict, ...]]] = []
    for regime in _regimes(location, policy, trust_ip_location):
        verdicts = tuple(_verdicts(signals, decoded, regime, policy, now))
        if stored is not None and stored_decoded is not None:
            verdicts += tuple(
                Verdict(v.kind, f"{COOKIE_SOURCE}.{v.source}", v.detail)
                for v in _verdicts(stored, stored_decoded, regime, policy, now)
            )
        candidates.append((_decision(regime, verdicts, policy), verdicts))
    # max() keeps the first of equals: the location's own regime unless the unknown one is stricter.
    decision, verdicts = (
        candidates[0]
        if len(candidates) == 1
        else max(candidates, key=lambda candidate: _SEVERITY[candidate[0].action])
    )
    receipt = _receipt(
        signals,
        decoded,
        location,
        policy,
        decision=decision,
        now=now,
        stored=stored,
        stored_decoded=stored_decoded,
        regimes=tuple(candidate[0].regime for candidate in candidates),
        undecided=_undecided(verdicts),
    )
    return Evaluation(decision=decision, receipt=receipt, verdicts=verdicts)


def _regimes(location: Location, policy: Policy, trust_ip_location: bool) -> tuple[Regime, ...]:
    regime = regime_for(location, policy)
    if location.source != "ip" or trust_ip_location:
        return (regime,)
    unknown = policy.regimes.unknown_location
    return (regime,) if unknown == regime else (regime, unknown)


def decide(signals: ConsentSignals, location: Location, policy: Policy, now: int) -> ConsentDecision:
    """The decision alone for one source of signals; `now` is unix seconds (TCF staleness)."""
    return evaluate(signals, location, policy, now).decision


def receipt_for(
    signals: ConsentSignals, location: Location, policy: Policy, decision: ConsentDecision, now: int
) -> ConsentReceipt:
    """The receipt of a decision already made. This decodes the strings again: prefer `evaluate`."""
    decoded = _decode(signals)
    verdicts = tuple(_verdicts(signals, decoded, decision.regime, policy, now))
    return _receipt(
        signals,
        decoded,
        location,
        policy,
        decision=decision,
        now=now,
        regimes=(decision.regime,),
        undecided=_undecided(verdicts),
    )


def _decode_gpp(text: str) -> GppString:
    # Imported on first use: most requests carry no GPP string, and its section classes cost cold start.
    from ttrelay.consent.gpp import decode_gpp

    return decode_gpp(text)


# What a string signal sent as another type decodes to: malformed, like a string that fails decoding.
_NOT_A_STRING = ValueError("not a string")


def _decode(signals: ConsentSignals) -> _Decoded:
    malformed = signals.malformed
    return _Decoded(
        tcf=_NOT_A_STRING if "tcf" in malformed else _attempt(decode_tcf, signals.tcf),
        gpp=_NOT_A_STRING if "gpp" in malformed else _attempt(_decode_gpp, signals.gpp),
        usp=_NOT_A_STRING if "usp" in malformed else _attempt(decode_usp, signals.usp),
    )


def _attempt[T](decode: Callable[[str], T], text: str | None) -> T | ValueError | None:
    if text is None:
        return None
    try:
        return decode(text)
    except ValueError as error:  # ConsentStringError: a string that fails strict decoding
        return error


def _verdicts(
    signals: ConsentSignals, decoded: _Decoded, regime: Regime, policy: Policy, now: int
) -> Iterator[Verdict]:
    # GPC and a broken GPP string are a "no" everywhere; under opt_out that "no" is an opt-out.
    refusal: VerdictKind = "opt_out" if regime == "opt_out" else "deny"
    malformed = signals.malformed
    if "gpc" in malformed:
        yield Verdict(refusal, "gpc", "malformed")
    elif signals.gpc:
        yield Verdict(refusal, "gpc", "gpc")
    if decoded.tcf is not None:
        yield _tcf_verdict("tcf", decoded.tcf, policy, now)
    if isinstance(decoded.gpp, ValueError):
        # Includes strings listing sections 24-27, which the decoder rejects (2.4).
        yield Verdict(refusal, "gpp", "malformed")
    elif decoded.gpp is not None:
        yield from _gpp_verdicts(decoded.gpp, policy, now)
    if isinstance(decoded.usp, ValueError):
        yield Verdict("opt_out", "usp", "malformed")
    elif decoded.usp is not None and decoded.usp.opted_out_of_sale():
        yield Verdict("opt_out", "usp", "opted_out")
    yield from _choice_verdicts(signals)


def _choice_verdicts(signals: ConsentSignals) -> Iterator[Verdict]:
    """Consent Mode, then the CMP's marketing category: the visitor's choice as the page read it."""
    malformed = signals.malformed
    consent_mode = consent_mode_outcome(signals.gcm)
    if "gcm" in malformed:
        yield Verdict("deny", "gcm", "malformed")
    elif consent_mode == "grant":
        yield Verdict("grant", "gcm")
    elif consent_mode == "deny":
        yield Verdict("deny", "gcm", "denied")
    marketing = (signals.cmp or {}).get("marketing")
    if "cmp" in malformed:
        yield Verdict("deny", "cmp", "malformed")
    elif marketing is True:
        yield Verdict("grant", "cmp")
    elif marketing is False:
        yield Verdict("deny", "cmp", "marketing")


def _gpp_verdicts(gpp: GppString, policy: Policy, now: int) -> Iterator[Verdict]:
    # Every section counts, whatever `gpp_sid` names (8.1).
    for prefix, section in gpp.sections.items():
        source = f"gpp.{prefix}"
        if isinstance(section, TcString):
            yield _tcf_verdict(source, section, policy, now)
        elif isinstance(section, UspString):
            # Not settled by the policy (8.1); treating it like `usp` is the conservative reading.
            if section.opted_out_of_sale():
                yield Verdict("opt_out", source, "opted_out")
        elif section.opted_out():
            yield Verdict("opt_out", source, "opted_out")


def _tcf_verdict(source: str, tc: TcString | ValueError, policy: Policy, now: int) -> Verdict:
    """Grant only for a strictly valid, current, fresh string with every required consent, TikTok's
    vendor consent included (section 8); undecided when that vendor is not configured."""
    if isinstance(tc, ValueError):
        return Verdict("deny", source, "malformed")
    refusal = _tcf_refusal(tc, policy, now)
    if refusal is not None:
        return Verdict("deny", source, refusal)
    if policy.vendor_id is None:
        # Purpose consents alone are not consent to TikTok (1.9): this string can refuse, never grant.
        return Verdict("undecided", source, TCF_VENDOR_UNCONFIGURED)
    return Verdict("grant", source)


def _tcf_refusal(tc: TcString, policy: Policy, now: int) -> str | None:
    """The first rule a decoded TC string fails, in the order section 8 states them; None if it passes."""
    invalid = _tcf_validity_refusal(tc, policy, now)
    if invalid is not None:
        return invalid
    # Consent bits only: legitimate interest never grants (8.1).
    for purpose in policy.required_purposes:
        if not tc.has_purpose_consent(purpose):
            return f"purpose_{purpose}"
    vendor = policy.vendor_id
    if vendor is None:
        return None  # nothing left to refuse; _tcf_verdict keeps it from granting
    if not tc.has_vendor_consent(vendor):
        return "vendor_consent"
    if not tc.publisher_restrictions:
        return None  # most strings carry none: nothing can restrict
    restricted = next(
        (p for p in policy.required_purposes if _NOT_ALLOWED in tc.restriction_types_for(vendor, p)), None
    )
    return None if restricted is None else f"restriction_p{restricted}"


def _tcf_validity_refusal(tc: TcString, policy: Policy, now: int) -> str | None:
    """Whether the string may be read at all: its date, its TCF policy version, its age."""
    if tc.last_updated - now > _MAX_AHEAD_SECONDS:
        return "malformed"  # no CMP writes a date that far ahead: a broken clock or a forged string (8.1)
    if tc.tcf_policy_version < _MIN_TCF_POLICY_VERSION:
        return "policy_version"
    # Exactly the maximum age is still fresh (8.1).
    if now - tc.last_updated > policy.tcf_max_age_days * _SECONDS_PER_DAY:
        return "stale"
    return None


def _decision(regime: Regime, verdicts: tuple[Verdict, ...], policy: Policy) -> ConsentDecision:
    if regime == "opt_out":
        # Grants change nothing here; any opt-out, or a deny from tcf/gcm/cmp, limits the event.
        limiting = next((verdict for verdict in verdicts if verdict.kind in ("deny", "opt_out")), None)
        if limiting is None:
            return _decided("forward", regime, "no_opt_out")
        return _decided(policy.us_opt_out_action, regime, limiting.reason)
    # opt_in and notice: US-type opt-outs are not denies and change nothing (8.1).
    deny = next((verdict for verdict in verdicts if verdict.kind == "deny"), None)
    if deny is not None:
        return _decided("drop", regime, deny.reason)
    if regime == "notice":
        return _decided("forward", regime, "notice")
    grant = next((verdict for verdict in verdicts if verdict.kind == "grant"), None)
    if grant is not None:
        return _decided("forward", regime, grant.reason)
    undecided = next((verdict for verdict in verdicts if verdict.kind == "undecided"), None)
    return _decided("drop", regime, "no_consent_signal" if undecided is None else undecided.reason)


def _decided(action: Action, regime: Regime, reason: str) -> ConsentDecision:
    return ConsentDecision(action=action, regime=regime, reason=reason, limited_data_use=action == "limited")


def _present(signals: ConsentSignals) -> tuple[SignalName, ...]:
    present: tuple[tuple[SignalName, bool], ...] = (
        ("tcf", signals.tcf is not None),
        ("gpp", signals.gpp is not None),
        ("usp", signals.usp is not None),
        ("gpc", signals.gpc),
        ("gcm", bool(signals.gcm)),
        ("cmp", bool(signals.cmp)),
    )
    return tuple(name for name, is_present in present if is_present or name in signals.malformed)


def _undecided(verdicts: tuple[Verdict, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(verdict.reason for verdict in verdicts if verdict.kind == "undecided"))


def _receipt(
    signals: ConsentSignals,
    decoded: _Decoded,
    location: Location,
    policy: Policy,
    *,
    decision: ConsentDecision,
    now: int,
    regimes: tuple[Regime, ...],
    stored: ConsentSignals | None = None,
    stored_decoded: _Decoded | None = None,
    undecided: tuple[str, ...] = (),
) -> ConsentReceipt:
    gpp = None if isinstance(decoded.gpp, ValueError) else decoded.gpp
    stored_tcf = stored_decoded.tcf if stored_decoded is not None else None
    tc = _first_tc_string(decoded.tcf, gpp.sections.get("tcfeuv2") if gpp else None, stored_tcf)
    from_request = _present(signals)
    from_cookies = _present(stored) if stored is not None else ()
    present = {*from_request, *from_cookies}
    return ConsentReceipt(
        policy_version=policy.version,
        decided_at=now,
        regime=decision.regime,
        action=decision.action,
        reason=decision.reason,
        limited_data_use=decision.limited_data_use,
        signals_present=tuple(name for name in SIGNAL_ORDER if name in present),
        signal_sources={"request": from_request, "cookies": from_cookies},
        regimes_considered=regimes,
        tcf_cmp_id=tc.cmp_id if tc else None,
        tcf_policy_version=tc.tcf_policy_version if tc else None,
        gpp_section_ids=gpp.section_ids if gpp else (),
        undecided=undecided,
        location=location,
    )


def _first_tc_string(*candidates: object) -> TcString | None:
    return next((candidate for candidate in candidates if isinstance(candidate, TcString)), None)
