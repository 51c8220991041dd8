"""Logits -> next token: temperature and nucleus (top-p), with an optional mask
of tokens that are not allowed now. Seeded, so answers are reproducible."""
from __future__ import annotations

import numpy as np


class Sampler:
    def __init__(self, temperature: float = 1.0, top_p: float = 0.95, seed: int | None = None) -> None:
        self.temperature = temperature
        self.top_p = top_p
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reseed(self, n: int) -> None:
        """The generator for the n-th answer: the same seed and n always draw the same."""
        self.rng = np.random.default_rng(None if self.seed is None else [self.seed, n])

    def probabilities(self, logits: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        z = np.asarray(logits, dtype=np.float64) / max(self.temperature, 1e-4)
        if allowed is not None:
            if not allowed.any():
                raise ValueError("no token is allowed")
            z = np.where(allowed, z, -np.inf)
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        if self.top_p < 1.0:
            order = np.argsort(-p)
            cum = np.cumsum(p[order])
            # Keep the smallest set whose mass reaches top_p (always at least one token;
            # the tolerance keeps rounding from adding one more).
            cut = int(np.searchsorted(cum, self.top_p - 1e-9)) + 1
            keep = np.zeros_like(p, dtype=bool)
            keep[order[:cut]] = True
            p = np.where(keep, p, 0.0)
            p /= p.sum()
        return p

    def sample(self, logits: np.ndarray, allowed: np.ndarray | None = None) -> int:
        p = self.probabilities(logits, allowed)
        return int(self.rng.choice(len(p), p=p))
