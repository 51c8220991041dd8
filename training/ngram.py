"""The baseline to beat: an interpolated Witten-Bell n-gram model over the same tokens.

Counting is vectorised: an n-gram of tokens (plus a start-of-piece symbol) packs
into one int64 (389^7 < 2^63), so counts are np.unique over packed keys and
look-ups are binary searches. Evaluated exactly like the GRU: every token of a
held-out piece after its first, in nats.
"""
from __future__ import annotations

import numpy as np

from livejam.model import vocab

BOS = vocab.VOCAB_SIZE  # start-of-piece padding
BASE = vocab.VOCAB_SIZE + 1
MAX_ORDER = 7


def _padded(pieces: list[np.ndarray], order: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate pieces, each after order-1 BOS symbols; return the stream and
    the positions of real tokens (the ones predicted)."""
    pad = order - 1
    parts, positions, at = [], [], 0
    for p in pieces:
        parts.append(np.full(pad, BOS, np.int64))
        parts.append(np.asarray(p, np.int64))
        positions.append(np.arange(at + pad, at + pad + len(p)))
        at += pad + len(p)
    return np.concatenate(parts), np.concatenate(positions)


def _keys(stream: np.ndarray, positions: np.ndarray, n: int) -> np.ndarray:
    """Packed n-grams ending at each position (n tokens: n-1 history + the token)."""
    key = np.zeros(len(positions), np.int64)
    for j in range(n - 1, -1, -1):
        key = key * BASE + stream[positions - j]
    return key


class _Table:
    def __init__(self, keys: np.ndarray) -> None:
        self.keys, self.counts = np.unique(keys, return_counts=True)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.keys, keys)
        idx = np.minimum(idx, len(self.keys) - 1)
        return np.where(self.keys[idx] == keys, self.counts[idx], 0)


class NGram:
    def __init__(self, order: int) -> None:
        if not 1 <= order <= MAX_ORDER:
            raise ValueError(f"order must be 1..{MAX_ORDER}")
        self.order = order

    def fit(self, pieces: list[np.ndarray]) -> "NGram":
        stream, pos = _padded(pieces, self.order)
        self.full, self.hist, self.types = [], [], []
        for n in range(1, self.order + 1):
            grams = _keys(stream, pos, n)
            self.full.append(_Table(grams))
            hist = grams // BASE  # the history part of each n-gram
            self.hist.append(_Table(hist))
            # Distinct continuations of each history: unique n-grams, by history.
            self.types.append(_Table(self.full[-1].keys // BASE))
        return self

    def log_probs(self, pieces: list[np.ndarray]) -> np.ndarray:
        """ln P(token | history) for every token of every piece."""
        stream, pos = _padded(pieces, self.order)
        p = np.full(len(pos), 1.0 / vocab.VOCAB_SIZE)
        for n in range(1, self.order + 1):
            grams = _keys(stream, pos, n)
            c_hw = self.full[n - 1].lookup(grams)
            c_h = self.hist[n - 1].lookup(grams // BASE)
            t_h = self.types[n - 1].lookup(grams // BASE)
            seen = c_h > 0
            p = np.where(seen, (c_hw + t_h * p) / np.maximum(c_h + t_h, 1), p)
        return np.log(p)

    def nll(self, pieces: list[np.ndarray]) -> float:
        """Mean negative log-likelihood in nats/event over tokens after each piece's first."""
        lp = self.log_probs(pieces)
        starts = np.cumsum([0] + [len(p) for p in pieces[:-1]])
        mask = np.ones(len(lp), bool)
        mask[starts] = False
        return float(-lp[mask].mean())


def evaluate_orders(train: list[np.ndarray], held: list[np.ndarray], orders=range(3, 8)) -> dict[int, float]:
    """NLL on held for each order; the model of the highest order holds all lower ones,
    but each order is its own interpolated model, so fit each."""
    return {n: NGram(n).fit(train).nll(held) for n in orders}
