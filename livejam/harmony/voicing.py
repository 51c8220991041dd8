"""How livejam's voices move from chord to chord: the voicing of a held chord
with the smallest total motion from the last, and no parallel fifths or octaves
between the outer voices (the bass and the top voice heard above it).

A voicing is three or four notes of the chord's tones (every tone there when
three fit, the root's octave or a doubled tone as the fourth), in a range, a
minor third apart at least and no wider than SPAN. Among those, the least total
motion from the previous voicing wins; the model's preference for the bass note
breaks near ties, and the root in the bass is preferred on a change of chord."""
from __future__ import annotations

import itertools

import numpy as np

SPAN = 19  # semitones from a voicing's bass to its top (an octave and a fifth)
MIN_GAP = 3  # semitones between two voices at least (no seconds)
PERFECT = (0, 7)  # octaves (and unisons) and fifths, by interval class
ROOT_COST = 4.0  # semitones of motion the root in the bass is worth
MODEL_WEIGHT = 0.5  # semitones of motion one nat of the model's bass preference is worth


def parallel(before: tuple[int, int] | None, after: tuple[int, int]) -> bool:
    """Do two voices (low, high) move in parallel fifths or octaves from before to
    after? Both must move, the same way, into the same perfect interval class."""
    if before is None:
        return False
    (l0, h0), (l1, h1) = before, after
    if l0 == l1 or h0 == h1 or (l1 - l0 > 0) != (h1 - h0 > 0):
        return False
    a, b = (h0 - l0) % 12, (h1 - l1) % 12
    return a == b and a in PERFECT


def outer(others, ours) -> tuple[int, int] | None:
    """The outer voices (lowest, highest) when livejam's notes `ours` sound with the
    others' (the player's hands); None when livejam plays neither (an inner voice)."""
    every = [*others, *ours]
    low, high = min(every), max(every)
    return (low, high) if low in ours or high in ours else None


def moves_parallel(before: tuple[int, int] | None, others, ours) -> bool:
    """Would livejam's notes make the outer voices move in parallel fifths or octaves
    from `before` (the outer voices at its last note that was one)?"""
    now = outer(others, ours)
    return now is not None and parallel(before, now)


def parallel_free(before: tuple[int, int] | None, others, candidates) -> np.ndarray:
    """For each candidate pitch sounded alone with the others: True unless it makes
    the outer voices move in parallel fifths or octaves from `before` (what
    `moves_parallel` says of one note, for many at once: a mask over a beat's choices)."""
    c = np.asarray(candidates, float)
    if before is None:
        return np.ones(len(c), bool)
    lo_o, hi_o = (min(others), max(others)) if len(others) else (np.inf, -np.inf)
    low, high = np.minimum(c, lo_o), np.maximum(c, hi_o)
    (l0, h0), interval = before, (before[1] - before[0]) % 12
    same_way = (low != l0) & (high != h0) & ((low > l0) == (high > h0))
    into = ((high - low) % 12 == interval) & (interval in PERFECT)
    return ~(((low == c) | (high == c)) & same_way & into)


def motion(before: list[int] | None, after: tuple[int, ...]) -> float:
    """Total semitones the voices move: each new voice from the nearest old one."""
    if not before:
        return 0.0
    old = np.array(before)
    return float(sum(np.abs(old - p).min() for p in after))


def voicings(tones: frozenset[int], lo: int, hi: int, sizes=(3, 4)):
    """Every voicing of the tones within lo..hi: each tone present (as many as fit)."""
    pitches = [p for p in range(lo, hi + 1) if p % 12 in tones]
    need = min(len(tones), max(sizes))
    for n in sizes:
        for combo in itertools.combinations(pitches, n):
            if combo[-1] - combo[0] > SPAN or any(b - a < MIN_GAP for a, b in zip(combo, combo[1:])):
                continue
            if len({p % 12 for p in combo}) < min(need, n):
                continue
            yield combo


def voice_lead(tones: frozenset[int], root: int, lo: int, hi: int, previous: list[int] | None,
               before: tuple[int, int] | None, others=(), bass_logits: np.ndarray | None = None,
               sizes=(3, 4)) -> list[int]:
    """The held chord's voicing for now (see the module's opening). `before` is the
    outer voices at livejam's last note that was one; `others` what the player
    sounds now (both hands)."""
    best, best_cost = None, None
    if bass_logits is not None:
        bass_logits = np.maximum(bass_logits - bass_logits.max(), -8.0)  # a preference, not a veto
    for combo in voicings(tones, lo, hi, sizes):
        if moves_parallel(before, others, combo) or (previous and parallel((previous[0], previous[-1]),
                                                                             (combo[0], combo[-1]))):
            continue
        cost = motion(previous, combo)
        if combo[0] % 12 != root:
            cost += ROOT_COST
        if bass_logits is not None:
            cost -= MODEL_WEIGHT * float(bass_logits[combo[0]])
        if not previous:
            cost += abs((combo[0] + combo[-1]) / 2 - (lo + hi) / 2) / 4  # the first: mid-range
        if best_cost is None or cost < best_cost:
            best, best_cost = combo, cost
    return list(best) if best is not None else []
