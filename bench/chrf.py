"""chrF (Popović 2015): the character n-gram F-score, as sacreBLEU computes it by default.

Character n-grams of orders 1..6, whitespace removed, precision and recall averaged over the
orders, combined with beta = 2 (recall counts twice as much). The corpus score pools the
n-gram counts of every sentence before dividing, as sacreBLEU's corpus_score does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

ORDER = 6
BETA = 2.0


def _ngrams(text: str, n: int) -> Counter[str]:
    chars = "".join(text.split())
    return Counter(chars[i:i + n] for i in range(len(chars) - n + 1))


def _statistics(hypothesis: str, reference: str) -> list[tuple[int, int, int]]:
    """Per order: (matching n-grams, hypothesis n-grams, reference n-grams)."""
    stats = []
    for n in range(1, ORDER + 1):
        hyp, ref = _ngrams(hypothesis, n), _ngrams(reference, n)
        stats.append((sum((hyp & ref).values()), sum(hyp.values()), sum(ref.values())))
    return stats


def _score(stats: Sequence[tuple[int, int, int]]) -> float:
    precisions, recalls = [], []
    for match, hyp, ref in stats:
        if hyp > 0 and ref > 0:
            precisions.append(match / hyp)
            recalls.append(match / ref)
    if not precisions:
        return 0.0
    p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if p + r == 0:
        return 0.0
    return 100 * (1 + BETA**2) * p * r / (BETA**2 * p + r)


def sentence_chrf(hypothesis: str, reference: str) -> float:
    return _score(_statistics(hypothesis, reference))


def corpus_chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    totals = [[0, 0, 0] for _ in range(ORDER)]
    for hypothesis, reference in zip(hypotheses, references, strict=True):
        for total, stat in zip(totals, _statistics(hypothesis, reference), strict=True):
            for i in range(3):
                total[i] += stat[i]
    return _score([tuple(total) for total in totals])
