"""Streaming policies: how successive hypotheses over a growing buffer become stable text."""

from app.core.policy.alignatt import AlignAtt
from app.core.policy.base import StreamingPolicy
from app.core.policy.local_agreement import LocalAgreement

POLICIES: dict[str, type[StreamingPolicy]] = {"alignatt": AlignAtt, "localagreement": LocalAgreement}
# bench.stream and bench.compare_wlk (results in bench/README.md): the two are close, AlignAtt's
# WER lower on one set and higher on the other, its median commit no sooner and its p90 mixed,
# so LocalAgreement stays the default.
DEFAULT_POLICY = "localagreement"


def create_policy(name: str) -> StreamingPolicy:
    try:
        return POLICIES[name]()
    except KeyError:
        known = ", ".join(sorted(POLICIES))
        raise ValueError(f"Unknown streaming policy {name!r}; choose one of: {known}.") from None


__all__ = ["DEFAULT_POLICY", "POLICIES", "AlignAtt", "LocalAgreement", "StreamingPolicy", "create_policy"]
