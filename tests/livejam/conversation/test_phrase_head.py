"""--phrase-end model's head: what it reads of a call at a release, when it ends
the call, where it comes from (the model's metadata), and that the engine asks it."""
import numpy as np
import pytest

from livejam.conversation.phrase import FLOOR
from livejam.conversation.phrase_head import (CALL_FEATURES, ELAPSED_FEATURES, STEP, PhraseHead, call_features,
                                              elapsed_features)
from livejam.model import vocab
from livejam.model.onnx_model import OnnxModel

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
