"""The DEFAULT POLICY of reference/consent.md section 8, as pure functions.

Each present signal yields a verdict: grant, deny, or (US-type signals) opt-out. The regime then turns
the verdicts into forward / limited / drop. Verdicts are listed in a fixed order (gpc, tcf, gpp, usp, gcm,
cmp) and the first one that decides becomes the reason, e.g. `deny:tcf:purpose_7`, `grant:gpp.tcfeuv2`,
`opt_out:gpp.usnat:opted_out`; with nothing decisive the reason is `no_consent_signal` (opt_in),
`notice` (notice) or `no_opt_out` (opt_out).

Each consent string is decoded at most once per request: `evaluate` returns the decision and its receipt
from one decoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ttrelay.consent.gcm import consent_mode_outcome
from ttrelay.consent.model import (
    Action,
    ConsentDecision,
    ConsentReceipt,
    ConsentSignals,
    Location,
    Policy,
    Regime,
    SignalName,
)
from ttrelay.consent.policy import regime_for
from ttrelay.consent.tcf import TcString, decode_tcf
from ttrelay.consent.usp import UspString, decode_usp

if TYPE_CHECKING:
    from ttrelay.consent.gpp import GppString

_SECONDS_PER_DAY = 86_400
# TCF 2.2 strings carry policy version 4; lower versions are invalid since 2023-09-30 (1.2).
_MIN_TCF_POLICY_VERSION = 4
# Restriction type 0, "not allowed", binds whatever the legal basis (1.4); types 1 and 2 play no part (8.1).
_NOT_ALLOWED = 0

VerdictKind = Literal["grant", "deny", "opt_out"]
# Verdicts read from CMP cookies are named `cookie.<signal>` in reasons (e.g. `deny:cookie.cmp:marketing`).
COOKIE_SOURCE = "cookie"
_SEVERITY: dict[Action, int] = {"forward": 0, "limited": 1, "drop": 2}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one signal says; `source` names it (`tcf`, `gpp.tcfeuv2`, `gpp.usnat`, `gcm`…)."""

    kind: VerdictKind
    source: str
    detail: str = ""

    @property
    def reason(self) -> str:
        if self.kind == "grant":
            return f"grant:{self.source}"
        return f"{self.kind}:{self.source}:{self.detail}"


@dataclass(frozen=True, slots=True)
class Evaluation:
    decision: ConsentDecision
    receipt: ConsentReceipt
    verdicts: tuple[Verdict, ...]


@dataclass(frozen=True, slots=True)
class _Decoded:
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
    decision, verdicts = max(candidates, key=lambda candidate: _SEVERITY[candidate[0].action])
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
    return _receipt(
        signals, _decode(signals), location, policy, decision=decision, now=now, regimes=(decision.regime,)
    )


def _decode_gpp(text: str) -> GppString:
    # Imported on first use: most requests carry no GPP string, and its section classes cost cold start.
    from ttrelay.consent.gpp import decode_gpp

    return decode_gpp(text)


def _decode(signals: ConsentSignals) -> _Decoded:
    return _Decoded(
        tcf=_attempt(decode_tcf, signals.tcf),
        gpp=_attempt(_decode_gpp, signals.gpp),
        usp=_attempt(decode_usp, signals.usp),
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
    if signals.gpc:
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
    consent_mode = consent_mode_outcome(signals.gcm)
    if consent_mode == "grant":
        yield Verdict("grant", "gcm")
    elif consent_mode == "deny":
        yield Verdict("deny", "gcm", "denied")
    marketing = (signals.cmp or {}).get("marketing")
    if marketing is True:
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
    """Grant only for a strictly valid, current, fresh string with every required consent (section 8)."""
    if isinstance(tc, ValueError):
        return Verdict("deny", source, "malformed")
    refusal = _tcf_refusal(tc, policy, now)
    return Verdict("grant", source) if refusal is None else Verdict("deny", source, refusal)


def _tcf_refusal(tc: TcString, policy: Policy, now: int) -> str | None:
    """The first rule a decoded TC string fails, in the order section 8 states them; None if it passes."""
    if tc.tcf_policy_version < _MIN_TCF_POLICY_VERSION:
        return "policy_version"
    # Exactly the maximum age is still fresh (8.1).
    if now - tc.last_updated > policy.tcf_max_age_days * _SECONDS_PER_DAY:
        return "stale"
    # Consent bits only: legitimate interest never grants (8.1).
    missing = next((p for p in policy.required_purposes if not tc.has_purpose_consent(p)), None)
    if missing is not None:
        return f"purpose_{missing}"
    vendor = policy.vendor_id
    if vendor is None:
        return None  # TikTok's vendor id is unconfirmed (1.9): vendor checks only when configured
    if not tc.has_vendor_consent(vendor):
        return "vendor_consent"
    restricted = next(
        (p for p in policy.required_purposes if _NOT_ALLOWED in tc.restriction_types_for(vendor, p)), None
    )
    return None if restricted is None else f"restriction_p{restricted}"


def _decision(regime: Regime, verdicts: tuple[Verdict, ...], policy: Policy) -> ConsentDecision:
    if regime == "opt_out":
        # Grants change nothing here; any opt-out, or a deny from tcf/gcm/cmp, limits the event.
        limiting = next((verdict for verdict in verdicts if verdict.kind != "grant"), None)
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
    return _decided("drop", regime, "no_consent_signal")


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
    return tuple(name for name, is_present in present if is_present)


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
) -> ConsentReceipt:
    gpp = None if isinstance(decoded.gpp, ValueError) else decoded.gpp
    stored_tcf = stored_decoded.tcf if stored_decoded is not None else None
    tc = _first_tc_string(decoded.tcf, gpp.sections.get("tcfeuv2") if gpp else None, stored_tcf)
    from_request = _present(signals)
    from_cookies = _present(stored) if stored is not None else ()
    return ConsentReceipt(
        policy_version=policy.version,
        decided_at=now,
        regime=decision.regime,
        action=decision.action,
        reason=decision.reason,
        limited_data_use=decision.limited_data_use,
        signals_present=tuple(name for name in _SIGNAL_ORDER if name in {*from_request, *from_cookies}),
        signal_sources={"request": from_request, "cookies": from_cookies},
        regimes_considered=regimes,
        tcf_cmp_id=tc.cmp_id if tc else None,
        tcf_policy_version=tc.tcf_policy_version if tc else None,
        gpp_section_ids=gpp.section_ids if gpp else (),
        location=location,
    )


_SIGNAL_ORDER: tuple[SignalName, ...] = ("tcf", "gpp", "usp", "gpc", "gcm", "cmp")


def _first_tc_string(*candidates: object) -> TcString | None:
    return next((candidate for candidate in candidates if isinstance(candidate, TcString)), None)
