"""Phrase end: when has the player finished a call?

Default: every key up (the sustain pedal counts as holding) and no new note for
the silence threshold. With --phrase-end model: when the model's phrase head
(PhraseHead, below) hears an ending after the last release, or, for a model without
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
from .call import estimate_key

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


# -- the phrase head -----------------------------------------------------------
# --phrase-end model's judge of a release: is the call over, or is this a breath?
# A logistic head reads, at the moment every key is up, the model's expectation of the
# gap to come (its TIME_SHIFT odds) and the call's shape (its pace, how long its last
# note was held against it, where that note and the one before sit in the call's key),
# at each moment of the silence. It was fitted on the phrase ends the Lieder scores mark
# (training/phrase_end.py: words that end a clause, fermatas, double bars) against their
# breaths, and rides in the model's metadata as "phrase_head": a model without one keeps
# the gap-odds rule (model_gap_due). Pure numpy, a few hundred numbers per release.

# Gap lengths (10 ms steps) whose odds the head reads: the model's own sense of a rest.
TAIL_STEPS = (15, 30, 50, 80, 100)
DEGREES = tuple(range(12))  # the last note's (and the one before's) semitones above the call's tonic
CALL_FEATURES = ("log_p_shift", *(f"log_p_gap_{k}" for k in TAIL_STEPS), "log_call_seconds", "log_call_notes",
                 "log_call_iois", "log_last_seconds", "last_vs_median", "last_vs_ioi", "last_vs_mean_pitch",
                 "last_interval", "key_minor", "key_fit", *(f"last_degree_{d}" for d in DEGREES),
                 *(f"prev_degree_{d}" for d in DEGREES))
ELAPSED_FEATURES = ("silence_seconds", "silence_iois", "log_silence_iois")
STEP = 0.05  # seconds between the moments of a silence the head judges
# The call's shape is read from its last notes only: an hour-long improvisation costs
# a release no more than a phrase (0.3 ms at 40 notes, 0.5 ms at this many).
CALL_NOTES = 256


def call_features(logits: np.ndarray, notes) -> np.ndarray:
    """The head's features fixed at the release: the model's gap odds after it, and
    the call's shape (notes: (start, end, pitch, velocity) of the call so far). The
    last is the call's median inter-onset interval, the unit of silence_iois."""
    z = np.asarray(logits, np.float64)
    z = z - z.max()
    p = np.exp(z)
    shift = p[_SHIFT]
    tail = np.cumsum(shift[::-1])[::-1]  # tail[k-1]: P(gap >= k steps), unnormalised
    odds = [np.log(shift.sum() / p.sum())] + [np.log(tail[k - 1] / shift.sum() + 1e-12) for k in TAIL_STEPS]
    shape = np.zeros(len(CALL_FEATURES) - len(odds))
    ioi = 0.5
    notes = list(notes)[-CALL_NOTES:]
    if notes:
        arr = np.asarray([tuple(n)[:3] for n in notes], np.float64)
        arr = arr[np.lexsort((arr[:, 2], arr[:, 0]))]
        dur = np.maximum(arr[:, 1] - arr[:, 0], 0.01)
        onsets = np.unique(np.round(arr[:, 0], 2))
        ioi = float(np.median(np.diff(onsets))) if len(onsets) > 1 else float(dur.mean())
        ioi = max(ioi, 0.05)
        last = int(np.argmax(arr[:, 1]))  # the note whose release this is
        pitch = int(arr[last, 2])
        prev = int(arr[last - 1, 2]) if last > 0 else pitch
        key = estimate_key(notes)
        span = arr[:, 1].max() - arr[:, 0].min()
        shape[:10] = [np.log1p(span), np.log1p(len(arr)), np.log1p(span / ioi), np.log(dur[last]),
                      np.log(dur[last] / np.median(dur)), np.log(dur[last] / ioi),
                      (pitch - float(np.average(arr[:, 2], weights=dur))) / 12, np.clip(pitch - prev, -12, 12) / 12,
                      float(key.minor) if key else 0.0, key.fit if key else 0.0]
        if key is not None:
            shape[10 + (pitch - key.tonic) % 12] = 1.0
            shape[22 + (prev - key.tonic) % 12] = 1.0
    return np.concatenate([odds, shape, [ioi]])


def elapsed_features(seconds: np.ndarray, ioi: float) -> np.ndarray:
    """[len(seconds), len(ELAPSED_FEATURES)]: how long the silence has lasted, in
    seconds and in the call's own inter-onset intervals (its pace)."""
    d = np.asarray(seconds, np.float64)
    return np.stack([d, d / ioi, np.log(d / ioi)], axis=1)


@dataclass(frozen=True)
class PhraseHead:
    weights: np.ndarray  # over the state's layers (flattened), then CALL_FEATURES
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float  # P(end) at which the call is judged over
    layers: tuple[int, ...]  # which of the GRU's layers the head reads

    @classmethod
    def from_metadata(cls, meta: dict) -> "PhraseHead | None":
        spec = meta.get("phrase_head")
        if not isinstance(spec, dict) or tuple(spec.get("features", ())) != CALL_FEATURES + ELAPSED_FEATURES:
            return None  # none, or fitted on other features: the gap-odds rule stays
        return cls(np.asarray(spec["weights"], np.float64), float(spec["bias"]),
                   np.asarray(spec["mean"], np.float64), np.asarray(spec["scale"], np.float64),
                   float(spec["threshold"]), tuple(spec["layers"]))

    def moments(self, silence: float) -> np.ndarray:
        """The moments of a silence (seconds after the release) the head judges."""
        return np.arange(FLOOR, silence - 1e-9, STEP)

    def p_end(self, state: np.ndarray, logits: np.ndarray, notes, seconds) -> np.ndarray:
        """P(the call is over) at each of `seconds` of silence after the release."""
        fixed = call_features(logits, notes)
        h = np.asarray(state, np.float64)[list(self.layers), 0].ravel()
        x = np.hstack([np.broadcast_to(np.concatenate([h, fixed[:-1]]), (len(seconds), h.size + fixed.size - 1)),
                       elapsed_features(seconds, fixed[-1])])
        return 1 / (1 + np.exp(-(((x - self.mean) / self.scale) @ self.weights + self.bias)))

    def gap(self, state: np.ndarray, logits: np.ndarray, notes, silence: float) -> float:
        """Seconds after the release at which the call is over: the first moment the
        head hears an ending, the silence threshold if it never does."""
        moments = self.moments(silence)
        if not len(moments):
            return silence
        hit = np.nonzero(self.p_end(state, logits, notes, moments) >= self.threshold)[0]
        return float(moments[hit[0]]) if len(hit) else silence
