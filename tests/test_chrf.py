"""The bench's chrF agrees with sacreBLEU's (2.6.0, default CHRF(): n=6, beta=2, no word n-grams)."""

import pytest

from bench.chrf import corpus_chrf, sentence_chrf

HYPOTHESES = [
    "The conference is now being recorded.",
    "Confirming is now in discreet mode.",
    "This operator is already registered. Check the operator's number and press the shortcut.",
]
REFERENCES = [
    "The conference is now being recorded.",
    "The conference is now muted.",
    "That agent is already logged on.  Please enter your agent number followed by the pound key.",
]


def test_bounds():
    assert sentence_chrf("same words here", "same  words\there") == 100.0  # whitespace is ignored
    assert sentence_chrf("xyz", "abc") == 0.0


def test_matches_sacrebleu():
    # Values printed by sacrebleu.metrics.CHRF().sentence_score / corpus_score on the same strings.
    assert sentence_chrf(HYPOTHESES[1], REFERENCES[1]) == pytest.approx(21.887368710182823)
    assert sentence_chrf(HYPOTHESES[2], REFERENCES[2]) == pytest.approx(24.32957305051577)
    assert corpus_chrf([*HYPOTHESES, "a"], [*REFERENCES, "completely different"]) == pytest.approx(
        37.625416701950826
    )
