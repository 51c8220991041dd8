"""The live judges: styled sessions and phrase-end calls as the issue asks, and
their measures on cases with a known answer."""
import numpy as np

from livejam.model.onnx_model import OnnxModel
from tests.livejam.conftest import tiny_model  # noqa: F401  (fixture)
from training.judge_live import call_nll, judge_phrase_end, pc_match, report_live, style_share
from training.judge_styles import PHRASE_CALLS, STYLES, phrase_call, session


def test_styled_sessions_stay_in_their_style_and_differ_call_to_call():
    assert {"whole-tone", "blues", "black-key pentatonic", "dorian"} <= set(STYLES)
    for name, style in STYLES.items():
        calls = session(name)
        assert len(calls) == 20
        assert all(style_share(c, style.pitch_classes) == 1.0 for c in calls)
        assert len({tuple(p for _, _, p, _ in c) for c in calls}) == 20  # no call repeats another
    assert session("blues", seed=1) != session("blues", seed=0)


def test_phrase_end_calls_have_rests_after_tonic_and_other_notes_shorter_than_the_silence():
    rests = [phrase_call(bpm, ev)[1] for _, bpm, ev in PHRASE_CALLS]
    assert len(PHRASE_CALLS) >= 12 and sum(1 for r in rests if r) >= 8
    lengths = [b - a for r in rests for a, b in r]
    assert min(lengths) > 0.15 and max(lengths) < 0.8 and any(x < 0.4 for x in lengths) and any(x > 0.6 for x in lengths)
    names = " ".join(n for n, _, _ in PHRASE_CALLS)
    assert "rest after the tonic" in names and "rest after the leading tone" in names


def test_the_silence_rule_waits_the_threshold_and_never_answers_inside_a_rest(tiny_model):  # noqa: F811
    r = judge_phrase_end(OnnxModel(tiny_model), {"phrase_rule": "silence", "silence": 0.8})
    assert r["calls"] == len(PHRASE_CALLS) and r["inside_rest_share"] == 0.0
    assert abs(r["mean_wait"] - 0.8) < 0.005
    m = judge_phrase_end(OnnxModel(tiny_model), {"phrase_rule": "model", "silence": 0.8})
    assert 0.15 - 0.005 <= m["mean_wait"] <= 0.8 + 0.005
    assert "| silence | - | 0.800 s" in report_live([], [r, m])


def test_the_cache_lowers_the_nll_of_a_session_that_repeats_its_habits(tiny_model):  # noqa: F811
    calls = session("whole-tone", calls=8)
    model = OnnxModel(tiny_model)
    off, on = call_nll(model, calls, 0.0), call_nll(model, calls, 0.5)
    assert on[0] < off[0] + 1e-9  # even the first call: the cache learns it as it goes
    assert np.mean(on[4:]) < 0.9 * np.mean(off[4:])


def test_pitch_class_match():
    c = [(0, 1, 60, 80), (1, 2, 64, 80)]
    assert pc_match(c, [c]) == 1.0 and pc_match([(0, 1, 61, 80)], [c]) == 0.0 and pc_match([], [c]) is None
