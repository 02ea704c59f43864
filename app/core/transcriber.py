"""The streaming core of one stream, with no asyncio and no model inside.

It holds the audio buffer, the VAD's view of speech, the streaming policy and the lines.
The processor feeds it audio with VAD probabilities, asks :meth:`plan` what to decode,
runs that decode on the engine and hands the result to :meth:`apply`. Keeping the rules
here, synchronous, makes them testable and keeps the processor a thin async shell.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from app.core.decoding import SAMPLE_RATE
from app.core.engine import Decoded
from app.core.frontdata import STATUS_ACTIVE, STATUS_NO_AUDIO, FrontData
from app.core.hallucination import (
    cut_echo,
    cut_repetition_loop,
    cut_unheard,
    plausible_words,
    spoken,
    within_speech,
)
from app.core.lines import LineBuilder
from app.core.policy import DEFAULT_POLICY, StreamingPolicy, create_policy
from app.core.revision import (
    RevisionJob,
    RevisionSettings,
    RevisionStats,
    cut_unlikely_tail,
    same_words,
    trim_overlap,
    trusted,
    within_job,
)
from app.core.speaker_gate import SpeakerGate
from app.core.tidy import tidy_words
from app.core.vad import SpeechRegion, SpeechTracker
from app.core.words import TimedWord, join_words


def heard_words(decoded: Decoded, regions: Sequence[SpeechRegion], since: float) -> list[TimedWord]:
    """The decode's words that pass the hallucination filters, for audio decoded from ``since``.

    Live decodes and an utterance's revision both go through these same filters, so a revision
    can never bring back what the live path drops as invented.
    """
    speech_s = sum(r.end - max(r.start, since) for r in regions)
    words: list[TimedWord] = []
    for segment in decoded.segments:
        words.extend(plausible_words(segment, speech_s))
    return within_speech(cut_unheard(cut_repetition_loop(spoken(words))), regions)


@dataclass(frozen=True)
class StreamSettings:
    """Timing rules of the streaming core; defaults were tuned with ``bench.stream``."""

    min_speech_s: float = 0.3  # speech needed before the first decode of an utterance
    utterance_end_silence_s: float = 0.5  # a pause this long commits the whole utterance
    silence_line_s: float = 2.0  # a pause this long is shown as a silence line
    context_reset_silence_s: float = 8.0  # after this long a pause, forget the prompt
    trim_after_s: float = 10.0  # past this, cut the buffer at a committed sentence end
    max_buffer_s: float = 15.0  # past this, cut at the last committed word
    hard_buffer_s: float = 20.0  # past this, commit what is pending and cut regardless
    preroll_s: float = 0.3  # silence kept before speech so the first word is not clipped
    tail_pad_s: float = 0.25  # audio kept after the last voiced window when an utterance ends
    prompt_chars: int = 200


@dataclass(frozen=True)
class DecodeRequest:
    audio: np.ndarray
    offset: float
    end: float
    prompt: str
    language: str | None
    final: bool  # commit everything afterwards: the utterance or the stream ended
    reuse: Decoded | None = None  # an earlier decode already heard all of it: apply that, decode nothing


class StreamTranscriber:
    def __init__(
        self,
        settings: StreamSettings | None = None,
        language: str | None = None,
        policy: str = DEFAULT_POLICY,
        revise: bool = True,
        revision: RevisionSettings | None = None,
    ) -> None:
        self.settings = settings or StreamSettings()
        self.revise = revise
        self.revision = revision or RevisionSettings()
        self.revision_stats = RevisionStats()
        self.language = language
        self._language_locked = language is not None
        self.tracker = SpeechTracker()
        self.policy: StreamingPolicy = create_policy(policy)
        self.lines = LineBuilder(silence_gap_s=self.settings.silence_line_s)
        self.speakers = SpeakerGate(self.lines)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._offset = 0.0
        self.processed_until = 0.0
        self._finalized_until = 0.0
        self._committed: deque[TimedWord] = deque(maxlen=256)
        self._sentence_ends: list[float] = []
        self._last: tuple[DecodeRequest, Decoded] | None = None  # the latest decode and its answer
        self._unrevised: list[TimedWord] = []  # committed since the last revision point
        self._stretch_end = 0.0  # where the last stretch offered for revision ended
        self._revisions: deque[RevisionJob] = deque()

    # -- audio in -------------------------------------------------------------------

    @property
    def received_until(self) -> float:
        return self._offset + len(self._buffer) / SAMPLE_RATE

    @property
    def buffer_seconds(self) -> float:
        return len(self._buffer) / SAMPLE_RATE

    def accept(self, samples: np.ndarray, speech_probs: np.ndarray) -> None:
        self._buffer = np.concatenate([self._buffer, samples])
        self.tracker.push(speech_probs)

    # -- what to decode next --------------------------------------------------------

    def plan(self, stream_ended: bool = False, min_new_audio_s: float = 0.0) -> DecodeRequest | None:
        """The decode to run now, or None when there is nothing worth decoding.

        Mid-utterance, a decode waits until ``min_new_audio_s`` of audio arrived since the
        last one (the caller's cadence). Two moments skip that wait, because a reader is
        waiting on them: the first decode of an utterance, and the moment the speaker
        pauses. The pause's decode hears every word of the utterance, so if the pause
        turns out to end the utterance, its answer is applied again instead of decoding
        the same speech a second time: the last words are final as soon as the pause is.
        """
        pending_speech = self.tracker.speech_since(self._finalized_until)
        if pending_speech <= 0.0:
            self._idle()
            return None
        speech_end = min(self.received_until, self.tracker.last_speech_end + self.settings.tail_pad_s)
        if stream_ended:
            # Trailing silence is where Whisper invents words: stop where the speech stopped.
            return self._final(self.received_until if self.tracker.in_speech else speech_end)
        silence = self.tracker.silence_duration
        if silence >= self.settings.utterance_end_silence_s:
            return self._final(speech_end)
        if pending_speech < self.settings.min_speech_s:
            return None
        last_end = self._last[0].end if self._last else 0.0
        paused = silence >= self.settings.tail_pad_s and last_end < speech_end
        if not paused and self.received_until - last_end < min_new_audio_s:
            return None
        return self._request(self.received_until, final=False)

    def _final(self, end: float) -> DecodeRequest:
        """The utterance's last decode, or the latest one again when it already heard all of it."""
        request = self._request(end, final=True)
        if self._last is not None:
            last, decoded = self._last
            if not last.final and last.offset == request.offset and last.end >= end:
                return replace(request, reuse=decoded)
        return request

    def _request(self, end: float, final: bool) -> DecodeRequest:
        samples = round((end - self._offset) * SAMPLE_RATE)
        return DecodeRequest(
            audio=self._buffer[:samples],
            offset=self._offset,
            end=end,
            prompt=self._prompt(),
            language=self.language if self._language_locked else None,
            final=final,
        )

    def _prompt(self) -> str:
        """Committed text before the buffer: Whisper hears the rest itself."""
        return join_words(self._prompt_words()).strip()[-self.settings.prompt_chars:]

    def _prompt_words(self) -> list[TimedWord]:
        """The committed words before the buffer that the prompt (partly) holds."""
        before = [w for w in self._committed if w.end <= self._offset + 1e-3]
        chars = 0
        for index in range(len(before) - 1, -1, -1):
            chars += len(before[index].text)
            if chars >= self.settings.prompt_chars:
                return before[index:]
        return before

    def _idle(self) -> None:
        """Nothing new to decode: record the pause and never call the recogniser.

        After a short pause the finished utterance's audio stays in the buffer, because
        Whisper hears the next words better with it; a real pause empties the buffer
        down to a short pre-roll.
        """
        quiet = self.tracker.silence_duration
        if quiet >= self.settings.silence_line_s or self.tracker.speech_since(self._offset) <= 0:
            self._cut(max(self._offset, self.received_until - self.settings.preroll_s))
        else:
            self._trim_long_buffer(self.received_until)
        self.processed_until = self.received_until
        if quiet >= self.settings.silence_line_s:
            # The VAD confirms speech a few windows late; end the gap before it could start.
            pause_end = self.tracker.now - self.settings.preroll_s
            self.speakers.note_silence(self.tracker.last_speech_end, pause_end)
        if quiet >= self.settings.context_reset_silence_s:
            self._committed.clear()
        self.tracker.forget_before(self._offset)

    # -- a decode came back ---------------------------------------------------------

    def apply(self, request: DecodeRequest, decoded: Decoded) -> list[TimedWord]:
        """Filter the hypothesis, let the policy commit, cut the buffer; return new words."""
        self._maybe_lock_language(decoded)
        words = heard_words(decoded, self.tracker.regions(since=request.offset), request.offset)
        in_buffer = [w for w in self._committed if w.end > request.offset]
        words = cut_echo(words, in_buffer, after=self.policy.committed_until)
        committed = self.policy.update(words, request.end)
        if request.final:
            committed += self.policy.flush()
        self._commit(committed)
        self._last = (request, decoded)
        self.processed_until = max(self.processed_until, request.end)
        if request.final:
            self._finalized_until = request.end
            self._queue_revision(request.end)
        self._trim_long_buffer(request.end)
        return committed

    def echoes_prompt(self, request: DecodeRequest, decoded: Decoded) -> bool:
        """Whether the hypothesis writes a run of the prompt again after the commit point.

        Whisper sometimes writes its prompt out again as if it were new speech; but a
        speaker may really say it again (a dictated sentence read twice, a looped video).
        Text alone cannot tell the two apart, so the caller decodes the buffer once more
        without the prompt and lets the audio decide.
        """
        if not request.prompt:
            return False
        words = spoken([word for segment in decoded.segments for word in segment.words])
        kept = cut_echo(words, self._prompt_words(), after=self.policy.committed_until)
        return len(kept) < len(words)

    def _maybe_lock_language(self, decoded: Decoded) -> None:
        if self._language_locked or not decoded.segments:
            return
        self.language = decoded.language
        if decoded.language_probability >= 0.6 and self.tracker.speech_since(self._offset) >= 1.5:
            self._language_locked = True

    def _commit(self, words: list[TimedWord]) -> None:
        if not words:
            return
        self.speakers.add_words(words, self.language or "")
        self._committed.extend(words)
        self._sentence_ends.extend(w.end for w in words if w.ends_sentence)
        if self.revise:
            self._unrevised.extend(words)

    def _trim_long_buffer(self, decoded_until: float) -> None:
        """Bound the buffer: at a sentence end if possible, at any committed word if needed."""
        s = self.settings
        if self.buffer_seconds <= s.trim_after_s:
            return
        sentence_cut = max((t for t in self._sentence_ends if t > self._offset), default=None)
        if sentence_cut is not None:
            self._cut(sentence_cut)
        elif self.buffer_seconds > s.max_buffer_s and self.policy.committed_until > self._offset:
            self._cut(self.policy.committed_until)
        if self.buffer_seconds > s.hard_buffer_s:
            flushed = self.policy.flush()
            self._commit(flushed)
            self._cut(flushed[-1].end if flushed else decoded_until)

    def _cut(self, time: float) -> None:
        drop = round((time - self._offset) * SAMPLE_RATE)
        if drop <= 0:
            return
        self._queue_revision(time)  # the hard cut of a long utterance ends what it drops
        drop = min(drop, len(self._buffer))
        self._buffer = self._buffer[drop:]
        self._offset += drop / SAMPLE_RATE
        self._sentence_ends = [t for t in self._sentence_ends if t > self._offset]

    # -- revision -------------------------------------------------------------------

    def _queue_revision(self, until: float) -> None:
        """The words committed up to ``until`` are final: queue their stretch for one more decode.

        Called when an utterance ends and before the buffer drops audio, so every committed
        word is offered for revision once, with audio that still holds it.
        """
        count = 0
        while count < len(self._unrevised) and self._unrevised[count].end <= until + 1e-3:
            count += 1
        if not count:
            return
        words, self._unrevised = tuple(self._unrevised[:count]), self._unrevised[count:]
        lead_in = self._speech_start(words) - self.revision.lead_s
        start = max(self._offset, lead_in, self._stretch_end)  # stretches never overlap
        self._stretch_end = until
        offset = max(self._offset, start - self.revision.context_s)
        ids = {id(w) for w in words}
        before = tuple(w for w in self._committed if id(w) not in ids and w.end <= offset + 1e-3)
        audio_end = min(self.received_until, until + self.revision.tail_s)
        first, last = (round((t - self._offset) * SAMPLE_RATE) for t in (offset, audio_end))
        self._revisions.append(
            RevisionJob(
                audio=self._buffer[first:last].copy(),
                offset=offset,
                start=start,
                end=until,
                prompt=join_words(before).strip()[-self.settings.prompt_chars:],
                language=self.language if self._language_locked else None,
                words=words,
                regions=tuple(self.tracker.regions(since=offset)),
                before=before,
            )
        )

    def _speech_start(self, words: tuple[TimedWord, ...]) -> float:
        """Where the stretch's speech starts: Whisper times a first word late at times (0.4 s seen)."""
        first = min(w.start for w in words)
        region = next((r for r in self.tracker.regions(since=self._offset) if r.end > first), None)
        return min(first, region.start) if region is not None else first

    def take_revisions(self) -> list[RevisionJob]:
        """The stretches waiting for their revision, oldest first; the caller runs or skips each."""
        jobs = list(self._revisions)
        self._revisions.clear()
        return jobs

    def skip_revision(self, job: RevisionJob) -> None:
        """No time to decode it again: its live words stay, tidied (that costs nothing)."""
        self.revision_stats.skipped += 1
        self._settle(job, job.words, self._neighbours(job.words)[0])

    def apply_revision(self, job: RevisionJob, decoded: Decoded, received_until: float) -> bool:
        """Put the revision's words in place of the job's; True when a reader sees a change."""
        words = within_job(heard_words(decoded, job.regions, job.offset), job)
        words = cut_unlikely_tail(cut_echo(words, job.before, after=job.offset), job.words, self.revision)
        previous, following = self._neighbours(job.words)
        words = trim_overlap(words, previous, following)
        stats = self.revision_stats
        stats.late_s.append(round(max(0.0, received_until - job.end), 3))
        if same_words(job.words, words):
            stats.unchanged += 1
            return self._settle(job, job.words, previous)
        if not trusted(job.words, words, self.revision):
            stats.rejected += 1
            return self._settle(job, job.words, previous)
        stats.revised += 1
        return self._settle(job, words, previous)

    def _settle(self, job: RevisionJob, words: Sequence[TimedWord], previous: list[TimedWord]) -> bool:
        """Tidy the stretch's final words (app/core/tidy.py) and put them in place of the live ones.

        Tidying may take the full stop off the word before the stretch (the last of ``previous``,
        "Americans. ask"), so that word is replaced too when it changes. True when a reader sees
        a change.
        """
        before = previous[-1] if previous else None
        tidied_before, tidied = tidy_words(words, before, self.language or "")
        old, new = list(job.words), tidied
        if before is not None and tidied_before is not before:
            old, new = [before, *old], [tidied_before, *new]
        if len(old) == len(new) and all(a is b for a, b in zip(old, new, strict=True)):
            return False
        self._replace(tuple(old), new)
        return True

    def _neighbours(self, words: tuple[TimedWord, ...]) -> tuple[list[TimedWord], list[TimedWord]]:
        """The committed words just before and just after ``words`` (a few of each)."""
        committed = list(self._committed)
        ids = [id(w) for w in committed]
        if id(words[0]) not in ids or id(words[-1]) not in ids:
            return [], []
        first, last = ids.index(id(words[0])), ids.index(id(words[-1]))
        return committed[max(0, first - 3):first], committed[last + 1:last + 4]

    def _replace(self, old: tuple[TimedWord, ...], new: list[TimedWord]) -> None:
        """Swap committed words everywhere they live: the prompt's memory, sentence ends, lines."""
        gone = {id(w) for w in old}
        kept = [w for w in self._committed if id(w) not in gone]
        at = next((i for i, w in enumerate(kept) if w.start >= old[0].start), len(kept))
        self._committed = deque(kept[:at] + new + kept[at:], maxlen=self._committed.maxlen)
        old_ends = {w.end for w in old if w.ends_sentence}
        self._sentence_ends = sorted(
            [t for t in self._sentence_ends if t not in old_ends]
            + [w.end for w in new if w.ends_sentence and w.end > self._offset]
        )
        self.speakers.revise(old, new)

    # -- stream end and snapshots ---------------------------------------------------

    def finish(self) -> None:
        """Commit whatever is still pending; the stream has ended."""
        self._commit(self.policy.flush())
        self.processed_until = self.received_until
        self._queue_revision(self.received_until)

    def snapshot(self, received_until: float) -> FrontData:
        heard = self.tracker.heard_speech or bool(self.lines.lines)
        return FrontData(
            status=STATUS_ACTIVE if heard else STATUS_NO_AUDIO,
            lines=self.lines.lines,
            buffer_transcription=join_words(self.policy.pending),
            buffer_diarization=self.speakers.waiting_text,
            remaining_time_transcription=round(max(0.0, received_until - self.processed_until), 2),
        )
