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


# -- the phrase head ------------------------------------------------------------
import pytest  # noqa: E402

from livejam.conversation.phrase import (CALL_FEATURES, ELAPSED_FEATURES, STEP, PhraseHead,  # noqa: E402
                                         call_features, elapsed_features)
from livejam.model.onnx_model import OnnxModel  # noqa: E402

N = len(CALL_FEATURES) + len(ELAPSED_FEATURES)
C_ARPEGGIO = [60, 64, 67, 72, 67, 64, 60]  # names C major before what follows


def flat_logits(gap_steps=None):
    z = np.full(vocab.VOCAB_SIZE, -5.0)
    if gap_steps:
        z[vocab.TIME_SHIFT + gap_steps - 1] = 5.0
    return z


def scale_call(pitches, each=0.25, last=1.0):
    notes, t = [], 0.0
    for i, p in enumerate(pitches):
        d = last if i == len(pitches) - 1 else each
        notes.append((t, t + d * 0.9, p, 80))
        t += d
    return notes


def head(on: str, weight: float, bias: float = 0.0, threshold: float = 0.5) -> PhraseHead:
    w = np.zeros(N)
    w[(CALL_FEATURES + ELAPSED_FEATURES).index(on)] = weight
    return PhraseHead(w, bias, np.zeros(N), np.ones(N), threshold, ())


def test_the_call_features_read_the_last_note_against_the_call_and_its_key():
    notes = scale_call([60, 62, 64, 65, 67, 65, 64, 62, 60])  # C major, down to the tonic, held
    x = call_features(flat_logits(), notes)
    assert len(x) == len(CALL_FEATURES) + 1  # the last is the call's median inter-onset interval
    f = dict(zip(CALL_FEATURES, x))
    assert f["last_degree_0"] == 1.0 and f["prev_degree_2"] == 1.0 and sum(x[16:28]) == 1.0
    assert f["last_vs_ioi"] == pytest.approx(np.log(0.9 / 0.25))  # held nearly four times the pace
    assert f["last_interval"] == pytest.approx(-2 / 12) and f["key_minor"] == 0.0
    assert x[-1] == pytest.approx(0.25)
    on_fifth = dict(zip(CALL_FEATURES, call_features(flat_logits(), scale_call(C_ARPEGGIO + [62, 64, 65, 67]))))
    assert on_fifth["last_degree_7"] == 1.0 and on_fifth["last_degree_0"] == 0.0
    # The model's gap odds: a model sure of a one-second gap puts it all in the tail.
    sure = dict(zip(CALL_FEATURES, call_features(flat_logits(100), notes)))
    unsure = dict(zip(CALL_FEATURES, call_features(flat_logits(10), notes)))
    assert sure["log_p_gap_80"] > -0.01 and unsure["log_p_gap_80"] < -5
    assert len(call_features(flat_logits(), [])) == len(CALL_FEATURES) + 1  # nothing heard: still a row


def test_elapsed_silence_is_read_in_seconds_and_in_the_calls_pace():
    e = elapsed_features(np.array([0.25, 0.5]), 0.25)
    assert e.shape == (2, len(ELAPSED_FEATURES))
    assert e[:, 0].tolist() == [0.25, 0.5] and e[:, 1].tolist() == [1.0, 2.0] and e[0, 2] == 0.0


def test_the_call_ends_at_the_first_moment_the_head_hears_an_ending():
    notes = scale_call([60, 62, 64])
    state = np.zeros((2, 1, 8))
    # P(end) crosses one half as the silence passes 0.4 s.
    h = head("silence_seconds", 10.0, bias=-4.0)
    gap = h.gap(state, flat_logits(), notes, 0.8)
    assert gap == pytest.approx(0.4) and gap in h.moments(0.8)
    assert h.moments(0.8)[0] == pytest.approx(FLOOR) and np.diff(h.moments(0.8)) == pytest.approx(STEP)
    assert h.gap(state, flat_logits(), notes, 0.3) == 0.3  # never later than the silence threshold
    assert head("silence_seconds", -10.0).gap(state, flat_logits(), notes, 0.8) == 0.8  # a breath, always
    assert head("silence_seconds", 0.0, bias=9.0).gap(state, flat_logits(), notes, 0.8) == pytest.approx(FLOOR)
    assert head("silence_seconds", 0.0, bias=9.0).gap(state, flat_logits(), notes, 0.1) == 0.1  # under the floor
    # An ending on the tonic, a breath elsewhere: the head reads the call.
    tonic = head("last_degree_0", 9.0, bias=-4.5)
    assert tonic.gap(state, flat_logits(), scale_call(C_ARPEGGIO + [62, 64, 62, 60]), 0.8) == pytest.approx(FLOOR)
    assert tonic.gap(state, flat_logits(), scale_call(C_ARPEGGIO + [62, 64, 65, 64, 62]), 0.8) == 0.8


def test_a_head_comes_from_the_models_metadata_only_when_it_reads_these_features():
    spec = {"features": list(CALL_FEATURES + ELAPSED_FEATURES), "layers": [1], "weights": [0.0] * (N + 4),
            "bias": 1.0, "mean": [0.0] * (N + 4), "scale": [1.0] * (N + 4), "threshold": 0.9}
    h = PhraseHead.from_metadata({"phrase_head": spec})
    assert h is not None and h.layers == (1,) and h.threshold == 0.9
    state = np.zeros((2, 1, 4))
    assert h.p_end(state, flat_logits(), [], np.array([0.2])) == pytest.approx([1 / (1 + np.exp(-1))])
    assert PhraseHead.from_metadata({}) is None
    assert PhraseHead.from_metadata({"phrase_head": {**spec, "features": ["old", "features"]}}) is None


def test_the_shipped_model_carries_a_head_fitted_on_marked_phrase_ends():
    model = OnnxModel()
    h = PhraseHead.from_metadata(model.metadata)
    assert h is not None and 0.5 < h.threshold < 1.0
    figures = model.metadata["phrase_head"]["figures"]["test"]
    assert figures["inner_rests_ended_inside"] <= 0.1 and figures["mean_wait"] < 0.8


def test_the_engine_asks_the_models_head_at_each_release(rig):
    r = rig(phrase_rule="model", silence=0.8, answer_seconds=1.0)
    listener = r.engine.conversation.listener
    listener.phrase_head = head("silence_seconds", 10.0, bias=-4.0)  # ends every call 0.4 s into its silence
    r.phrase(pitches=(60, 62, 64, 65, 67), each=0.2)
    released = r.clock.now()
    r.run(1.0)
    assert r.out.notes_on()[0][0] - released == pytest.approx(0.4, abs=0.011)
    b = rig(phrase_rule="model", silence=0.8, answer_seconds=1.0)
    b.engine.conversation.listener.phrase_head = head("silence_seconds", -10.0)  # hears a breath: waits it out
    b.phrase(pitches=(60, 62, 64, 65, 67), each=0.2)
    released = b.clock.now()
    b.run(1.0)
    assert b.out.notes_on()[0][0] - released == pytest.approx(0.8, abs=0.011)
