"""The answer-quality judge: its measures on known cases, and a whole run."""
import pytest

from tests.livejam.conftest import tiny_model  # noqa: F401  (fixture)
from training.judge import as_messages, as_notes, judge, measure, parse_overrides, report
from training.judge_calls import CALLS, call_notes


def test_the_judge_has_the_calls_the_issue_asks_for():
    assert len(CALLS) >= 12
    names = " ".join(CALLS).lower()
    for kind in ("major", "minor", "dorian", "blues", "chords", "fast", "sparse"):
        assert kind in names


def test_an_answer_that_is_the_call_measures_as_the_call():
    call = call_notes(*CALLS["C major scale"])
    m = measure(call, call)
    assert m["in_key"] == 1.0 and m["register"] == pytest.approx(0) and m["density"] == pytest.approx(1.0, rel=0.01)
    assert m["copy"] == 1.0 and m["pc_distance"] == pytest.approx(0) and m["rhythm"] == 1.0


def test_an_answer_an_octave_up_later_is_no_copy_but_the_same_key_and_rhythm():
    call = call_notes(*CALLS["C major scale"])
    moved = [(s + 10, e + 10, p + 12, v) for s, e, p, v in call]
    m = measure(call, moved)
    assert m["copy"] == 0.0 and m["register"] == pytest.approx(12) and m["in_key"] == 1.0
    assert m["pc_distance"] == pytest.approx(0) and m["rhythm"] == 1.0
    sharp = measure(call, [(s, e, p + 1, v) for s, e, p, v in call])  # a semitone up: C# major
    assert sharp["in_key"] < 0.5 and sharp["pc_distance"] > 0.5


def test_messages_and_notes_round_trip():
    call = call_notes(*CALLS["C major chords"])
    assert as_notes(as_messages(call)) == sorted(call)


def test_a_whole_judge_run_with_strict_key_keeps_every_answer_in_key(tiny_model):  # noqa: F811
    result = judge(tiny_model, seeds=2, overrides=parse_overrides(["key_adherence=1.0", "temperature=1.2"]))
    assert result["answers"] == 2 * len(CALLS)
    assert result["overall"]["in_key"] == 1.0 and result["overall"]["in_key_min"] == 1.0
    assert result["settings"]["key_adherence"] == 1.0
    assert all(a["notes"] > 0 for a in result["answers_detail"])
    text = report(result)
    assert "| **all** |" in text and "D dorian" in text


def test_overrides_are_checked_like_the_runtime_checks_them():
    with pytest.raises(ValueError, match="key-adherence"):
        parse_overrides(["key_adherence=3"])
    with pytest.raises(KeyError):
        parse_overrides(["no_such_setting=1"])


def test_every_call_is_one_phrase_at_the_default_silence():
    from livejam.settings.config import LivejamConfig

    silence = LivejamConfig().silence
    for name, (bpm, events) in CALLS.items():
        notes = sorted(call_notes(bpm, events))
        sounding_until = 0.0
        for s, e, _, _ in notes:
            assert s - sounding_until < silence or s == notes[0][0], f"{name}: a rest long enough to end the call"
            sounding_until = max(sounding_until, e)
