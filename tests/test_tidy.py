"""Tidying committed words: each rule of app/core/tidy.py, its exceptions, and real Whisper output.

The recorded outputs in tests/data/whisper_outputs.json come from streaming real clips
through the app's pipeline (how is written in the file); no model loads here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.core.tidy import tidy_words
from app.core.words import TimedWord

RECORDINGS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "whisper_outputs.json").read_text(encoding="utf-8")
)["recordings"]


def words(text: str, start: float = 0.0) -> list[TimedWord]:
    """Whisper-style words for ``text``: each keeps its leading space, 0.3 s apart."""
    return [
        TimedWord(" " + token, start + 0.3 * i, start + 0.3 * i + 0.25, 0.9)
        for i, token in enumerate(text.split())
    ]


def text_of(timed: list[TimedWord]) -> str:
    return "".join(word.text for word in timed).strip()


def tidy(text: str, before: str | None = None, language: str = "en") -> str:
    """The utterance ``text`` tidied, with the word ``before`` it (if any) as it comes back."""
    before_word = TimedWord(" " + before, -0.5, -0.2) if before is not None else None
    new_before, new = tidy_words(words(text), before_word, language)
    return text_of(([new_before] if new_before is not None else []) + new)


def recorded(utterance: list[list[Any]]) -> list[TimedWord]:
    return [TimedWord(text, start, end, probability) for text, start, end, probability in utterance]


def utterances(clip: str, model: str, version: str) -> list[list[TimedWord]]:
    """A recording's utterances as committed live, or in their "final" (revised when revised) form."""
    recording = next(r for r in RECORDINGS if r["clip"] == clip and r["model"] == model)
    return [
        recorded(u["revised"] if version == "final" and u["revised"] else u["live"])
        for u in recording["utterances"]
    ]


def tidy_stream(parts: list[list[TimedWord]]) -> list[TimedWord]:
    """What a caller does: tidy each utterance as it ends, putting the word before it back."""
    transcript: list[TimedWord] = []
    for part in parts:
        before, new = tidy_words(part, transcript[-1] if transcript else None)
        if transcript:
            transcript[-1] = before
        transcript += new
    return transcript


# -- rule 1: no mid-sentence full stop ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("And so my fellow Americans. ask not", "And so my fellow Americans ask not"),
        ("Ask not! what your country", "Ask not what your country"),
        ("press 2. to reject it.", "Press two to reject it."),
        ("go home!! now", "Go home now"),
    ],
)
def test_a_stop_followed_by_a_lower_case_word_goes(raw: str, expected: str) -> None:
    assert tidy(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Is it? yes", "Is it? Yes"),  # a question stays; the next word is capitalised instead
        ("I was looking for... press star", "I was looking for... press star"),
        ("I was looking for… press star", "I was looking for… press star"),
        ("Bring fruit, e.g. apples", "Bring fruit, e.g. apples"),
        ("It came from the U.S. during the war", "It came from the U.S. during the war"),
        ("Ask Mr. smith", "Ask Mr. smith"),
        ("Ask Dr. jones", "Ask Dr. jones"),
        ("Apples vs. pears", "Apples vs. pears"),
        ("Pens, paper etc. and a desk", "Pens, paper etc. and a desk"),
        ("At 5 p.m. today", "At 5 p.m. today"),
        ("It rose 2.5 percent", "It rose 2.5 percent"),
        ("It is over. The end", "It is over. The end"),
        ("Users. 3 to mute", "Users. Three to mute"),  # a digit is no sign the sentence went on
        ('He said. "go', 'He said. "go'),
    ],
)
def test_these_stops_stay(raw: str, expected: str) -> None:
    assert tidy(raw) == expected


def test_the_stop_of_the_word_before_the_utterance_goes_and_only_its_text_changes() -> None:
    before = TimedWord(" Americans.", 1.5, 2.1, 0.8)
    utterance = words("ask not", start=2.9)
    new_before, new = tidy_words(utterance, before)
    assert new_before == TimedWord(" Americans", 1.5, 2.1, 0.8)
    assert all(a is b for a, b in zip(new, utterance, strict=True))


def test_a_kept_stop_before_the_utterance_capitalises_its_first_word() -> None:
    before = TimedWord(" volume.", 1.0, 1.4)
    new_before, new = tidy_words(words("Or 8 to exit"), before)
    assert new_before is before
    assert text_of(new) == "Or eight to exit"
    assert tidy("do you? want it", before="Why") == "Why do you? Want it"


# -- rule 2: sentence case ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "before", "expected"),
    [
        ("and so my fellow", None, "And so my fellow"),  # the transcript's first word
        ("ask not", "Americans", "Americans ask not"),  # mid-sentence: left as it is
        ("ask what you can", "you?", "you? Ask what you can"),
        ("2 more", "Stop!", "Stop! Two more"),  # after "." or "!" a lower-case word lost the stop
        ("ok then", "好。", "好。 Ok then"),
        ("ok then", "好？", "好？ Ok then"),
        ('"hello" he said', None, '"hello" he said'),  # no letter first: untouched
        ("3D printing", None, "3D printing"),
        ("éclairs are good", None, "Éclairs are good"),
    ],
)
def test_sentences_start_upper_case(raw: str, before: str | None, expected: str) -> None:
    assert tidy(raw, before) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("so i said i'm here", "So I said I'm here"),
        ("yes i'll and i've and i'd", "Yes I'll and I've and I'd"),
        ("then i’m done", "Then I’m done"),
        ("so do i, and so do i.", "So do I, and so do I."),
        ("hi in i.e. is it", "Hi in i.e. is it"),
    ],
)
def test_the_english_pronoun_i_is_upper_case(raw: str, expected: str) -> None:
    assert tidy(raw) == expected


def test_the_pronoun_rule_and_numbers_are_english_only() -> None:
    assert tidy("und i 2 mal. also", language="de") == "Und i 2 mal also"
    assert tidy("so i said 2", language="") == "So I said two"  # language unknown: English rules


# -- rule 3: consistent numbers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("please press 2 now", "Please press two now"),
        ("press 1 to accept, or 2, to reject", "Press one to accept, or two, to reject"),
        ("I have 0 messages and 9 calls", "I have zero messages and nine calls"),
        ("wait 5 minutes", "Wait five minutes"),
        ("the answer is 7.", "The answer is seven."),
        ("is it 3? yes", "Is it three? Yes"),
    ],
)
def test_standalone_small_numerals_become_words(raw: str, expected: str) -> None:
    assert tidy(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "Count 1 2 3",  # a digit sequence
        "Call 5 5 5 1 2 1 2 now",  # a phone number
        "Pick 2 10 times",  # a neighbour holds a digit
        "It is 5% more",  # glued to a symbol or unit
        "It costs $5 now",
        "Come at 3:30 today",
        "It rose 2.5 points",
        "Come at 5pm today",
        "The 5th floor",
        "It rose 5 percent",  # followed by a unit word
        "It rose 5 per cent",
        "It rose 5 % today",
        "Come at 3 pm today",
        "Come at 3 a.m. today",
        "Come at 7 o'clock",
        "It weighs 2 kg",
        "It costs 5 dollars",
        "It is 9 degrees",
        "Go forward 10 meters",  # 10 and above stay as written
        "Press 42 now",
    ],
)
def test_these_numerals_stay_digits(raw: str) -> None:
    assert tidy(raw) == raw


def test_the_word_before_counts_as_a_neighbour_and_keeps_its_digit() -> None:
    assert tidy("5 5", before="5") == "5 5 5"
    assert tidy("2 now", before="press") == "press two now"
    assert tidy("now", before="2") == "2 now"  # only the word's stop may change


# -- the interface --------------------------------------------------------------------------


def test_no_words_return_the_word_before_as_it_is() -> None:
    before = TimedWord(" Americans.", 1.5, 2.1)
    assert tidy_words([], before) == (before, [])
    assert tidy_words([], None) == (None, [])


def test_unchanged_words_are_the_same_objects_and_changed_ones_keep_times_and_probability() -> None:
    utterance = [TimedWord(" press", 1.0, 1.3, 0.7), TimedWord(" 2", 1.3, 1.5, 0.6)]
    before = TimedWord(" Please", 0.5, 0.9)
    new_before, new = tidy_words(utterance, before)
    assert new_before is before and new[0] is utterance[0]
    assert new[1] == TimedWord(" two", 1.3, 1.5, 0.6)


@pytest.mark.parametrize(
    ("raw", "before"),
    [
        ("and so my fellow Americans. ask not! what your country can do", None),
        ("is it? yes i'm sure. 3 to mute. or 8 to exit.", "users."),
        ("wow!?! ok then... 2 more. etc. and e.g. 5 5 go.", "Go."),
        ("und i 2 mal. also", None),
    ],
)
def test_tidying_twice_changes_nothing_more(raw: str, before: str | None) -> None:
    before_word = TimedWord(" " + before, -0.5, -0.2) if before is not None else None
    once_before, once = tidy_words(words(raw), before_word)
    twice_before, twice = tidy_words(once, once_before)
    assert twice_before is once_before
    assert all(a is b for a, b in zip(twice, once, strict=True))


# -- real Whisper output, streamed live ---------------------------------------------------


@pytest.mark.parametrize(
    ("clip", "model", "version", "expected"),
    [
        # "Americans." and "you." ended partial buffers; the speaker went on, lower-case.
        ("jfk.wav", "tiny.en", "live",
         "And so my fellow Americans ask not what your country can do for you ask what you can do for your "
         "country."),
        ("jfk.wav", "tiny.en", "final",
         "And so my fellow Americans asked not what your country can do for you. Ask what you can do for "
         "your country."),
        ("jfk.wav", "base", "final",
         "And so my fellow Americans ask not what your country can do for you. Ask what you can do for your "
         "country."),
        # Phone menus: "volume. or 8" loses its stop, digits become words, sentences start upper-case.
        ("ast_en_conf-usermenu.wav", "base", "live",
         "Please press one to mute or unmute yourself. Four or six to decrease or increase the conference "
         "volume seven or nine to decrease or increase your volume or eight to exit."),
        ("ast_en_conf-usermenu.wav", "tiny.en", "live",
         "Please press one to mute or unmute yourself. Four or six to decrease or increase the conference "
         "volume. Seven or nine to decrease or increase your volume or eight to exit. And..."),
        ("ast_en_conf-adminmenu-menu8.wav", "tiny.en", "live",
         "Press one to list users currently in the conference. Two to kick all non-administrator users. "
         "Three to mute or unmute all non-administrator users. Four to record this conference Or eight to "
         "exit this menu and return to the conference."),
        ("ast_en_dir-instr.wav", "base", "live",
         "If this is the person you're looking for, press one now. Otherwise, please press star now."),
        ("ps_cards_005.wav", "base", "live", "Eight of spades four of close, seven of hearts."),
        ("ps_goforward.wav", "base", "final", "Go forward 10 meters"),
    ],
)
def test_recorded_live_captions_read_as_expected(clip: str, model: str, version: str, expected: str) -> None:
    assert text_of(tidy_stream(utterances(clip, model, version))) == expected


def test_the_recordings_hold_the_faults_the_rules_fix() -> None:
    """Guards the data: the raw text still shows the mid-sentence stops and mixed numbers."""
    def raw(clip: str, model: str, version: str) -> str:
        return text_of([w for part in utterances(clip, model, version) for w in part])

    assert "Americans. ask not" in raw("jfk.wav", "tiny.en", "live")
    assert "volume. or 8 to exit." in raw("ast_en_conf-usermenu.wav", "base", "live")
    assert "press one now" in raw("ast_en_dir-instr.wav", "tiny.en", "final")
    assert "press 1 now" in raw("ast_en_dir-instr.wav", "base", "final")


@pytest.mark.parametrize(("clip", "models"), [
    ("ast_en_dir-instr.wav", ("tiny.en", "base")),
    ("ps_cards_005.wav", ("tiny.en", "base")),
])
def test_two_models_that_wrote_numbers_differently_read_the_same(clip: str, models: tuple[str, str]) -> None:
    texts = {text_of(tidy_stream(utterances(clip, model, "final"))) for model in models}
    assert len(texts) == 1


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: f"{r['clip']}-{r['model']}")
@pytest.mark.parametrize("version", ["live", "final"])
def test_recordings_tidy_alike_utterance_by_utterance_or_at_once_and_only_once(
    recording: dict[str, Any], version: str
) -> None:
    parts = utterances(recording["clip"], recording["model"], version)
    by_utterance = tidy_stream(parts)
    assert by_utterance == tidy_stream([[w for part in parts for w in part]])
    assert tidy_stream([by_utterance]) == by_utterance
    assert [(w.start, w.end, w.probability) for w in by_utterance] == [
        (w.start, w.end, w.probability) for part in parts for w in part
    ]
