"""Utterance-final revision: the line and speaker bookkeeping (pure), then real speech end to end."""

import itertools

import numpy as np
import pytest

from app.core.choices import ChoiceError, StreamChoices
from app.core.decoding import SAMPLE_RATE, float_to_pcm16
from app.core.engine import Decoded
from app.core.feed import feed_samples
from app.core.hallucination import DecodedSegment
from app.core.lines import LineBuilder
from app.core.processor import AudioProcessor, ProcessorConfig
from app.core.revision import RevisionJob, RevisionSettings, cut_unlikely_tail, same_words, within_job
from app.core.speaker_gate import SpeakerGate
from app.core.transcriber import StreamTranscriber
from app.core.words import TimedWord
from app.server.protocol import UpdateEncoder, apply_message
from tests.conftest import clip, corpus_wer, manifest, run, stream_bytes


def w(text: str, start: float, end: float, probability: float = 1.0) -> TimedWord:
    return TimedWord(text, start, end, probability)


# -- lines ------------------------------------------------------------------------------


def test_a_revision_replaces_only_the_utterance_and_marks_its_lines():
    builder = LineBuilder()
    earlier = [w(" Good", 0.0, 0.3), w(" morning.", 0.3, 0.8)]
    old = [w(" No", 2.0, 2.2), w(" Directory", 2.2, 2.6), w(" Manture", 2.6, 3.0), w(" Search.", 3.0, 3.4)]
    builder.add_words(earlier, speaker=1, language="en")
    builder.add_words(old, speaker=2, language="en")
    before = builder.lines
    new = [w(" No", 2.0, 2.2), w(" directory", 2.2, 2.6), w(" entries", 2.6, 2.8), w(" match", 2.8, 3.0),
           w(" your", 3.0, 3.1), w(" search.", 3.1, 3.4)]
    builder.revise(old, new)
    after = builder.lines
    assert after[0] == before[0]  # the line before the utterance is the same object's equal
    assert [(line.text, line.speaker, line.revised) for line in after[1:]] == [
        ("No directory entries match your search.", 2, True)
    ]
    assert after[1].to_dict()["revised"] is True
    assert "revised" not in after[0].to_dict()


def test_a_revision_keeps_silence_lines_and_later_words_in_time_order():
    builder = LineBuilder(silence_gap_s=2.0)
    old = [w(" hello", 0.0, 0.5), w(" word.", 0.5, 1.0)]
    builder.add_words(old)
    builder.note_silence(1.0, 3.5)
    later = [w(" Next", 3.6, 4.0)]
    builder.add_words(later)
    builder.revise(old, [w(" Hello", 0.0, 0.5), w(" world.", 0.5, 1.0)])
    assert [(line.text, line.is_silence) for line in builder.lines] == [
        ("Hello world.", False), ("", True), ("Next", False)
    ]
    assert [line.revised for line in builder.lines] == [True, False, False]
    builder.add_words([w(" again", 4.0, 4.3)])  # the last line still grows after a revision
    assert builder.lines[-1].text == "Next again"


def test_kept_words_are_not_what_marks_a_line_revised():
    builder = LineBuilder()
    words = [w(" same", 0.0, 0.5), w(" words", 0.5, 1.0)]
    builder.add_words(words)
    builder.revise(words, words)
    assert builder.lines[0].text == "same words" and not builder.lines[0].revised


def test_a_revision_of_words_no_longer_kept_changes_nothing():
    builder = LineBuilder()
    builder.KEPT_LINES = 2
    first = [w(" One.", 0.0, 0.5)]
    builder.add_words(first)
    for i in range(1, 8):
        builder.add_words([w(f" Line{i}.", i, i + 0.5)])
    before = builder.lines
    builder.revise(first, [w(" Won.", 0.0, 0.5)])
    assert builder.lines == before


# -- speaker gate -----------------------------------------------------------------------


class Labels:
    """A diarizer that has covered the first ``covered_until`` seconds: speaker 1, then 2 from 2 s."""

    def __init__(self, covered_until: float) -> None:
        self.covered_until = covered_until
        self.relabels = 0

    def speaker_for(self, start: float, end: float) -> int:
        return 1 if end <= 2.0 else 2


def test_revised_words_go_on_lines_and_into_the_queue_where_the_old_ones_were():
    gate = SpeakerGate(LineBuilder())
    labels = Labels(covered_until=1.0)
    gate.attach(labels)
    old = [w(" a", 0.0, 0.4), w(" bee", 0.5, 0.9), w(" sea", 1.0, 1.4), w(" dee", 1.5, 1.9)]
    gate.add_words(old, "en")
    gate.release()
    assert gate.lines.lines[0].text == "a bee"
    assert gate.waiting_text == " sea dee"
    gate.revise(old, [w(" A", 0.0, 0.4), w(" B", 0.5, 0.9), w(" C", 1.0, 1.4), w(" D.", 1.5, 1.9)])
    assert gate.lines.lines[0].text == "A B"
    assert gate.waiting_text == " C D."
    labels.covered_until = 3.0
    gate.release()
    assert [line.text for line in gate.lines.lines] == ["A B C D."]


def test_without_a_diarizer_a_revision_goes_straight_to_lines():
    gate = SpeakerGate(LineBuilder())
    old = [w(" ask", 0.0, 0.3), w(" knot", 0.3, 0.6)]
    gate.add_words(old, "en")
    gate.revise(old, [w(" Ask", 0.0, 0.3), w(" not", 0.3, 0.6)])
    assert gate.lines.lines[0].text == "Ask not"


# -- the pure rules ---------------------------------------------------------------------


def test_an_unlikely_word_past_the_live_words_cuts_the_answer_there():
    old = [w(" the", 15.2, 15.3), w(" menu.", 15.5, 15.9)]
    answer = [*old, w(" You", 15.96, 16.0, 0.01), w(" know", 16.0, 16.1)]
    assert [x.text for x in cut_unlikely_tail(answer, old, RevisionSettings())] == [" the", " menu."]
    likely = [*answer[:2], w(" please.", 15.95, 16.3, 0.9)]
    assert cut_unlikely_tail(likely, old, RevisionSettings()) == likely  # a word live decoding missed


def test_job_bounds_drop_a_neighbours_edge_but_keep_words_timed_across_them():
    job = RevisionJob(np.zeros(1), 0.0, 2.0, 5.0, "", "en", (), ())
    words = [w(" prev", 1.7, 2.1), w(" one", 2.1, 2.5), w(" last.", 4.8, 5.3), w(" next", 5.1, 5.3)]
    assert [x.text for x in within_job(words, job)] == [" one", " last."]
    # Whisper times the first word after a pause from the pause's start (tiny.en, a phone prompt).
    assert [x.text for x in within_job([w(" Press", 0.9, 2.4)], job)] == [" Press"]


def test_same_words_counts_spelling_and_punctuation_not_times():
    assert same_words([w(" Hi.", 0, 1)], [w("Hi.", 0.1, 0.9)])
    assert not same_words([w(" Hi.", 0, 1)], [w(" Hi", 0, 1)])


def decoded(*words: TimedWord) -> Decoded:
    segment = DecodedSegment(words=words, no_speech_prob=0.0, avg_logprob=-0.1, compression_ratio=1.2)
    return Decoded((segment,), "en", 1.0)


def speaking_core(seconds: float = 3.0) -> StreamTranscriber:
    """A core that heard ``seconds`` of audio, speech from 0.32 s on (VAD windows are 32 ms)."""
    core = StreamTranscriber(language="en")
    windows = round(seconds / 0.032)
    core.accept(np.zeros(windows * 512, dtype=np.float32), np.repeat([0.0, 1.0], [10, windows - 10]))
    return core


def queued(words: list[TimedWord]) -> tuple[StreamTranscriber, RevisionJob]:
    core = speaking_core()
    core._commit(words)
    core._queue_revision(2.0)
    [job] = core.take_revisions()
    assert core.take_revisions() == []  # each word is offered once
    return core, job


def test_a_finished_stretch_is_queued_with_the_audio_around_it():
    old = [w(" ask", 0.5, 0.8), w(" knot", 0.8, 1.2), w(" what", 1.2, 1.5)]
    _, job = queued(old)
    assert job.words == tuple(old) and job.end == 2.0
    # The stretch starts a little before the speech the VAD heard (0.32 s); the decode also
    # hears the buffer before it, and goes on 0.3 s past the end.
    assert 0.1 < job.start < 0.32 and job.offset == 0.0
    assert len(job.audio) == round(2.3 * SAMPLE_RATE)


def test_the_transcriber_swaps_in_a_trusted_answer():
    core, job = queued([w(" ask", 0.5, 0.8), w(" knot", 0.8, 1.2), w(" what", 1.2, 1.5)])
    answer = decoded(w(" Ask", 0.5, 0.8), w(" not", 0.8, 1.2), w(" what", 1.2, 1.5))
    assert core.apply_revision(job, answer, received_until=2.5)
    assert core.lines.lines[0].text == "Ask not what" and core.lines.lines[0].revised
    stats = core.revision_stats
    assert (stats.revised, stats.rejected, stats.unchanged, stats.late_s) == (1, 0, 0, [0.5])
    assert [word.text for word in core._committed] == [" Ask", " not", " what"]  # the next prompt


def test_an_answer_that_lost_words_is_not_trusted_and_the_live_words_are_only_tidied():
    core, job = queued([w(" ask", 0.5, 0.8), w(" knot", 0.8, 1.2), w(" what", 1.2, 1.5)])
    assert core.apply_revision(job, decoded(w(" ask", 0.5, 0.8)), received_until=2.4)  # lost 2 of 3
    assert core.lines.lines[0].text == "Ask knot what"  # sentence case: the transcript's first word
    assert core.revision_stats.rejected == 1 and core.revision_stats.revised == 0


def test_a_skipped_revision_still_tidies_across_the_boundary():
    core, _ = queued([w(" Americans.", 0.4, 1.0)])
    core._commit([w(" ask", 2.1, 2.3), w(" not", 2.3, 2.5)])
    core.accept(np.zeros(512 * 40, dtype=np.float32), np.ones(40))
    core._queue_revision(3.0)
    [second] = core.take_revisions()
    core.skip_revision(second)
    assert core.lines.lines[0].text == "Americans ask not"
    assert core.revision_stats.skipped == 1


def test_no_revision_is_offered_when_it_is_switched_off():
    core = StreamTranscriber(language="en", revise=False)
    core._commit([w(" hi", 0.1, 0.4)])
    core._queue_revision(1.0)
    assert core.take_revisions() == []


def test_a_client_switches_revision_with_the_query():
    defaults = StreamChoices()
    assert defaults.revise, "on by default"
    assert not defaults.with_query({"revise": "0"}).revise
    assert defaults.replace(revise=False).with_query({"revise": "on"}).revise
    assert defaults.with_query({"revise": ""}) == defaults
    with pytest.raises(ChoiceError, match="revise must be 1 or 0"):
        defaults.with_query({"revise": "maybe"})


# -- real speech ------------------------------------------------------------------------


def file_updates(engine, name: str, revise: bool = True, live: bool = False):
    config = ProcessorConfig(live=live, choices=StreamChoices(revise=revise))
    return run(stream_bytes(engine, float_to_pcm16(clip("en", name)), config=config))


def test_a_revision_reaches_the_wire_in_both_modes_and_the_diff_client_rebuilds_it(tiny_engine):
    # tiny.en's live decodes write "No Directory Entries Manture Search." on this prompt;
    # the utterance decoded whole with a beam reads it right.
    updates = file_updates(tiny_engine, "ast_en_dir-nomatch.wav")
    final = updates[-1]
    assert final.text == "No directory entries match your search."
    assert final.lines[0].revised
    changed = [b for a, b in itertools.pairwise(updates) if a.lines and b.lines and a.lines[0] != b.lines[0]]
    assert any(update.lines[0].revised for update in changed), "the revision never replaced a shown line"

    full, diff = UpdateEncoder("full"), UpdateEncoder("diff")
    rebuilt: list[dict] = []
    sent_full = []
    for update in updates:
        if (message := full.encode(update)) is not None:
            sent_full.append(message)
        if (message := diff.encode(update)) is not None:
            rebuilt = apply_message(rebuilt, message)
    assert sent_full[-1]["lines"] == rebuilt
    assert rebuilt[0]["revised"] is True and rebuilt[0]["text"] == final.lines[0].text


def test_revision_improves_tiny_on_clips_its_live_decodes_get_wrong(tiny_engine):
    clips = ["ast_en_dir-nomatch.wav", "ast_en_queue-youarenext.wav", "ast_en_confbridge-lock-no-join.wav"]
    refs = [manifest("en")[name]["text"] for name in clips]
    live = [file_updates(tiny_engine, name, revise=False)[-1].text for name in clips]
    revised = [file_updates(tiny_engine, name)[-1].text for name in clips]
    assert corpus_wer(refs, revised) < corpus_wer(refs, live), (live, revised)


def fed(engine, config: ProcessorConfig, samples: np.ndarray, chunk_s: float) -> AudioProcessor:
    """A processor that took ``samples`` as fast as it would, and finished."""

    async def feed_all() -> AudioProcessor:
        processor = AudioProcessor(engine, config)
        await feed_samples(processor, samples, chunk_s=chunk_s, realtime=False)
        async for _ in processor.results():
            pass
        await processor.cleanup()
        return processor

    return run(feed_all())


def test_silence_is_never_revised(tiny_engine):
    silence = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)
    stats = fed(tiny_engine, ProcessorConfig(live=False), silence, chunk_s=0.5).revision_stats
    assert stats.attempted == 0 and stats.skipped == 0


def test_a_live_stream_that_is_behind_skips_its_revisions_and_counts_them(tiny_engine):
    # Fed far faster than real time, a live stream is more than a second behind until its end.
    speech = np.concatenate([clip("en", "ast_en_vm-options.wav")] * 2)
    stats = fed(tiny_engine, ProcessorConfig(live=True), speech, chunk_s=2.0).revision_stats
    assert stats.skipped >= 1
