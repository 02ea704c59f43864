"""The /asr protocol's pure rules: query parsing, close reasons, config, full and diff encodings."""

import pytest

from app.core.choices import StreamChoices
from app.core.diarization import DiarizationOptions
from app.core.frontdata import FrontData, Line
from app.server.protocol import (
    CLOSE_BAD_REQUEST,
    MAX_CLOSE_REASON_BYTES,
    ProtocolError,
    SessionParams,
    UpdateEncoder,
    apply_message,
    close_reason,
    config_message,
    parse_session,
)

SERVER = StreamChoices(
    language="en", policy="alignatt", target_language="de", diarization=DiarizationOptions()
)


def parse(path: str, multilingual: bool = True, defaults: StreamChoices = SERVER):
    return parse_session(path.partition("?")[2], defaults=defaults, multilingual=multilingual)


def test_the_query_overrides_the_servers_choices_and_nothing_else():
    assert parse("/asr") == parse("/asr?") == SessionParams(mode="full", choices=SERVER)
    params = parse("/asr?language=de&mode=diff")
    assert params.mode == "diff"
    assert params.choices == SERVER.replace(language="de")
    assert parse("/asr?target_language=").choices.target_language == ""  # explicitly off
    assert parse("/asr?target_language=FR").choices.target_language == "fr"
    assert parse("/asr?language=auto").choices.language is None  # detect
    assert parse("/asr?language=").choices.language == "en", "empty: the server's own"
    assert parse("/asr?policy=").choices.policy == "alignatt", "empty: the server's own"
    assert parse("/asr?policy=LocalAgreement").choices.policy == "localagreement"
    assert parse("/asr?max_speakers=2").choices.diarization == DiarizationOptions(max_speakers=2)


def test_max_speakers_needs_speakers_and_a_sensible_number():
    for query, message in (("max_speakers=9", "between 1 and 8"), ("max_speakers=two", "whole number")):
        with pytest.raises(ProtocolError, match=message):
            parse(f"/asr?{query}")
    with pytest.raises(ProtocolError, match="started without"):
        parse("/asr?max_speakers=2", defaults=StreamChoices())


def test_profiles_are_off_unless_asked_and_need_speakers():
    assert parse("/asr").choices.profiles is False
    assert parse("/asr?profiles=1").choices.profiles is True
    with pytest.raises(ProtocolError, match="need speaker labels") as refused:
        parse("/asr?profiles=1", defaults=StreamChoices())
    assert refused.value.code == CLOSE_BAD_REQUEST
    with pytest.raises(ProtocolError, match="profiles must be 1 or 0"):
        parse("/asr?profiles=please")


def test_recognised_names_go_on_the_wire_only_when_there_are_some():
    assert "speaker_names" not in FrontData().to_dict()
    named = FrontData(speaker_names=((2, "Dana"), (3, "Sam")))
    assert named.to_dict()["speaker_names"] == {"2": "Dana", "3": "Sam"}


@pytest.mark.parametrize(
    ("path", "multilingual", "message"),
    [
        ("/asr?mode=fast", True, "Unknown mode"),
        ("/asr?language=xx", True, "Unknown language code"),
        ("/asr?language=fr", False, "English only"),
        ("/asr?target_language=xx", True, "Unknown target language code"),
        ("/asr?mode=full&mode=diff", True, "twice"),
        ("/asr?policy=greedy", True, "Unknown policy 'greedy'; use one of: alignatt, localagreement"),
    ],
)
def test_bad_values_are_4400_with_a_sentence(path, multilingual, message):
    with pytest.raises(ProtocolError, match=message) as refused:
        parse(path, multilingual=multilingual)
    assert refused.value.code == CLOSE_BAD_REQUEST


def test_the_token_parameter_is_not_a_session_choice():
    assert parse("/asr?token=secret&mode=diff").mode == "diff"


@pytest.mark.parametrize("text", ["plain ascii " * 20, "é" * 100, "日本語の理由" * 20, "ok"])
def test_a_close_reason_fits_a_close_frame_and_keeps_whole_characters(text):
    cut = close_reason(text)
    assert len(cut.encode("utf-8")) <= MAX_CLOSE_REASON_BYTES
    assert text.startswith(cut)
    assert len(text.encode()) <= MAX_CLOSE_REASON_BYTES or len(cut.encode()) > MAX_CLOSE_REASON_BYTES - 4


def test_config_message():
    assert config_message(True, "diff") == {"type": "config", "useAudioWorklet": True, "mode": "diff"}


def line(text: str, start: float, speaker: int = 1) -> Line:
    return Line(speaker, text, start, start + 1.0, "", "en")


# A realistic sequence: the last line grows, new lines appear, a silence line grows.
SEQUENCE = [
    FrontData(),
    FrontData("active_transcription", (), " hel"),
    FrontData("active_transcription", (line("Hello", 0.5),), " the"),
    FrontData("active_transcription", (line("Hello there.", 0.5),), ""),
    FrontData("active_transcription", (line("Hello there.", 0.5),), "", remaining_time_transcription=0.4),
    FrontData("active_transcription", (line("Hello there.", 0.5), Line(-2, "", 1.5, 3.6))),
    FrontData("active_transcription", (line("Hello there.", 0.5), Line(-2, "", 1.5, 4.8))),
    FrontData("active_transcription", (line("Hello there.", 0.5), Line(-2, "", 1.5, 4.8), line("Bye", 5))),
    FrontData("active_transcription", (line("Hello there.", 0.5), Line(-2, "", 1.5, 4.8), line("Bye.", 5))),
]


def test_full_mode_sends_whole_states_and_skips_repeats():
    encoder = UpdateEncoder("full")
    sent = [encoder.encode(update) for update in [*SEQUENCE, SEQUENCE[-1]]]
    assert sent[-1] is None
    assert sent[-2] == SEQUENCE[-1].to_dict()


def test_diff_mode_rebuilds_exactly_what_full_mode_shows():
    encoder = UpdateEncoder("diff")
    lines: list[dict] = []
    messages = [m for m in (encoder.encode(u) for u in SEQUENCE) if m is not None]
    assert messages[0]["type"] == "snapshot" and messages[0]["seq"] == 0
    for message, update in zip(messages, SEQUENCE, strict=True):
        lines = apply_message(lines, message)
        assert lines == update.to_dict()["lines"]
        assert message["buffer_transcription"] == update.buffer_transcription
    assert [m["seq"] for m in messages] == list(range(len(messages)))
    growing = messages[3]
    assert growing["lines_pruned"] == 1 and growing["n_lines"] == 1
    assert growing["new_lines"][0]["text"] == "Hello there."


def test_diff_rule_holds_for_arbitrary_rewrites():
    encoder = UpdateEncoder("diff")
    states = [(line("a", 0), line("b", 1), line("c", 2)), (line("a", 0), line("x", 1)), ()]
    lines: list[dict] = []
    for state in states:
        message = encoder.encode(FrontData("active_transcription", state))
        lines = apply_message(lines, message)
        assert lines == [item.to_dict() for item in state]


def test_a_client_out_of_step_is_detected():
    with pytest.raises(ValueError, match="expected"):
        apply_message([], {"type": "diff", "seq": 3, "n_lines": 2, "lines_pruned": 0, "new_lines": []})
