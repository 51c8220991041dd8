"""Phrase end: when has the player finished a call?

Default: every key up (the sustain pedal counts as holding) and no new note for
the silence threshold. With --phrase-end model: when the model's phrase head
(phrase_head.py) hears an ending after the last release, or, for a model without
one, when the model judges a long gap likely (model_gap_due); from FLOOR on and
never later than the silence threshold. With a tempo: every key up at a bar line of the call's
grid (bars.py). A manual end (a CC or key) ends it at once. Pure logic on
the times it is given; the engine asks it when the next decision is due.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..model import vocab

FLOOR = 0.15  # seconds: the earliest a phrase may end after the last release
# A model without a phrase head: P(the gap lasts the silence threshold | it has lasted
# this long) at least this. Tuned by `bin/train judge` (docs/BENCHMARKS.md).
THRESHOLD = 0.7
_SHIFT = slice(vocab.TIME_SHIFT, vocab.TIME_SHIFT + vocab.MAX_SHIFT)


def model_gap_due(logits: np.ndarray, silence: float, threshold: float = THRESHOLD, floor: float = FLOOR) -> float:
    """Seconds after the last release at which the model judges the phrase over.

    The logits after the release say how long the model expects the gap before the
    next event to be (its first TIME_SHIFT: k steps of 10 ms, k = 100 meaning a
    second or more). After d steps of silence, the chance that the gap reaches the
    silence threshold is P(k >= silence) / P(k > d): it grows as the moment the
    model expected the next note passes. The phrase ends at the first d from the
    floor on where it reaches `threshold`; at the silence threshold at the latest."""
    z = np.asarray(logits, np.float64)[_SHIFT]
    p = np.exp(z - z.max())
    tail = np.cumsum(p[::-1])[::-1]  # tail[j] = P(k >= j + 1), unnormalised
    long = min(int(vocab.to_steps(silence)), vocab.MAX_SHIFT)
    lo = max(1, int(vocab.to_steps(floor)))
    if lo >= long:
        return silence
    d = np.arange(lo, long)
    ratio = tail[long - 1] / tail[d]  # P(k >= long) / P(k > d)
    hit = np.nonzero(ratio >= threshold)[0]
    return float(d[hit[0]]) / vocab.STEPS_PER_SECOND if len(hit) else silence


@dataclass
class Phrase:
    start: float  # first note-on of the call
    end: float  # when the last key (or the pedal) let go
    notes: int
    decided: float  # when the phrase end was decided

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


class PhraseDetector:
    def __init__(self, silence: float = 0.8) -> None:
        self.silence = silence
        # With a tempo: (call start, last release) -> the bar line the call ends on,
        # or None (free time): then the silence rule.
        self.bar_due: Callable[[float, float], float | None] | None = None
        # --phrase-end model's threshold, when a judge tunes it; None: the model's own
        # (its phrase head's, else THRESHOLD for the gap odds).
        self.model_threshold: float | None = None
        self.reset()

    def reset(self) -> None:
        self.start: float | None = None
        self.last_activity: float | None = None
        self.notes = 0
        # --phrase-end model: seconds after the last release at which the model judges
        # the call over (model_gap_due), set by whoever owns the model; None: the silence rule.
        self.model_gap: float | None = None

    @property
    def in_call(self) -> bool:
        return self.start is not None

    @property
    def call_seconds(self) -> float:
        """The call so far, first note to last release (what an answer mirrors)."""
        if self.start is None or self.last_activity is None:
            return 0.0
        return max(0.0, self.last_activity - self.start)

    def note_on(self, now: float) -> None:
        if self.start is None:
            self.start = now
        self.notes += 1
        self.last_activity = now
        self.model_gap = None  # the call goes on: what the model judged of the last release is void

    def released(self, now: float) -> None:
        """A key or the pedal let go (the silence counts from the last release)."""
        if self.start is not None:
            self.last_activity = now

    def due(self, held: bool) -> float | None:
        """When the phrase will end if nothing more is played; None while keys are held or no call."""
        if self.start is None or held or self.last_activity is None:
            return None
        if self.bar_due is not None:
            at = self.bar_due(self.start, self.last_activity)
            if at is not None:
                return at
        if self.model_gap is not None:
            return self.last_activity + min(self.model_gap, self.silence)
        return self.last_activity + self.silence

    def check(self, now: float, held: bool) -> Phrase | None:
        due = self.due(held)
        if due is None or now < due:
            return None
        return self._end(now)

    def manual_end(self, now: float) -> Phrase | None:
        return self._end(now) if self.start is not None else None

    def _end(self, now: float) -> Phrase:
        p = Phrase(self.start, self.last_activity if self.last_activity is not None else now, self.notes, now)
        self.reset()
        return p
