"""The beats a part plays on: the tempo's grid (--bpm or a followed clock), or in
free time the player's pulse as heard: the median of their last eight intervals
between onsets, folded by octaves into 0.4-1.0 s, counted from their latest onset.
A part may play on the off-beats (the counter-line). Accompany mode keeps time by
this (conversation/accompany.py); an answer in free time finds its strong beats by
`pulse_of` the call."""
from __future__ import annotations

from collections import deque

import numpy as np

ONSETS = 9  # the player's latest onsets whose intervals give the pulse in free time
RANGE = (0.4, 1.0)  # seconds: the free-time beat, folded by octaves into this


def pulse_of(onsets) -> float:
    """A player's beat in free time from their onset times (0.5 s before two onsets)."""
    iois = np.diff(np.array(onsets, float))
    iois = iois[iois > 0.05]  # a chord's notes are one onset
    if len(iois) == 0:
        return 0.5
    p = float(np.median(iois))
    lo, hi = RANGE
    while p < lo:
        p *= 2
    while p > hi:
        p /= 2
    return p


class Beats:
    def __init__(self, grid, offbeat=lambda: 0.0) -> None:
        self.grid = grid  # () -> tempo.Grid, or None in free time
        self.offbeat = offbeat  # () -> 0.5 for a part on the off-beats
        self.onsets: deque[float] = deque(maxlen=ONSETS)

    def heard(self, t: float) -> None:
        """The player struck something at t (free time: the pulse follows it)."""
        self.onsets.append(t)

    def pulse(self) -> float:
        return pulse_of(self.onsets)

    def seconds(self) -> float:
        g = self.grid()
        return g.spb if g is not None else self.pulse()

    def change_at(self, t: float, quantize: float) -> float:
        """When a change is taken up: at once in free time; with a tempo on the next
        sixteenth of the grid (quantise 0: at once), so it stays on the grid and
        follows within a quarter beat."""
        g = self.grid()
        if g is None or quantize <= 0:
            return t
        return max(t, g.time(float(np.ceil(g.beats(t) * 4 - 1e-6) / 4)))

    def first(self, t: float) -> float:
        """The first beat from the player's note at t (free time: with it, an off-beat part after it)."""
        g = self.grid()
        if g is None:
            return t + self.offbeat() * self.pulse()
        return self._on_grid(g, g.beats(t) - 0.05)

    def after(self, beat: float) -> float:
        g = self.grid()
        if g is None:
            # Free time: counted from the player's latest onset, so it follows their pulse.
            p, last, off = self.pulse(), self.onsets[-1], self.offbeat()
            k = np.floor((beat - last) / p - off + 1e-6) + 1
            return max(beat + 0.25 * p, last + (k + off) * p)
        return self._on_grid(g, g.beats(beat) + 0.05)

    def _on_grid(self, g, after_beats: float) -> float:
        """The first of its beats (off-beats for such a part) after this many beats, on the grid."""
        off = self.offbeat()
        return g.time(float(np.ceil(after_beats - off) + off))
