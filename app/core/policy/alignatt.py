"""AlignAtt (SimulStreaming's rule): a word is final once Whisper's attention has moved past it.

Whisper's alignment heads show which audio frame each text token attends to; faster-whisper's
word timestamps are exactly that (CTranslate2 ``Whisper.align`` over the decoded tokens,
then DTW: a word ends at the frame where attention moves on to the next token). A token
attending to audio well before the end of the buffer has heard everything it needs, so
it will not change when more audio arrives; a token attending to the last fraction of a
second may be a word cut in half or a guess. So one decode is enough to commit every word
whose attended frame lies more than ``threshold_s`` before the end of the buffer, where
LocalAgreement waits for a second decode to agree.

Whisper sometimes revises an unsure word once it hears the next one ("there" to "their"),
so a word the decoder itself doubted (probability under ``min_probability``) also needs
the previous hypothesis to agree on it: the cost is one decode, for that word only.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.policy.committed import PrefixPolicy
from app.core.words import TimedWord

DEFAULT_THRESHOLD_S = 0.5
DEFAULT_MIN_PROBABILITY = 0.7  # tuning on 20 tiny.en clips: 0.3 cost 0.9 WER points over LocalAgreement


class AlignAtt(PrefixPolicy):
    """Commit the prefix of the hypothesis whose attention lies ``threshold_s`` before the end."""

    def __init__(
        self, threshold_s: float = DEFAULT_THRESHOLD_S, min_probability: float = DEFAULT_MIN_PROBABILITY
    ) -> None:
        if threshold_s < 0:
            raise ValueError(f"The AlignAtt threshold must be 0 s or more, not {threshold_s}.")
        super().__init__()
        self.threshold_s = threshold_s
        self.min_probability = min_probability

    def update(self, hypothesis: Sequence[TimedWord], buffer_end: float) -> list[TimedWord]:
        fresh = self._committed.fresh(hypothesis)
        previous = [word.key for word in self._previous]
        final = 0
        for index, word in enumerate(fresh):
            if not self._heard_after(word, buffer_end, self.threshold_s):
                break
            agreed = index < len(previous) and previous[index] == word.key
            if word.probability < self.min_probability and not agreed:
                break
            final += 1
        return self._settle(fresh, final)
