"""LocalAgreement-2: a word is final once two consecutive hypotheses agree on it.

Whisper revises the tail of what it hears as more audio arrives; the prefix two decodes
share is very unlikely to change again. Words the buffer repeats from earlier commits
are dropped first (:class:`CommittedTail`).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.policy.committed import PrefixPolicy
from app.core.words import TimedWord

# A word this close to the end of the decoded audio may be cut off mid-way ("Digi-" for
# "Digium") or carry a guessed full stop; it waits for the next decode even if agreed.
TAIL_GUARD_S = 0.25


class LocalAgreement(PrefixPolicy):
    """Longest-common-prefix commit over consecutive hypotheses (whisper_streaming's rule)."""

    def update(self, hypothesis: Sequence[TimedWord], buffer_end: float) -> list[TimedWord]:
        fresh = self._committed.fresh(hypothesis)
        agreed = 0
        for old, new in zip(self._previous, fresh, strict=False):
            if old.key != new.key or new.end > buffer_end - TAIL_GUARD_S:
                break
            agreed += 1
        return self._settle(fresh, agreed)
