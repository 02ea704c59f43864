from app.core.frontdata import STATUS_ERROR, FrontData, Line, format_time


def test_format_time_matches_wire_format():
    assert format_time(0) == "0:00:00.00"
    assert format_time(0.52) == "0:00:00.52"
    assert format_time(61.9) == "0:01:01.90"
    assert format_time(3725.5) == "1:02:05.50"
    assert format_time(-1) == "0:00:00.00"


def test_to_dict_is_exactly_the_protocol_message():
    update = FrontData(
        status="active_transcription",
        lines=(Line(1, "Hello there.", 0.52, 1.9, "", "en"), Line(-2, "", 1.9, 4.0)),
        buffer_transcription=" and wel",
        remaining_time_transcription=0.4,
    )
    assert update.to_dict() == {
        "status": "active_transcription",
        "lines": [
            {"speaker": 1, "text": "Hello there.", "start": "0:00:00.52", "end": "0:00:01.90",
             "translation": "", "detected_language": "en"},
            {"speaker": -2, "text": "", "start": "0:00:01.90", "end": "0:00:04.00",
             "translation": "", "detected_language": ""},
        ],
        "buffer_transcription": " and wel",
        "buffer_diarization": "",
        "buffer_translation": "",
        "remaining_time_transcription": 0.4,
        "remaining_time_diarization": 0.0,
    }
    assert update.text == "Hello there."


def test_error_field_appears_only_on_error():
    assert "error" not in FrontData().to_dict()
    message = FrontData(status=STATUS_ERROR, error="The audio stream could not be decoded.").to_dict()
    assert message["status"] == "error"
    assert message["error"] == "The audio stream could not be decoded."
