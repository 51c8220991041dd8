"""The accompaniment judge (training/judge_accompany.py): its measures on notes
written for them, and a run on the live engine with a small model."""
import pytest

from tests.livejam.conftest import tiny_model  # noqa: F401  (fixture)
from training.judge_accompany import MELODIES, measure, melody_notes, play_along

C = MELODIES[0]  # Ode to Joy in C major


def test_the_measures_say_what_they_count():
    melody = [(0.0, 1.0, 64, 90), (1.0, 2.0, 65, 90)]  # E then F, a beat each
    ours = [(0.0, 1.5, 60, 70),   # C under E (a major third), then under F (a fourth: over a bass, not consonant)
            (1.5, 2.0, 62, 70),   # D under F: a minor third, consonant
            (0.0, 1.0, 66, 70)]   # F# over E: above the melody, out of C major, a major second
    r = measure("bass", C, melody, ours, spb=1.0)
    assert r["above_melody"] == 1 and r["below"] == pytest.approx(2 / 3)
    assert r["in_key"] == pytest.approx(2 / 3)
    # overlaps: C-E 1.0 (ok), C-F 0.5 (fourth), D-F 0.5 (ok), F#-E 1.0 (a second): 1.5 of 3.0
    assert r["consonant"] == pytest.approx(0.5)
    # E struck at 0 clashes with the F# held to 1.0 (a beat), F at 1.0 with the C held to 1.5 (half)
    assert r["follow_beats_max"] == pytest.approx(1.0) and r["follow_beats_mean"] == pytest.approx(0.75)
    assert r["along"] == 1.0


def test_a_run_on_the_live_engine_plays_along_under_the_tune(tiny_model):  # noqa: F811
    from livejam.model.onnx_model import OnnxModel

    model = OnnxModel(tiny_model)
    melody, ours, spb = play_along(model, "bass", C, tempo=True, seed=0)
    r = measure("bass", C, melody, ours, spb)
    assert len(melody) == len(melody_notes(C, spb, 0.0))
    assert r["notes"] >= 0.8 * len(melody) and r["along"] >= 0.9
    assert r["above_melody"] == 0 and r["in_key"] >= 0.9
