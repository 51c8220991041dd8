"""The left-hand harmony judge (training/judge_harmony.py): its measures on notes
written for them, and a run on the live engine with a small model."""
import pytest

from livejam.timing.bars import Grid
from tests.livejam.conftest import tiny_model  # noqa: F401  (fixture)
from training.judge_harmony import TUNES, measure, play

G1 = Grid(t0=0.0, beat0=0.0, spb=1.0)
C, F = frozenset({0, 4, 7}), frozenset({5, 9, 0})


def test_the_measures_say_what_they_count():
    chords = [(-0.01, 2.0, C), (1.99, 4.0, F)]  # C for two beats, then F
    player = [(0.0, 4.0, 36, 70)]  # a held low C: the bass the outer voices move over
    ours = [(0.0, 0.9, 55, 80),   # G on beat 0: on C; the top voice (36, 55): a fifth
            (1.0, 1.5, 62, 80),   # D on beat 1: off the chord, top (36, 62): a ninth
            (1.5, 1.9, 67, 80),   # off the beat: not counted; top (36, 67) a fifth: no parallel (last was a ninth)
            (2.0, 2.9, 65, 80),   # F on beat 2, just after the change: on F, followed; (36, 65)
            (3.0, 3.9, 60, 80)]   # C on beat 3: on F; (36, 60) an octave (two octaves)
    r = measure(player, ours, chords, G1)
    assert (r["strong"], r["on_chord"]) == (4, pytest.approx(3 / 4))
    assert (r["changes"], r["followed"], r["rested"]) == (1, 1.0, 0)
    assert (r["moves"], r["parallels"]) == (4, 0.0)  # the low C never moves: no parallel at all
    moving = [(0.0, 1.0, 36, 70), (1.0, 4.0, 38, 70)]  # the bass steps C -> D as ours steps G -> A: fifths
    r = measure(moving, [(0.0, 0.9, 55, 80), (1.0, 1.9, 57, 80)], chords, G1)
    assert (r["moves"], r["parallels"]) == (1, 1.0)


@pytest.mark.parametrize("mode, role", [("accompany", "bass"), ("accompany", "chords"), ("answer", "bass")])
def test_a_run_on_the_live_engine_lands_on_the_left_hands_chords(tiny_model, mode, role):  # noqa: F811
    from livejam.model.onnx_model import OnnxModel

    player, ours, chords, g = play(OnnxModel(tiny_model), mode, role, next(iter(TUNES)), seed=0)
    r = measure(player, ours, chords, g)
    assert r["notes"] >= 4 and r["strong"] >= 2
    assert r["on_chord"] == 1.0  # every strong-beat note on the chord held, even from random weights
    if mode == "accompany":
        assert r["followed"] == 1.0 and r["parallels"] <= 0.02
