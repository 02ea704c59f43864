"""The streaming core's rules, driven with chosen VAD probabilities and hypotheses.

Here the recogniser's answers are constructed on purpose (endless disagreement, speech
without a full stop) to reach the buffer bounds that real speech reaches only rarely.
"""

import itertools
from dataclasses import replace

import numpy as np

from app.core.engine import Decoded
from app.core.hallucination import DecodedSegment
from app.core.transcriber import DecodeRequest, StreamTranscriber
from app.core.vad import WINDOW
from app.core.words import TimedWord

STEP = 0.512  # 16 VAD windows


def step(core: StreamTranscriber, prob: float) -> DecodeRequest | None:
    core.accept(np.zeros(16 * WINDOW, np.float32), np.full(16, prob, np.float32))
    return core.plan()


def answer(
    request: DecodeRequest, words_per_second: float, salt: str = "", sentence_every: int = 0
) -> Decoded:
    """One word every 1/words_per_second over the request; ``salt`` makes hypotheses disagree."""
    words = []
    t, i = request.offset, 0
    while t + 0.3 <= request.end:
        text = f" w{round(t * 100)}{salt}"
        if sentence_every and i % sentence_every == sentence_every - 1:
            text += "."
        words.append(TimedWord(text, t, t + 0.3))
        t += 1 / words_per_second
        i += 1
    return Decoded((DecodedSegment(tuple(words), 0.01, -0.2, 1.3),), "en", 0.99)


def peak_buffer(core: StreamTranscriber, respond, steps: int = 240) -> float:
    """Two minutes of unbroken "speech"; ``respond(request, n)`` plays the recogniser."""
    peak = 0.0
    for n in range(steps):
        request = step(core, 0.95)
        if request is not None:
            core.apply(request, respond(request, n))
        peak = max(peak, core.buffer_seconds)
    return peak


def test_silence_never_reaches_the_recogniser_and_keeps_only_a_preroll():
    core = StreamTranscriber()
    for _ in range(100):
        assert step(core, 0.02) is None
    assert core.buffer_seconds <= 0.3 + STEP
    assert core.snapshot(core.received_until).status == "no_audio_detected"
    assert core.snapshot(core.received_until).remaining_time_transcription == 0.0


def test_endless_disagreement_still_commits_and_bounds_the_buffer():
    core = StreamTranscriber()
    peak = peak_buffer(core, lambda request, n: answer(request, 3, salt=f"x{n}"))
    assert peak <= core.settings.hard_buffer_s + STEP
    assert len(core.lines.lines) > 0, "the hard cap commits pending words rather than dropping them"


def test_agreeing_speech_is_cut_at_sentence_ends_below_the_soft_limit():
    core = StreamTranscriber()
    peak = peak_buffer(core, lambda request, n: answer(request, 2.5, sentence_every=8))
    assert peak <= core.settings.trim_after_s + 3.5
    committed = " ".join(line.text for line in core.lines.lines)
    assert committed.count(".") >= 20


def test_agreeing_speech_without_sentence_ends_is_cut_at_the_last_committed_word():
    core = StreamTranscriber()
    peak = peak_buffer(core, lambda request, n: answer(request, 2.5))
    assert core.settings.trim_after_s < peak <= core.settings.max_buffer_s + STEP


def test_a_pause_commits_the_utterance_and_then_shows_a_silence_line():
    core = StreamTranscriber()
    for _ in range(4):
        request = step(core, 0.95)
        if request is not None:
            core.apply(request, answer(request, 2))
    assert core.policy.pending, "mid-utterance words wait for agreement"
    request = None
    for _ in range(2):
        request = step(core, 0.01) or request
    assert request is not None and request.final
    core.apply(request, answer(request, 2))
    assert core.policy.pending == ()
    for _ in range(6):
        assert step(core, 0.01) is None
    lines = core.lines.lines
    assert lines[-1].is_silence and lines[-1].end - lines[-1].start >= 2.0


def core_after_sentences() -> StreamTranscriber:
    """A core after 40 steps of agreeing speech with a sentence end every 5 words."""
    core = StreamTranscriber()
    for _ in range(40):
        request = step(core, 0.95)
        if request is not None:
            core.apply(request, answer(request, 2.5, sentence_every=5))
    return core


def test_prompt_holds_committed_text_from_before_the_buffer_only():
    core = core_after_sentences()
    request = step(core, 0.95)
    assert request is not None and request.prompt
    spoken_before = [w for line in core.lines.lines for w in line.text.split()]
    assert request.prompt.split()[-1] in spoken_before
    last_prompt_word = request.prompt.split()[-1].rstrip(".")
    assert int(last_prompt_word[1:]) / 100 < request.offset


def test_decodes_keep_the_cadence_but_a_pause_is_decoded_at_once_and_ends_the_utterance():
    """Mid-utterance a decode waits for min_new_audio_s; the pause's decode is reused at its end."""
    core = StreamTranscriber()
    requests = []

    def listen(prob: float) -> DecodeRequest | None:
        core.accept(np.zeros(4 * WINDOW, np.float32), np.full(4, prob, np.float32))  # 0.128 s
        request = core.plan(min_new_audio_s=0.5)
        if request is not None:
            requests.append(request)
            core.apply(request, request.reuse or answer(request, 2))
        return request

    for _ in range(16):  # 2 s of speech
        listen(0.95)
    ends = [r.end for r in requests]
    assert all(b - a >= 0.5 - 1e-6 for a, b in itertools.pairwise(ends)), ends
    assert 3 <= len(requests) <= 4, "the first decode comes once there is enough speech, then every 0.5 s"
    quiet = [listen(0.01) for _ in range(6)]
    pause = next(r for r in quiet if r is not None)
    assert not pause.final and pause.reuse is None, "the pause is decoded before it is known to end anything"
    final = next(r for r in quiet if r is not None and r.final)
    assert final.reuse is not None, "the utterance's end reuses the pause's decode instead of decoding again"
    assert core.policy.pending == () and core.lines.lines


def test_a_hypothesis_that_repeats_the_prompt_after_the_commit_is_flagged():
    """Whisper sometimes writes its prompt out again; the processor then decodes without it."""
    core = core_after_sentences()
    request = step(core, 0.95)
    while request is None:
        request = step(core, 0.95)
    prompt_tail = request.prompt.split()[-6:]
    start = core.policy.committed_until + 0.05
    times = [(start + i * 0.2, start + i * 0.2 + 0.15) for i in range(len(prompt_tail))]
    echo = [TimedWord(" " + w, a, b) for w, (a, b) in zip(prompt_tail, times, strict=True)]
    decoded = Decoded((DecodedSegment(tuple(echo), 0.01, -0.2, 1.3),), "en", 0.99)
    assert core.echoes_prompt(request, decoded)
    assert not core.echoes_prompt(replace(request, prompt=""), decoded), "no prompt, nothing to echo"
    fresh = answer(request, 2.5)
    assert not core.echoes_prompt(request, fresh)
