"""Training batches: windows of pieces, augmented, encoded on the fly.

Augmenting notes (not tokens) lets one cached corpus give a model that has heard
every piece in many keys, at many tempi, with loose human timing and velocity:
a model trained on quantised scores must still answer a human's playing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livejam.conversation.call import chord_groups
from livejam.model import vocab

from .data import Corpus

PIECE_GAP = vocab.shift_tokens(200)  # 2 s of silence between two pieces in one row


@dataclass
class Augment:
    transpose: int = 5  # up to +-semitones
    stretch: float = 0.15  # tempo factor in [1 - s, 1 + s]
    timing_ms: float = 12.0  # std of onset/release jitter
    velocity_std: float = 10.0  # per-note velocity jitter around a per-window level
    human: float = 0.5  # share of windows that get tempo, timing and velocity changes
    rubato: float = 0.04  # std of the log-tempo random walk, per 2 s of music (a player's give and take)
    pedal: float = 0.5  # share of humanised windows pedalled legato, changing with the bass
    voicing: float = 8.0  # velocity a player gives the top of a chord over its inner notes
    enabled: bool = True


RUBATO_KNOT = 2.0  # seconds between the tempo walk's steps
RUBATO_LIMIT = 0.15  # the walk never strays further than this from the window's tempo (log)
PEDAL_LIFT = 0.08  # s: the pedal comes back down this long after a change; a release before that is dry
PEDAL_HOLD = 2.5  # s: a player lifts the pedal rather than hold one harmony longer


def rubato(t: np.ndarray, rng: np.random.Generator, std: float) -> np.ndarray:
    """Times through a smooth tempo curve: a random walk on log-tempo with a step
    every RUBATO_KNOT seconds, applied piecewise-linearly, so the order and the
    overlaps of notes survive and only the pace breathes."""
    end = float(t.max()) if len(t) else 0.0
    knots = np.arange(0.0, end + 2 * RUBATO_KNOT, RUBATO_KNOT)
    walk = np.clip(np.cumsum(rng.normal(0, std, len(knots) - 1)), -RUBATO_LIMIT, RUBATO_LIMIT)
    warped = np.concatenate([[0.0], np.cumsum(RUBATO_KNOT * np.exp(walk))])
    return np.interp(t, knots, warped)


def pedal_legato(n: np.ndarray) -> np.ndarray:
    """Notes as a pianist's sustain pedal leaves them: the pedal changes at each new
    bass note (the lowest of a chord, in the lower half of the window) and is down
    again PEDAL_LIFT later; a note released while it is down sounds on to the next
    change, unless that is over PEDAL_HOLD away."""
    if len(n) < 2:
        return n
    starts = n[:, 0]
    order = np.argsort(starts, kind="stable")
    cluster = chord_groups(starts[order])
    lowest = np.full(cluster[-1] + 1, 128.0)
    np.minimum.at(lowest, cluster, n[order, 2])
    first = np.concatenate([[0], np.nonzero(np.diff(cluster))[0] + 1])
    changes = starts[order][first][lowest < np.median(n[:, 2])]
    if len(changes) == 0:
        return n
    k = np.searchsorted(changes, n[:, 1], side="right")  # the change after each release
    has_next = k < len(changes)
    nxt = np.where(has_next, changes[np.minimum(k, len(changes) - 1)], n[:, 1])
    prev = np.where(k > 0, changes[np.maximum(k - 1, 0)], -np.inf)
    held = has_next & (n[:, 1] >= prev + PEDAL_LIFT) & (nxt - n[:, 1] <= PEDAL_HOLD)
    out = n.copy()
    out[held, 1] = nxt[held]
    return out


def voice(n: np.ndarray, gain: float) -> np.ndarray:
    """The top note of each chord (livejam's chord rule) a little louder: the melody
    a pianist brings out."""
    if len(n) < 2 or gain <= 0:
        return n
    order = np.argsort(n[:, 0], kind="stable")
    cluster = chord_groups(n[order, 0])
    top = np.full(cluster[-1] + 1, -1.0)
    np.maximum.at(top, cluster, n[order, 2])
    out = n.copy()
    out[order, 3] += np.where(n[order, 2] == top[cluster], gain, -gain / 2)
    return out


def augment_notes(notes: np.ndarray, rng: np.random.Generator, aug: Augment) -> np.ndarray:
    n = np.array(notes, dtype=np.float64)
    if not aug.enabled or len(n) == 0:
        return n
    lo, hi = n[:, 2].min(), n[:, 2].max()
    k = rng.integers(max(-aug.transpose, -lo), min(aug.transpose, 127 - hi) + 1)
    n[:, 2] += k
    # Half the windows stay as written: the model must also know clean scores,
    # and held-out NLL is measured on them.
    if rng.random() >= aug.human:
        return n
    n[:, :2] *= rng.uniform(1 - aug.stretch, 1 + aug.stretch)
    if aug.rubato > 0:
        n[:, :2] = rubato(n[:, :2].ravel(), rng, aug.rubato).reshape(-1, 2)
    if rng.random() < aug.pedal:
        n = pedal_legato(n)
    if aug.timing_ms > 0:
        jitter = rng.normal(0, aug.timing_ms / 1000, size=(len(n), 2))
        dur = n[:, 1] - n[:, 0]
        n[:, 0] = np.maximum(n[:, 0] + jitter[:, 0], 0)
        n[:, 1] = n[:, 0] + np.maximum(dur + jitter[:, 1], 0.02)
    # Scores carry one velocity for everything; players do not.
    level = rng.uniform(45, 110)
    n[:, 3] = level + (n[:, 3] - n[:, 3].mean()) + rng.normal(0, aug.velocity_std, len(n))
    n = voice(n, aug.voicing)
    n[:, 3] = np.clip(n[:, 3], 1, 127)
    return n


def _window(corpus: Corpus, i: int, need: int, rng: np.random.Generator, aug: Augment) -> np.ndarray:
    """Up to `need` tokens from a random place in piece i, augmented."""
    notes = corpus.piece_notes(i)
    p = corpus.pieces[i]
    if len(notes) == 0:
        return np.zeros(0, np.int64)
    dur = max(float(notes[:, 1].max()), 0.01)
    # Seconds of music that hold `need` tokens here, with margin for the stretch.
    seconds = need / max(p.token_count / dur, 1e-3) * 1.4 * (1 + aug.stretch)
    first = int(rng.integers(0, len(notes)))
    t0 = notes[first, 0]
    last = int(np.searchsorted(notes[:, 0], t0 + seconds, side="right"))
    seg = np.array(notes[first:last], dtype=np.float64)
    seg[:, :2] -= t0
    return vocab.encode(augment_notes(seg, rng, aug))[:need]


def sample_rows(corpus: Corpus, ids: list[int], batch: int, length: int, rng: np.random.Generator,
                aug: Augment) -> np.ndarray:
    """[batch, length] int64 rows; a row shorter than a piece is filled with the
    next random piece after a 2 s gap. Pieces are drawn in proportion to their length."""
    weights = np.array([corpus.pieces[i].token_count for i in ids], dtype=np.float64)
    weights /= weights.sum()
    rows = np.empty((batch, length), np.int64)
    for r in range(batch):
        parts, have = [], 0
        while have < length:
            i = ids[int(rng.choice(len(ids), p=weights))]
            w = _window(corpus, i, length - have, rng, aug)
            if parts:
                w = np.concatenate([PIECE_GAP, w])
            parts.append(w)
            have += len(w)
        rows[r] = np.concatenate(parts)[:length]
    return rows


def eval_rows(corpus: Corpus, split: str, max_tokens: int | None = None):
    """The split's pieces as they are (no augmentation), longest first, each
    from its first token, cut at max_tokens in all: [(tokens int64 array)]."""
    pieces = corpus.split_tokens(split)
    pieces.sort(key=len, reverse=True)
    if max_tokens is not None:
        # An even spread of pieces, not just the longest ones.
        kept, total = [], 0
        for t in pieces[:: max(1, len(pieces) // 200)] if len(pieces) > 200 else pieces:
            if total >= max_tokens:
                break
            kept.append(t[: max_tokens - total])
            total += len(kept[-1])
        pieces = kept
    return [p for p in pieces if len(p) >= 2]
