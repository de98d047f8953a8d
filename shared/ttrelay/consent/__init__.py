"""Consent signals: strict TCF, GPP and US Privacy decoders and the consent policy."""

# The policy API, exported lazily so that importing the package (e.g. for the decoders alone) stays cheap.
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ttrelay.consent.decide import Evaluation, decide, evaluate, receipt_for
    from ttrelay.consent.model import ConsentDecision, ConsentReceipt, ConsentSignals, Location, Policy
    from ttrelay.consent.policy import PolicyError, load_policy, parse_policy, regime_for

_EXPORTS = {
    "decide": "ttrelay.consent.decide",
    "evaluate": "ttrelay.consent.decide",
    "receipt_for": "ttrelay.consent.decide",
    "Evaluation": "ttrelay.consent.decide",
    "ConsentSignals": "ttrelay.consent.model",
    "Location": "ttrelay.consent.model",
    "ConsentDecision": "ttrelay.consent.model",
    "ConsentReceipt": "ttrelay.consent.model",
    "Policy": "ttrelay.consent.model",
    "load_policy": "ttrelay.consent.policy",
    "parse_policy": "ttrelay.consent.policy",
    "regime_for": "ttrelay.consent.policy",
    "PolicyError": "ttrelay.consent.policy",
}

__all__ = [
    "ConsentDecision",
    "ConsentReceipt",
    "ConsentSignals",
    "Evaluation",
    "Location",
    "Policy",
    "PolicyError",
    "decide",
    "evaluate",
    "load_policy",
    "parse_policy",
    "receipt_for",
    "regime_for",
]


def __getattr__(name: str) -> object:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ttrelay.consent' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
