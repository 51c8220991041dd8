"""The n-gram baseline: a proper distribution, and it learns what repeats."""
import numpy as np

from livejam.model import vocab
from training.ngram import NGram


def test_probabilities_sum_to_one_over_the_vocabulary():
    rng = np.random.default_rng(0)
    train = [rng.integers(0, 20, 300) for _ in range(5)]
    for order in (1, 3, 5):
        model = NGram(order).fit(train)
        history = [3, 7, 3, 7, 3, 7][: order - 1]
        total = sum(np.exp(model.log_probs([np.array(history + [w])])[-1]) for w in range(vocab.VOCAB_SIZE))
        assert abs(total - 1) < 1e-9


def test_higher_orders_win_on_data_with_long_patterns():
    pattern = np.array([1, 2, 3, 1, 2, 4, 1, 2, 5])
    train = [np.tile(pattern, 30) for _ in range(3)]
    held = [np.tile(pattern, 5)]
    nll = {n: NGram(n).fit(train).nll(held) for n in (1, 2, 4)}
    assert nll[4] < nll[2] < nll[1] < np.log(vocab.VOCAB_SIZE)


def test_unseen_tokens_still_get_probability():
    model = NGram(3).fit([np.array([1, 2, 3, 4])])
    assert np.isfinite(model.nll([np.array([300, 301, 302])]))
