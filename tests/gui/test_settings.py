"""Settings: round trip, per-field fallback with one warning sentence, damaged files kept, atomic saves."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from app.core.choices import ChoiceError, StreamChoices
from app.core.diarization import DiarizationOptions
from app.core.policy import DEFAULT_POLICY, POLICIES
from app.gui import settings as settings_module
from app.gui.settings import Settings, load_settings, save_settings, settings_path


def custom_settings() -> Settings:
    return Settings(
        source="both",
        input_device_id="hw:1,0",
        language="de",
        model="small",
        policy="alignatt",
        overlay_visible=False,
        overlay_lines=4,
        font_family="DejaVu Sans",
        font_size=40,
        text_color="#FFEE00",
        background_color="#102030",
        background_opacity=0.3,
        outline=False,
        click_through=True,
        overlay_geometry={"DP-1 1920x1080+0+0": [100, 800, 1200, 140]},
        server_enabled=True,
        server_port=9123,
        speaker_names={"1": "Dana", "2": "Lee"},
        revise_sentences=False,
        refine_after_stop=False,
        keep_session_audio=True,
        window_geometry="AdnQywADAAA=",
    )


def test_first_run_gets_defaults_without_a_warning(config_dir):
    settings, warning = load_settings()
    assert settings == Settings()
    assert warning is None
    assert settings_path() == config_dir / "settings.json"


def test_round_trip_keeps_every_field(config_dir):
    original = custom_settings()
    written = save_settings(original)
    assert written == config_dir / "settings.json"
    loaded, warning = load_settings()
    assert warning is None
    assert loaded == original
    assert loaded.text_color == "#ffee00"  # colours are normalised to lower case


def test_bad_fields_fall_back_one_by_one_with_a_warning(config_dir):
    data = custom_settings().to_dict()
    data.update(font_size=500, text_color="red", source="tv", server_port="8000", outline="yes")
    data["policy"] = "fast"
    data["speaker_names"] = ["Dana"]
    data["overlay_geometry"] = {"screen": [1, 2, 3]}
    config_dir.mkdir()
    (config_dir / "settings.json").write_text(json.dumps(data))

    loaded, warning = load_settings()

    defaults = Settings()
    bad = ["font_size", "text_color", "source", "server_port", "outline", "speaker_names", "overlay_geometry"]
    bad.append("policy")
    for name in bad:
        assert getattr(loaded, name) == getattr(defaults, name), name
        assert name in warning
    assert loaded.language == "de" and loaded.font_family == "DejaVu Sans"  # the good ones are kept
    assert loaded.background_opacity == 0.3 and loaded.click_through is True
    assert "12 to 96" in warning and warning.endswith(".")
    assert "\n" not in warning


def test_missing_fields_quietly_use_defaults(config_dir):
    config_dir.mkdir()
    (config_dir / "settings.json").write_text(json.dumps({"version": 1, "font_size": 50, "future_field": 3}))
    loaded, warning = load_settings()
    assert loaded == dataclasses.replace(Settings(), font_size=50)
    assert warning is None  # an older file, or a newer version's extra fields: nothing to report


def test_whole_floats_are_accepted_as_ints(config_dir):
    data = Settings().to_dict() | {"font_size": 30.0}
    config_dir.mkdir()
    (config_dir / "settings.json").write_text(json.dumps(data))
    loaded, warning = load_settings()
    assert warning is None and loaded.font_size == 30 and isinstance(loaded.font_size, int)


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2, 3]", b"\xff\xfe garbage"])
def test_damaged_file_is_kept_as_bad_and_defaults_used(config_dir, content):
    config_dir.mkdir()
    path = config_dir / "settings.json"
    path.write_bytes(content)

    loaded, warning = load_settings()

    assert loaded == Settings()
    assert "settings.json.bad" in warning
    assert (config_dir / "settings.json.bad").read_bytes() == content
    assert not path.exists()
    save_settings(loaded)  # the next save starts a fresh, valid file
    assert load_settings() == (Settings(), None)


def test_explicit_path_overrides_the_config_folder(tmp_path):
    path = tmp_path / "elsewhere" / "mine.json"
    save_settings(Settings(font_size=60), path)
    assert load_settings(path)[0].font_size == 60
    assert not settings_path().exists()


def test_save_is_atomic_and_leaves_no_temp_files(config_dir, monkeypatch):
    save_settings(Settings(font_size=30))
    before = (config_dir / "settings.json").read_bytes()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings_module.os, "replace", crash)
    with pytest.raises(OSError):
        save_settings(Settings(font_size=90))

    assert (config_dir / "settings.json").read_bytes() == before  # the old file is untouched
    assert os.listdir(config_dir) == ["settings.json"]  # and the temp file is gone


def test_invalid_settings_cannot_be_constructed():
    with pytest.raises(ValueError, match="font_size"):
        Settings(font_size=5)
    with pytest.raises(ValueError, match="background_opacity"):
        dataclasses.replace(Settings(), background_opacity=1.5)
    with pytest.raises(ValueError, match="window_geometry"):
        Settings(window_geometry="not base64!")


def test_speaker_labels_and_names():
    settings = Settings(speaker_names={1: " Dana ", "3": ""})
    assert settings.speaker_names == {"1": "Dana"}  # int keys become JSON's strings; blanks dropped
    assert settings.label_for(1) == "Dana"
    assert settings.label_for(2) == "Speaker 2"
    assert settings.label_for(0) == ""


def test_overlay_geometry_keeps_the_most_recent_screen_last():
    settings = Settings().with_overlay_geometry("A", [0, 0, 100, 50])
    settings = settings.with_overlay_geometry("B", [1, 1, 100, 50])
    settings = settings.with_overlay_geometry("A", [5, 5, 100, 50])
    assert list(settings.overlay_geometry) == ["B", "A"]
    assert settings.overlay_geometry["A"] == [5, 5, 100, 50]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses ACLs")
def test_settings_are_private_and_an_open_config_folder_is_tightened(config_dir):
    config_dir.mkdir(mode=0o755)  # as an older version left it
    written = save_settings(Settings())
    assert written.stat().st_mode & 0o777 == 0o600
    assert config_dir.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses ACLs")
def test_a_new_config_folder_is_private(config_dir):
    save_settings(Settings())
    assert config_dir.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses ACLs")
def test_the_folder_of_an_explicit_path_is_left_alone(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir(mode=0o755)
    path = save_settings(Settings(), folder / "mine.json")
    assert path.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o755


def test_stream_choices_carry_every_stream_option():
    """One StreamChoices from the settings: what the live session and the server both get."""
    settings = Settings(language="de", policy="alignatt", diarization=True, target_language="FR",
                        translator="argos", translate_live_text=False, revise_sentences=False)
    assert settings.stream_choices() == StreamChoices(
        language="de", policy="alignatt", diarization=DiarizationOptions(), target_language="fr",
        translator="argos", translate_buffer=False, revise=False, profiles=True,
    )
    assert dataclasses.replace(settings, recognise_voices=False).stream_choices().profiles is False
    unavailable = settings.stream_choices(diarization_available=False)  # e.g. no speaker models
    assert unavailable.diarization is None and unavailable.profiles is False
    assert Settings(language="auto").stream_choices() == StreamChoices()  # auto: detect, i.e. None
    assert Settings(language="auto").stream_choices().language is None


def test_a_choice_no_stream_can_take_is_one_sentence():
    with pytest.raises(ChoiceError, match=r"^Unknown target language code 'zz'; .*\.$"):
        Settings(target_language="zz").stream_choices()


class Greedy:
    """Commits every word at once (a policy made up for this test)."""

    label = "Greedy"


def test_policies_come_from_the_registry_with_the_default_first(monkeypatch):
    assert settings_module.policy_labels() == {
        DEFAULT_POLICY: f"{POLICIES[DEFAULT_POLICY].__name__} (default)",
        **{name: cls.__name__ for name, cls in sorted(POLICIES.items()) if name != DEFAULT_POLICY},
    }
    assert "a word is final once" in settings_module.policy_description("alignatt")
    monkeypatch.setitem(POLICIES, "greedy", Greedy)
    assert settings_module.policy_labels()["greedy"] == "Greedy"
    assert next(iter(settings_module.policy_labels())) == DEFAULT_POLICY
    assert settings_module.policy_description("greedy") == Greedy.__doc__  # its module is not a policy module
    assert Settings(policy="greedy").stream_choices().policy == "greedy"  # the setting accepts it too
