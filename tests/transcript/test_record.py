"""The session record: merging sources, autosave that survives a crash, reopening, exports."""

import json
import os
from dataclasses import asdict

import pytest

from app.core.frontdata import FrontData, Line
from app.transcript.export import to_json, to_srt, to_txt
from app.transcript.record import SessionRecord, kept_audio_path, latest_session, sessions_dir


def update(*lines: Line, buffer: str = "") -> FrontData:
    return FrontData("active_transcription", tuple(lines), buffer)


def test_growing_lines_are_autosaved_as_revisions_and_reopen_to_the_latest(tmp_path):
    path = tmp_path / "session.jsonl"
    record = SessionRecord(path)
    record.apply("", update(Line(1, "Hello", 0.0, 0.5)))
    record.apply("", update(Line(1, "Hello there.", 0.0, 1.0), buffer=" how"))
    changed = record.apply("", update(Line(1, "Hello there.", 0.0, 1.0), Line(1, "How are", 1.2, 1.6)))
    assert [e.line.text for e in changed] == ["How are"]
    # No close(): as after a crash. Every revision is already on disk.
    revisions = [json.loads(raw) for raw in path.read_text().splitlines()]
    assert [r["line"]["text"] for r in revisions] == ["Hello", "Hello there.", "How are"]
    reopened = SessionRecord.reopen(path)
    assert [e.line.text for e in reopened.lines] == ["Hello there.", "How are"]
    record.close()


def test_a_torn_last_write_is_skipped(tmp_path):
    path = tmp_path / "session.jsonl"
    record = SessionRecord(path)
    record.apply("", update(Line(1, "Kept.", 0.0, 0.5)))
    record.close()
    with path.open("a") as log:
        log.write('{"source": "", "index": 1, "line": {"speaker": 1, "te')
    assert [e.line.text for e in SessionRecord.reopen(path).lines] == ["Kept."]


def test_two_sources_merge_in_time_order():
    record = SessionRecord()
    record.apply("You", update(Line(1, "Can you hear me?", 0.0, 1.0), Line(1, "Good.", 4.0, 4.5)))
    record.apply("Others", update(Line(1, "Yes, loud and clear.", 1.5, 3.0), buffer=" and"))
    assert [(e.source, e.line.text) for e in record.lines] == [
        ("You", "Can you hear me?"), ("Others", "Yes, loud and clear."), ("You", "Good."),
    ]
    assert record.buffers == {"You": "", "Others": " and"}
    assert record.live_text == "and"
    merged = record.as_update()
    assert to_txt(merged).splitlines() == ["Can you hear me?", "Yes, loud and clear.", "Good."]
    assert to_srt(merged).count(" --> ") == 3


def test_latest_session_finds_the_newest_log():
    first = SessionRecord.new_autosaved()
    first.apply("", update(Line(1, "one", 0, 1)))
    first.close()
    assert first.log_path.parent == sessions_dir()
    assert latest_session() == first.log_path
    # Sessions started within one second (Start, Stop, Start) never share a log.
    second, third = SessionRecord.new_autosaved(), SessionRecord.new_autosaved()
    assert len({first.log_path, second.log_path, third.log_path}) == 3
    assert latest_session() == third.log_path
    second.close()
    third.close()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses ACLs")
def test_the_autosave_and_its_folders_are_private(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # as an older version left it
    monkeypatch.setenv("SAYLINE_DATA_DIR", str(data))
    record = SessionRecord.new_autosaved()
    record.apply("", update(Line(1, "Something private.", 0, 1)))
    record.close()
    assert record.log_path.parent == sessions_dir()
    assert record.log_path.stat().st_mode & 0o777 == 0o600
    assert sessions_dir().stat().st_mode & 0o777 == 0o700
    assert data.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses ACLs")
def test_an_autosave_at_a_given_path_is_private_and_its_folder_is_left_alone(tmp_path):
    tmp_path.chmod(0o755)
    path = tmp_path / "session.jsonl"
    SessionRecord(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert tmp_path.stat().st_mode & 0o777 == 0o755


def refined_update(*lines: Line) -> FrontData:
    return FrontData("active_transcription", tuple(lines), refined=True)


def test_a_refined_transcript_is_a_marked_section_after_the_live_one_and_wins_on_reopening(tmp_path):
    path = tmp_path / "session.jsonl"
    record = SessionRecord(path)
    record.apply("", update(Line(1, "And so my fellow America.", 0.0, 2.0)))
    record.close()  # refining comes after Stop
    record.add_refined({"": refined_update(Line(1, "And so, my fellow Americans.", 0.0, 2.1),
                                           Line(2, "Ask not.", 2.5, 3.0))})
    assert record.refined
    assert [e.line.text for e in record.lines] == ["And so, my fellow Americans.", "Ask not."]
    assert [e.line.text for e in record.lines_of(refined=False)] == ["And so my fellow America."]

    entries = [json.loads(raw) for raw in path.read_text().splitlines()]
    assert "revision" not in entries[0] and entries[0]["line"]["text"] == "And so my fellow America."
    assert [e.get("revision") for e in entries[1:]] == ["refined"] * 3 and entries[-1]["complete"] is True
    reopened = SessionRecord.reopen(path)
    assert reopened.refined and [e.line.text for e in reopened.lines] == [e.line.text for e in record.lines]
    assert [e.line.text for e in reopened.lines_of(refined=False)] == ["And so my fellow America."]

    assert json.loads(to_json(reopened.as_update()))["refined"] is True
    assert to_txt(reopened.as_update()).startswith("Speaker 1: And so, my fellow Americans.")
    live = reopened.as_update(refined=False)
    assert not live.refined and "refined" not in json.loads(to_json(live))


def test_a_crash_mid_refine_reopens_with_the_live_transcript(tmp_path):
    path = tmp_path / "session.jsonl"
    record = SessionRecord(path)
    record.apply("You", update(Line(1, "Live words.", 0.0, 1.0)))
    record.close()
    line = asdict(Line(1, "Refined words.", 0.0, 1.0))
    with path.open("a") as log:  # killed after one refined line: no completion mark
        log.write(json.dumps({"revision": "refined", "source": "You", "index": 0, "line": line}) + "\n")
        log.write('{"revision": "refined", "source": "You", "ind')
    reopened = SessionRecord.reopen(path)
    assert not reopened.refined
    assert [(e.source, e.line.text) for e in reopened.lines] == [("You", "Live words.")]
    assert "refined" not in json.loads(to_json(reopened.as_update()))


def test_meeting_sources_are_refined_together_and_kept_audio_goes_beside_the_log(tmp_path):
    record = SessionRecord()
    record.apply("You", update(Line(1, "Hi.", 0.0, 0.5)))
    record.apply("Others", update(Line(1, "Hello.", 1.0, 1.5)))
    record.add_refined({"You": refined_update(Line(1, "Hi there.", 0.0, 0.6)),
                        "Others": refined_update(Line(1, "Hello, you.", 1.0, 1.6))})
    refined = [(e.source, e.line.text) for e in record.lines]
    assert refined == [("You", "Hi there."), ("Others", "Hello, you.")]
    log = tmp_path / "2026-01-02_03-04-05.jsonl"
    assert kept_audio_path(log, "You", ".flac") == tmp_path / "2026-01-02_03-04-05-You.flac"
    assert kept_audio_path(log, "", ".flac") == tmp_path / "2026-01-02_03-04-05.flac"


def test_a_revision_that_folds_lines_into_fewer_leaves_no_stale_line_on_reopening(tmp_path):
    log = tmp_path / "session.jsonl"
    record = SessionRecord(log)
    record.apply("", FrontData(lines=(Line(1, "Ask not!", 2.0, 2.6), Line(1, "What your country", 2.8, 4.0))))
    assert record.live_line_count == 2
    record.apply("", FrontData(lines=(Line(1, "Ask not what your country", 2.0, 4.0, revised=True),)))
    assert [entry.line.text for entry in record.lines] == ["Ask not what your country"]
    assert record.live_line_count == 1  # what tells the window to redraw when no line changed
    record.apply("", FrontData(lines=(
        Line(1, "Ask not what your country", 2.0, 4.0, revised=True), Line(1, "can do.", 4.1, 4.9)
    )))
    record.close()
    reopened = SessionRecord.reopen(log)
    assert [(e.line.text, e.line.revised) for e in reopened.lines] == [
        ("Ask not what your country", True), ("can do.", False)
    ]
