"""The sampler: temperature, nucleus, masks, seeds."""
import numpy as np

from livejam.model.sampler import Sampler


def test_top_p_keeps_the_smallest_set_reaching_p():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    p = Sampler(1.0, top_p=0.8).probabilities(logits)
    assert np.count_nonzero(p) == 2 and np.isclose(p.sum(), 1)
    assert np.allclose(p[:2], [0.625, 0.375])


def test_mask_is_respected_and_seed_reproduces():
    logits = np.zeros(10)
    allowed = np.zeros(10, bool)
    allowed[[2, 5]] = True
    a = [Sampler(1.0, 1.0, seed=3).sample(logits, allowed) for _ in range(1)]
    draws = Sampler(1.0, 1.0, seed=3)
    seq1 = [draws.sample(logits, allowed) for _ in range(50)]
    draws2 = Sampler(1.0, 1.0, seed=3)
    seq2 = [draws2.sample(logits, allowed) for _ in range(50)]
    assert set(seq1) == {2, 5} and seq1 == seq2 and a[0] == seq1[0]


def test_low_temperature_is_nearly_greedy():
    logits = np.array([1.0, 2.0, 1.5])
    p = Sampler(0.05, 1.0).probabilities(logits)
    assert p[1] > 0.99
