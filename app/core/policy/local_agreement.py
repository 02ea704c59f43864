"""LocalAgreement-2: a word is final once two consecutive hypotheses agree on it.

Or once Whisper has heard ``SETTLE_AFTER_S`` of audio after it, agreed or not, so one
word the decodes keep revising never holds back the whole sentence behind it. An agreed
word the decoder gave a low probability is treated as unagreed.

Whisper revises the tail of what it hears as more audio arrives; the prefix two decodes
share is very unlikely to change again. Words the buffer repeats from earlier commits
are dropped first (:class:`CommittedTail`).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.policy.committed import PrefixPolicy
from app.core.words import TimedWord

# A word this close to the end of the decoded audio may be cut off mid-way ("Digi-" for
# "Digium", "you are" for "your"); it waits for the next decode even if agreed. Decodes
# 0.3 s apart hear nearly the same audio, so their agreement alone proves little that close.
TAIL_GUARD_S = 0.4
# A word Whisper has heard this much audio after is final even if the last two decodes
# differ on it: on long fluent speech they can disagree on one early word for seconds,
# and everything after that word would wait with it (bench.stream: up to 8.7 s).
SETTLE_AFTER_S = 1.5
# Two decodes of the first second of an utterance hear nearly the same little audio and can
# agree on the same wrong word ("Please that your" for "Please enter your", p 0.2 and 0.35).
# An agreed word Whisper itself doubts waits, like an unagreed one, until it was heard
# with SETTLE_AFTER_S of audio after it. Fed as files (bench.replay_wer, base, 79 eval/en
# clips, offline 3.26 %), WER was 4.64 % without the rule and 4.35 / 3.85 % at 0.5 / 0.7;
# live on the 11 long clips (bench.stream, offline 1.71 %) 3.70 % without it, 3.70 % at 0.5
# and 4.84 % at 0.7, whose waits let later, slower decodes settle worse words.
SURE_PROBABILITY = 0.5


class LocalAgreement(PrefixPolicy):
    """Longest-common-prefix commit over consecutive hypotheses (whisper_streaming's rule)."""

    def update(self, hypothesis: Sequence[TimedWord], buffer_end: float) -> list[TimedWord]:
        fresh = self._committed.fresh(hypothesis)
        final = 0
        for index, new in enumerate(fresh):
            agreed = index < len(self._previous) and self._previous[index].key == new.key
            sure = agreed and new.probability >= SURE_PROBABILITY
            if not self._heard_after(new, buffer_end, TAIL_GUARD_S if sure else SETTLE_AFTER_S):
                break
            final += 1
        return self._settle(fresh, final)
