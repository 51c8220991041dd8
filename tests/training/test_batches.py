"""Humanising scores in training: the tempo breathes without reordering notes, the
pedal holds what a pianist's pedal would, the melody is brought out."""
import numpy as np

from livejam.model import vocab
from training.batches import (PEDAL_HOLD, RUBATO_LIMIT, Augment, augment_notes, pedal_legato, rubato, voice)


def test_rubato_keeps_order_and_stays_near_the_tempo():
    t = np.linspace(0, 30, 301)
    for seed in range(20):
        w = rubato(t, np.random.default_rng(seed), 0.05)
        assert w[0] == 0 and np.all(np.diff(w) > 0)  # monotonic: nothing is reordered
        pace = np.diff(w) / np.diff(t)
        assert np.exp(-RUBATO_LIMIT) - 1e-9 <= pace.min() and pace.max() <= np.exp(RUBATO_LIMIT) + 1e-9
    assert not np.allclose(rubato(t, np.random.default_rng(1), 0.05), t)  # it does move


def test_the_pedal_holds_a_released_note_to_the_next_bass_note_only():
    # Bass C2 at 0 s and F2 at 1 s; a melody note released at 0.5 s (pedal down),
    # one released at 0.05 s (just after the change: the pedal is still up).
    n = np.array([[0.0, 0.4, 36, 70], [1.0, 1.4, 41, 70], [0.0, 0.5, 72, 80], [0.0, 0.05, 76, 80],
                  [1.0, 1.2, 74, 80]], float)
    out = pedal_legato(n)
    assert out[2, 1] == 1.0  # held through to the change
    assert out[0, 1] == 1.0  # the bass too
    assert out[3, 1] == 0.05  # released while the pedal was up: dry
    assert out[1, 1] == 1.4 and out[4, 1] == 1.2  # no change after: nothing to hold to
    far = n.copy()
    far[1, 0] = far[4, 0] = 0.5 + PEDAL_HOLD + 0.5  # the next bass note is too far: the pedal is lifted
    assert pedal_legato(far)[2, 1] == 0.5


def test_voicing_brings_out_the_top_of_each_chord():
    n = np.array([[0.0, 1, 60, 70], [0.01, 1, 64, 70], [0.0, 1, 72, 70], [1.0, 2, 48, 70]], float)
    v = voice(n, 8.0)
    assert v[2, 3] == 78 and v[0, 3] == 66 and v[1, 3] == 66 and v[3, 3] == 78


def test_humanised_windows_still_encode_and_decode():
    rng = np.random.default_rng(0)
    n = np.array([[i * 0.25, i * 0.25 + 0.3, 60 + (i * 5) % 17, 80] for i in range(40)]
                 + [[i * 1.0, i * 1.0 + 0.9, 36 + i % 5, 70] for i in range(10)], float)
    n = n[np.argsort(n[:, 0], kind="stable")]
    for _ in range(20):
        h = augment_notes(n, rng, Augment(human=1.0, pedal=1.0))
        assert np.all(h[:, 1] > h[:, 0]) and h[:, 3].min() >= 1 and h[:, 3].max() <= 127
        notes = vocab.decode(vocab.encode(h))
        assert len(notes) >= len(n) - 2  # unisons a pedal makes may merge; nothing else is lost
