"""Streaming policies: how successive hypotheses over a growing buffer become stable text."""

from app.core.policy.base import StreamingPolicy
from app.core.policy.local_agreement import LocalAgreement

POLICIES: dict[str, type[StreamingPolicy]] = {"localagreement": LocalAgreement}


def create_policy(name: str) -> StreamingPolicy:
    try:
        return POLICIES[name]()
    except KeyError:
        known = ", ".join(sorted(POLICIES))
        raise ValueError(f"Unknown streaming policy {name!r}; choose one of: {known}.") from None


__all__ = ["POLICIES", "LocalAgreement", "StreamingPolicy", "create_policy"]
