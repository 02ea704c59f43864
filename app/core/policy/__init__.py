"""Streaming policies: how successive hypotheses over a growing buffer become stable text."""

from app.core.policy.alignatt import AlignAtt
from app.core.policy.base import StreamingPolicy
from app.core.policy.local_agreement import LocalAgreement

POLICIES: dict[str, type[StreamingPolicy]] = {"alignatt": AlignAtt, "localagreement": LocalAgreement}
DEFAULT_POLICY = "localagreement"


def create_policy(name: str) -> StreamingPolicy:
    try:
        return POLICIES[name]()
    except KeyError:
        known = ", ".join(sorted(POLICIES))
        raise ValueError(f"Unknown streaming policy {name!r}; choose one of: {known}.") from None


__all__ = ["DEFAULT_POLICY", "POLICIES", "AlignAtt", "LocalAgreement", "StreamingPolicy", "create_policy"]
