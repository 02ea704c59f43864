"""Remembered voices: the store on disk, the naming rule, and real voices named across sessions."""

from __future__ import annotations

import json
import stat

import numpy as np
import pytest

from app.core.choices import StreamChoices
from app.core.decoding import float_to_pcm16
from app.core.diarization import DiarizationOptions
from app.core.diarization.clusters import HeardVoice
from app.core.diarization.outputs import EMBEDDING_SIZE
from app.core.diarization.profiles import (
    MatchSettings,
    ProfileError,
    ProfileStore,
    VoiceProfile,
    names_for,
)
from app.server.server import AsrServer, ServerSettings
from tests.conftest import run
from tests.diarization.conftest import ALLISON, READER, conversation, diarize
from tests.test_server import stream


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(EMBEDDING_SIZE).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _mix(a: np.ndarray, b: np.ndarray, share_b: float) -> np.ndarray:
    return (1 - share_b) * a + share_b * b


# -- the store --------------------------------------------------------------------------


def test_a_remembered_voice_is_saved_private_renamed_and_forgotten(tmp_path):
    store = ProfileStore(tmp_path / "data" / "voices.json")
    assert store.load() == []
    store.remember("  Dana   Kim ", _unit(1) * 3.0, 12.0)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    [dana] = store.load()
    assert dana.name == "Dana Kim" and dana.seconds == 12.0
    assert np.linalg.norm(dana.vector) == pytest.approx(1.0, abs=1e-5)
    assert set(json.loads(store.path.read_text())["voices"][0]) == {"name", "vector", "seconds", "created"}

    store.remember("dana kim", _unit(2), 15.0)  # the same name (any case) replaces the voice
    assert [p.name for p in store.load()] == ["dana kim"]
    store.remember("Sam", _unit(3), 11.0)
    with pytest.raises(ProfileError, match="already called"):
        store.rename("Sam", "DANA KIM")
    store.rename("Sam", "Samuel")
    store.forget("dana kim")
    assert [p.name for p in store.load()] == ["Samuel"]
    assert not list(store.path.parent.glob("*.tmp"))


def test_too_little_speech_or_a_bad_vector_or_name_is_one_sentence(tmp_path):
    store = ProfileStore(tmp_path / "voices.json")
    with pytest.raises(ProfileError, match=r"about 10 s .* heard 6 s"):
        store.remember("Dana", _unit(1), 6.0)
    with pytest.raises(ProfileError, match="no usable voice vector"):
        store.remember("Dana", np.full(EMBEDDING_SIZE, np.nan), 20.0)
    with pytest.raises(ProfileError, match="needs a name"):
        store.remember("   ", _unit(1), 20.0)
    with pytest.raises(ProfileError, match="No remembered voice"):
        store.rename("Nobody", "Somebody")
    assert not store.path.exists()


@pytest.mark.parametrize(
    "content", ["not json", '{"voices": [{"name": "A", "vector": [1, 2], "seconds": 12}]}', '{"other": 1}']
)
def test_a_damaged_store_is_one_sentence_naming_the_file(tmp_path, content):
    path = tmp_path / "voices.json"
    path.write_text(content)
    with pytest.raises(ProfileError, match=r"voices\.json"):
        ProfileStore(path).load()


# -- the naming rule --------------------------------------------------------------------


def test_each_name_goes_to_the_most_similar_speaker_once_and_strangers_keep_their_number():
    dana, sam, stranger = _unit(1), _unit(2), _unit(3)
    profiles = [VoiceProfile("Dana", dana, 20.0, ""), VoiceProfile("Sam", sam, 20.0, "")]
    heard = [
        HeardVoice(1, _mix(dana, stranger, 0.2), 8.0),
        HeardVoice(2, _mix(dana, stranger, 0.4), 8.0),  # also like Dana, but less so
        HeardVoice(3, stranger, 30.0),
        HeardVoice(4, sam, 2.0),  # Sam, heard too briefly yet
    ]
    settings = MatchSettings(threshold=0.6, min_seconds=4.0)
    assert names_for(heard, profiles, settings) == {1: "Dana"}
    assert names_for(heard, [], settings) == {}


# -- real voices ------------------------------------------------------------------------


def remember_allison(models, store: ProfileStore) -> None:
    """Remember Allison from one session of four of her prompts (not the ones the sessions use)."""
    audio, _ = conversation([("allison", name) for name in ALLISON[2:6]], pause_s=0.4)
    enrolled, _ = diarize(models, audio)
    voice = max(enrolled.voices(), key=lambda v: v.seconds)
    store.remember("Allison", voice.vector, voice.seconds)


def test_a_remembered_voice_is_named_in_a_later_session_and_a_stranger_is_not(diarization_models, tmp_path):
    """Allison is remembered from one session (four of her prompts); a later session of other
    prompts of hers, taking turns with the LibriVox reader, names her and leaves the reader as he was."""
    store = ProfileStore(tmp_path / "voices.json")
    remember_allison(diarization_models, store)

    parts = [("allison", ALLISON[0]), ("reader", READER[0]), ("allison", ALLISON[1]), ("reader", READER[1])]
    audio, spans = conversation(parts)
    session, labels = diarize(diarization_models, audio, spans=spans)
    [allison], [reader] = labels["allison"], labels["reader"]
    assert allison != reader
    assert names_for(session.voices(), store.load(), MatchSettings()) == {allison: "Allison"}


def test_the_server_names_a_remembered_voice_when_a_client_asks(diarization_models, tiny_engine, tmp_path,
                                                                monkeypatch):
    """Through a real socket with ?profiles=1: the updates carry Allison's name for her speaker
    (Sayline's speaker_names field), never the reader; without the switch they carry no names."""
    monkeypatch.setenv("SAYLINE_DATA_DIR", str(tmp_path))
    remember_allison(diarization_models, ProfileStore())
    parts = [("allison", ALLISON[0]), ("reader", READER[0]), ("allison", ALLISON[1])]
    pcm = float_to_pcm16(conversation(parts)[0])

    async def scenario(query: str):
        settings = ServerSettings(host="127.0.0.1", port=0, pcm_input=True,
                                  choices=StreamChoices(diarization=DiarizationOptions()))
        server = AsrServer(tiny_engine, settings)
        await server.start()
        try:
            return await stream(server.asr_url + query, pcm, chunk=16000)
        finally:
            await server.stop()

    _config, messages, code, lines = run(scenario("?profiles=1"))
    assert code == 1000
    named = [m["speaker_names"] for m in messages if "speaker_names" in m]
    assert named and named[-1] == {str(_speaker_of(lines, "agent|conference|channel")): "Allison"}
    _config, messages, code, _lines = run(scenario(""))
    assert code == 1000 and not any("speaker_names" in m for m in messages)


def _speaker_of(lines: list[dict], words: str) -> int:
    """The one speaker of the lines holding any of ``words``."""
    fragments = words.split("|")
    [speaker] = {line["speaker"] for line in lines if any(w in line["text"].lower() for w in fragments)}
    return speaker
