"""StreamingDiarizer: who spoke when, for one stream, a window at a time.

Every ``step_s`` of new audio the last ``window_s`` are segmented into up to three local
speakers; each local speaker heard in the new part gets a voice vector from its clear
(non-overlapped) speech, the clusterer turns it into a session speaker, and the frames
up to ``latency_s`` before the window's end are labelled. Labels are final except one
correction: when a voice opens a new speaker, the first words of its turn that had been
given to someone else are shown as the new speaker's (``relabels`` counts these, so the
speaker gate knows to ask again). The models are passed in, so this class holds only the
streaming rules and no threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.core.decoding import SAMPLE_RATE
from app.core.diarization.clusters import ClusterSettings, HeardVoice, LocalVoice, SpeakerClusters
from app.core.diarization.turns import SpeakerTurn, TurnHistory, frame_spans

Segmenter = Callable[[np.ndarray], np.ndarray]  # window -> (frames, local speakers) activity
Embedder = Callable[[np.ndarray], np.ndarray]  # speech of one voice -> unit vector


@dataclass(frozen=True)
class DiarizationSettings:
    step_s: float = 1.0  # new audio between two diarization passes
    window_s: float = 10.0  # what the segmentation model was trained on
    latency_s: float = 0.5  # the last frames of a window wait for the next one
    max_hold_s: float = 3.0  # a voice too brief to place waits at most this long for a label
    min_window_s: float = 1.5  # no pass before this much audio has arrived
    min_voice_s: float = 0.4  # a local speaker needs this much clear speech for a voice vector
    embed_max_s: float = 4.0  # the most recent clear speech used for a voice vector
    # A local speaker silent this long may come back as someone else: the segmentation model
    # sometimes gives two people who take turns the same local slot within one window.
    turn_gap_s: float = 0.3
    attribution_slack_s: float = 1.0  # a word between turns takes a turn this close to it
    keep_turns_s: float = 120.0  # labelled history kept for attribution
    clusters: ClusterSettings = field(default_factory=ClusterSettings)


@dataclass(frozen=True)
class FrameTiming:
    """Frame ``i`` of a window starting at 0 is centred at ``first_center + i * step``."""

    first_center: float
    step: float


class StreamingDiarizer:
    def __init__(
        self,
        segmenter: Segmenter,
        embedder: Embedder,
        frames: FrameTiming,
        settings: DiarizationSettings | None = None,
    ) -> None:
        self.settings = settings or DiarizationSettings()
        self.clusters = SpeakerClusters(self.settings.clusters)
        self._segment = segmenter
        self._embed = embedder
        self._frames = frames
        self._audio = np.zeros(0, dtype=np.float32)
        self._audio_start = 0.0  # stream time of self._audio[0]
        self._last_pass_end = 0.0
        self.covered_until = 0.0  # every frame before this is labelled for good
        self._shown = TurnHistory()  # what speaker_for answers; corrected when a new speaker opens
        self._decided = TurnHistory()  # what the clusterer decided at the time: continuity leans on it
        self.relabels = 0  # how many times the shown history was corrected
        self._spoken_s: dict[int, float] = {}  # seconds labelled per speaker, over the whole stream

    # -- audio in, passes -----------------------------------------------------------

    @property
    def received_until(self) -> float:
        return self._audio_start + len(self._audio) / SAMPLE_RATE

    def accept(self, samples: np.ndarray) -> None:
        self._audio = np.concatenate([self._audio, samples.astype(np.float32, copy=False)])

    def due(self) -> bool:
        """A pass is worth running: enough new audio since the last one."""
        s = self.settings
        return self.received_until >= s.min_window_s and self.received_until - self._last_pass_end >= s.step_s

    def run_pass(self, final: bool = False) -> None:
        """Segment the latest window, label speakers, and extend the labelled region."""
        end = self.received_until
        if end <= self.covered_until:
            return
        window_start = max(self._audio_start, end - self.settings.window_s)
        first = round((window_start - self._audio_start) * SAMPLE_RATE)
        window = self._audio[first:]
        activity = self._segment(window)
        label_until = end if final else end - self.settings.latency_s
        if activity.size:
            centers = window_start + self._frames.first_center + np.arange(len(activity)) * self._frames.step
            decide = final or end - self.covered_until >= self.settings.max_hold_s
            labels = self._label_voices(window, window_start, activity, centers, decide)
            label_until = min(label_until, self._first_unlabelled(activity, centers, labels))
            self._write_turns(activity, centers, labels, until=label_until)
        self._finish_pass(end, label_until)

    def skip_silence(self, final: bool = False) -> None:
        """The VAD heard no speech in the latest window: label nothing, but move on."""
        end = self.received_until
        self._finish_pass(end, end if final else end - self.settings.latency_s)

    def _finish_pass(self, end: float, labelled_until: float) -> None:
        self.covered_until = max(self.covered_until, labelled_until)
        self._last_pass_end = end
        self._forget_before(end - self.settings.window_s)

    # -- labelling ------------------------------------------------------------------

    def _first_unlabelled(self, activity: np.ndarray, centers: np.ndarray, labels: dict[int, int]) -> float:
        """Where the first new frame of a voice still waiting for a label lies (labelling stops there)."""
        waiting = [i for i in range(activity.shape[1]) if i not in labels]
        new_part = centers > self.covered_until
        active = new_part & (activity[:, waiting] > 0).any(axis=1) if waiting else np.zeros(0, dtype=bool)
        hits = np.flatnonzero(active)
        return float(centers[hits[0]]) - self._frames.step if hits.size else np.inf

    def _label_voices(
        self, window: np.ndarray, window_start: float, activity: np.ndarray, centers: np.ndarray, decide: bool
    ) -> dict[int, int]:
        clear = (activity > 0) & (activity.sum(axis=1, keepdims=True) == 1)
        new_part = centers > self.covered_until
        voices = []
        turn_frames: dict[int, np.ndarray] = {}
        for local in range(activity.shape[1]):
            if not (activity[new_part, local] > 0).any():
                continue
            since = self._turn_start(activity[:, local] > 0, clear[:, local])
            # The most recent clear speech of this voice in its current turn, up to embed_max_s.
            recent = round(self.settings.embed_max_s / self._frames.step)
            frames = np.flatnonzero(clear[since:, local])[-recent:]
            clear_s = len(frames) * self._frames.step
            if clear_s < self.settings.min_voice_s:
                continue
            active = np.flatnonzero(activity[since:, local] > 0) + since
            turn_frames[local] = centers[active]
            voices.append(
                LocalVoice(
                    local,
                    self._embed(self._speech_of(window, window_start, centers[frames + since])),
                    clear_s,
                    self._previous_labels(centers[active]),
                )
            )
        known = self.clusters.count
        labels = self.clusters.assign(voices, decide)
        for voice in voices:
            if labels.get(voice.index, 0) > known:
                self._show_opening_turn(turn_frames[voice.index], voice.previous_labels, labels[voice.index])
        return labels

    def _show_opening_turn(self, frames: np.ndarray, previous: dict[int, float], speaker: int) -> None:
        """A voice that just opened a new speaker said the words just before, too: show them as theirs.

        Until a voice has enough clear speech to open a speaker it may be labelled as the
        known speaker it is closest to (after max_hold_s, or while its short vector still
        resembled that speaker): on en_3spk_a a new voice's "eight of spades four" went to
        the reader. The unbroken run of that wrong label at the end of the labelled history
        (at most max_hold_s, no pause of turn_gap_s in it), within the new voice's turn, is
        given to the new speaker. Only the shown history changes: the clusterer's later
        decisions still lean on what it decided, since correcting that as well made the
        held-out conversations worse (a voice opened from a blend then pulled its
        neighbours' turns along).
        """
        if not previous:
            return
        wrong = max(previous, key=previous.__getitem__)
        run: list[float] = []
        for center in frames[frames <= self.covered_until][::-1].tolist():
            if (
                self.covered_until - center > self.settings.max_hold_s
                or self._decided.speaker_at(center) != wrong
                or (run and run[-1] - center > self.settings.turn_gap_s)
            ):
                break
            run.append(center)
        if run:
            self._shown.relabel(frame_spans(run, self._frames.step), wrong, speaker)
            self.relabels += 1

    def _turn_start(self, active: np.ndarray, clear: np.ndarray) -> int:
        """First frame of the local speaker's latest turn: after its last pause of turn_gap_s or more.

        A turn with too little clear speech for a voice vector of its own (a quick "yes") keeps
        the whole window, so it is placed by the voice it continues rather than left waiting.
        """
        frames = np.flatnonzero(active)
        pauses = np.flatnonzero(np.diff(frames) * self._frames.step >= self.settings.turn_gap_s)
        if not pauses.size:
            return 0
        start = int(frames[pauses[-1] + 1])
        if clear[start:].sum() * self._frames.step < self.settings.min_voice_s:
            return 0
        return start

    def _speech_of(self, window: np.ndarray, window_start: float, centers: np.ndarray) -> np.ndarray:
        """The window's samples around the given frame centres."""
        half = self._frames.step / 2
        mask = np.zeros(len(window), dtype=bool)
        for center in centers:
            lo = max(0, round((center - half - window_start) * SAMPLE_RATE))
            mask[lo : round((center + half - window_start) * SAMPLE_RATE)] = True
        return window[mask]

    def _previous_labels(self, centers: np.ndarray) -> dict[int, float]:
        labelled = centers[centers <= self.covered_until]
        if labelled.size == 0:
            return {}
        counts: dict[int, int] = {}
        for center in labelled:
            speaker = self._decided.speaker_at(float(center))
            if speaker is not None:
                counts[speaker] = counts.get(speaker, 0) + 1
        return {speaker: n / labelled.size for speaker, n in counts.items()}

    def _write_turns(
        self, activity: np.ndarray, centers: np.ndarray, labels: dict[int, int], until: float
    ) -> None:
        half = self._frames.step / 2
        previous = self._decided.last_speaker
        for frame in np.flatnonzero((centers > self.covered_until) & (centers <= until)):
            speakers = [labels[i] for i in np.flatnonzero(activity[frame]) if i in labels]
            if not speakers:
                continue
            speaker = previous if previous in speakers else speakers[0]
            for history in (self._decided, self._shown):
                history.add(float(centers[frame]) - half, float(centers[frame]) + half, speaker)
            self._spoken_s[speaker] = self._spoken_s.get(speaker, 0.0) + self._frames.step
            previous = speaker

    def _forget_before(self, time: float) -> None:
        drop = round((time - self._audio_start) * SAMPLE_RATE)
        if drop > 0:
            self._audio = self._audio[drop:]
            self._audio_start += drop / SAMPLE_RATE
        for history in (self._decided, self._shown):
            history.forget_before(self.covered_until - self.settings.keep_turns_s)

    # -- answers --------------------------------------------------------------------

    @property
    def turns(self) -> tuple[SpeakerTurn, ...]:
        return self._shown.turns

    @property
    def speaker_count(self) -> int:
        return self.clusters.count

    def voices(self) -> list[HeardVoice]:
        """Every session speaker's running voice vector and how long it has been heard speaking."""
        return [
            HeardVoice(index + 1, centroid, round(self._spoken_s.get(index + 1, 0.0), 2))
            for index, centroid in enumerate(self.clusters.centroids())
        ]

    def speaker_for(self, start: float, end: float) -> int | None:
        """The speaker talking most during [start, end]; else the nearest one within the slack."""
        return self._shown.speaker_for(start, end, self.settings.attribution_slack_s)
