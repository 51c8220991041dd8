"""Phrase-end decisions on given times."""
import mido
from livejam.conversation.phrase import PhraseDetector


def test_silence_after_the_last_release_ends_the_phrase():
    d = PhraseDetector(silence=0.8)
    assert d.due(held=False) is None  # nothing played
    d.note_on(10.0)
    assert d.due(held=True) is None  # a key is down
    d.released(10.5)
    assert d.due(held=False) == 10.5 + 0.8
    assert d.check(11.29, held=False) is None
    p = d.check(11.3, held=False)
    assert p and p.start == 10.0 and p.end == 10.5 and p.notes == 1 and abs(p.seconds - 0.5) < 1e-9
    assert not d.in_call


def test_a_new_note_restarts_the_wait_and_manual_end_is_immediate():
    d = PhraseDetector(silence=1.0)
    d.note_on(0.0)
    d.released(0.2)
    d.note_on(1.1)
    d.released(1.3)
    assert d.check(2.0, held=False) is None
    assert d.manual_end(2.0).notes == 2
    assert d.manual_end(2.1) is None


# -- --phrase-end model ---------------------------------------------------------
import numpy as np  # noqa: E402

from livejam.conversation.phrase import FLOOR, model_gap_due  # noqa: E402
from livejam.model import vocab  # noqa: E402


def gap_logits(masses: dict[int, float]) -> np.ndarray:
    """Logits whose first TIME_SHIFT after the release is k steps with these masses."""
    z = np.full(vocab.VOCAB_SIZE, -50.0)
    for k, m in masses.items():
        z[vocab.time_shift(k)] = np.log(m)
    return z


def test_the_model_says_the_phrase_is_over_once_the_gap_it_expected_has_passed():
    # Sure of a long gap: over at the floor.
    assert model_gap_due(gap_logits({100: 1.0}), 0.8) == FLOOR
    # Most likely a 0.3 s rest, maybe the end: past 0.3 s only the end is left.
    assert model_gap_due(gap_logits({30: 0.9, 100: 0.1}), 0.8) == 0.30
    # Sure of a 0.2 s gap: past it, what is left (here every gap alike) decides: 21 of the 30
    # gaps still possible at 0.7 s reach 0.8 s.
    assert model_gap_due(gap_logits({20: 1.0}), 0.8) == 0.70
    # Never sure enough: the silence threshold, never later.
    assert model_gap_due(gap_logits({20: 1.0}), 0.8, threshold=1.01) == 0.8
    # A threshold higher than the model's belief waits longer.
    z = gap_logits({30: 0.5, 50: 0.3, 100: 0.2})
    assert model_gap_due(z, 0.8, threshold=0.3) == 0.30
    assert model_gap_due(z, 0.8, threshold=0.9) == 0.50


def test_the_model_due_is_bounded_by_the_floor_side_and_the_silence_side():
    d = PhraseDetector(silence=0.8)
    d.note_on(1.0)
    d.released(1.5)
    d.model_gap = 5.0  # a model that would wait too long
    assert d.due(held=False) == 1.5 + 0.8
    d.model_gap = 0.2
    assert d.due(held=False) == 1.7
    assert d.due(held=True) is None  # a key or the pedal down: never over
    d.model_gap = None  # not judged (silence mode, or over an answer)
    assert d.due(held=False) == 2.3
    d.model_gap = 0.2
    d.note_on(2.0)  # the call goes on: the judgement of the last release is void
    assert d.model_gap is None


def test_phrase_end_model_answers_before_the_silence_and_playing_on_interrupts(rig):
    r = rig(phrase_rule="model", silence=0.8, answer_seconds=2.0)
    r.phrase(pitches=(60, 62, 64, 65, 67, 65, 64, 62, 60), each=0.2)
    released = r.clock.now()
    r.run(1.0)
    first = r.out.notes_on()[0][0]
    assert FLOOR - 1e-6 <= first - released <= 0.8 + 1e-6
    wait = first - released
    # The same call with the silence rule waits the whole threshold.
    s = rig(phrase_rule="silence", silence=0.8, answer_seconds=2.0)
    s.phrase(pitches=(60, 62, 64, 65, 67, 65, 64, 62, 60), each=0.2)
    at = s.clock.now()
    s.run(1.0)
    assert abs(s.out.notes_on()[0][0] - at - 0.8) < 0.002
    if wait < 0.79:  # answered early: playing on now is the call going on, and cuts the answer
        r.play("note_on", note=72, velocity=80)
        assert "interrupted" in [k for k, _ in r.events()]


def test_phrase_end_is_a_live_control_by_command_and_cc(rig):
    r = rig()
    assert r.cfg.phrase_rule == "silence"
    r.engine.command("phrase_end_mode", "model")  # an unknown name is said, not applied
    r.run(0.01)
    r.engine.feed_midi(mido.Message("control_change", control=114, value=127), r.clock.now())
    r.run(0.01)
    assert r.cfg.phrase_rule == "model"
    r.engine.feed_midi(mido.Message("control_change", control=114, value=0), r.clock.now())
    r.run(0.01)
    assert r.cfg.phrase_rule == "silence"
