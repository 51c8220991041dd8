"""What the player's call was, for steering the answer and for judging it: its
notes as the model heard them, its key (Krumhansl-Schmuckler on pitch-class
durations), its register, its density and its melodic line.

Pure numpy on notes; the same functions measure a call and an answer, live and in
`bin/train judge`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import vocab
from ..settings.config import NOTE_NAMES, note_name

# Krumhansl-Kessler key profiles (probe-tone ratings), C major and C minor.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor and the raised 7th of its cadences
# A pitch class the call dwells on for this share of its sound is in its key
# whatever the scale says: a blue note, a modal colour, played on purpose.
DWELL = 0.08
NOTE_WEIGHT_CAP = 1.0  # seconds: one long pedalled note must not outweigh the melody
# Two hands: a call whose sound splits into a low and a high cluster this far apart
# (centre to centre), each holding at least this share of it, was played by two hands.
HANDS_APART = 12
HAND_SHARE = 0.15
CHORD_SECONDS = 0.03  # notes struck this close together are one chord, one event
HAND_EDGE = 0.05  # a hand's reach: its pitches from this quantile to 1 - this, so a stray note does not stretch it
NAMES = NOTE_NAMES


pitch_name = note_name  # 60 -> C4


@dataclass(frozen=True)
class Key:
    tonic: int
    minor: bool
    pitch_classes: frozenset[int]  # the scale, and what the call dwelt on
    fit: float  # correlation with the key's profile, -1..1

    @property
    def name(self) -> str:
        return f"{NAMES[self.tonic]} {'minor' if self.minor else 'major'}"

    def contains(self, pitch: int) -> bool:
        return pitch % 12 in self.pitch_classes


# The 24 key profiles, centred (major on C..B, then minor): one matrix product scores every key.
_PROFILES = np.array([np.roll(p, t) for p in (MAJOR_PROFILE, MINOR_PROFILE) for t in range(12)])
_CENTRED = _PROFILES - _PROFILES.mean(axis=1, keepdims=True)
_NORMS = np.linalg.norm(_CENTRED, axis=1)


def pitch_class_weights(notes) -> np.ndarray:
    """How long each pitch class sounds, each note counted up to NOTE_WEIGHT_CAP."""
    arr = np.asarray([tuple(n)[:3] for n in notes], dtype=np.float64).reshape(-1, 3)
    dur = np.clip(arr[:, 1] - arr[:, 0], 0.01, NOTE_WEIGHT_CAP)
    return np.bincount(arr[:, 2].astype(np.int64) % 12, weights=dur, minlength=12)


def estimate_key(notes) -> Key | None:
    """The best of the 24 major and minor keys for these notes (Pearson correlation
    with each key's profile), or None without notes."""
    w = pitch_class_weights(notes)
    if w.sum() <= 0:
        return None
    centred = w - w.mean()
    spread = np.linalg.norm(centred)
    fits = _CENTRED @ centred / (_NORMS * spread) if spread > 0 else np.ones(24)  # all alike: every key fits
    best = int(np.argmax(fits))  # ties: major before minor, lower tonic first
    minor, tonic = divmod(best, 12)
    scale = {(tonic + d) % 12 for d in (MINOR_SCALE if minor else MAJOR_SCALE)}
    dwelt = {int(pc) for pc in np.nonzero(w / w.sum() >= DWELL)[0]}
    return Key(tonic, bool(minor), frozenset(scale | dwelt), float(fits[best]))


@dataclass(frozen=True)
class Profile:
    """A phrase in the terms the controls speak: key, register, density, line."""

    key: Key | None
    center: float  # mean pitch, weighted by how long each note sounds
    rate: float  # notes per second, first onset to last release
    seconds: float
    pitches: tuple[int, ...]  # in onset order (a chord low to high)
    onsets: tuple[float, ...]
    # Where the hands played, low to high: (lowest, highest) pitch of each; one
    # range for a one-hand call, two when a left hand played well below a right.
    hands: tuple[tuple[float, float], ...] = ()
    # Onsets per second with a chord counted once (notes struck within CHORD_SECONDS):
    # what the density control matches, so a pianist's chords are not heard as speed.
    event_rate: float = 0.0


def chord_groups(starts: np.ndarray) -> np.ndarray:
    """The chord each onset belongs to (starts ascending): an onset within
    CHORD_SECONDS of the one before joins its chord. One rule for the call, the
    answer's density, training's pianist and the judge."""
    starts = np.asarray(starts, np.float64)
    return np.concatenate([[0], np.cumsum(np.diff(starts) > CHORD_SECONDS)]).astype(np.int64)


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """x sorted ascending."""
    c = np.cumsum(w) / w.sum()
    return float(x[min(int(np.searchsorted(c, q)), len(x) - 1)])


def hands_of(pitch: np.ndarray, weight: np.ndarray) -> tuple[tuple[float, float], ...]:
    """The pitch range of each hand: the best split of the sounding time into a low
    and a high cluster (1-D 2-means, every cut tried), kept as two hands only when
    they lie an octave apart and each holds a fair share; else one range."""
    order = np.argsort(pitch, kind="stable")
    x, w = pitch[order].astype(np.float64), weight[order].astype(np.float64)

    def reach(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        return (_weighted_quantile(a, b, HAND_EDGE), _weighted_quantile(a, b, 1 - HAND_EDGE))

    if len(x) < 2 or x[-1] - x[0] < HANDS_APART:
        return (reach(x, w),)
    cw, cxw, cxxw = np.cumsum(w), np.cumsum(w * x), np.cumsum(w * x * x)
    total_w, total_xw, total_xxw = cw[-1], cxw[-1], cxxw[-1]
    lw, lxw, lxxw = cw[:-1], cxw[:-1], cxxw[:-1]  # low cluster = x[:i+1]
    hw, hxw, hxxw = total_w - lw, total_xw - lxw, total_xxw - lxxw
    within = (lxxw - lxw**2 / lw) + (hxxw - hxw**2 / hw)
    valid = x[1:] > x[:-1]  # never cut between two sounds of one pitch
    within[~valid] = np.inf
    i = int(np.argmin(within))
    low_share = lw[i] / total_w
    apart = hxw[i] / hw[i] - lxw[i] / lw[i]
    if apart < HANDS_APART or min(low_share, 1 - low_share) < HAND_SHARE:
        return (reach(x, w),)
    return (reach(x[: i + 1], w[: i + 1]), reach(x[i + 1 :], w[i + 1 :]))


def profile_of(notes) -> Profile:
    notes = sorted((float(s), float(e), int(p), int(v)) for s, e, p, v in notes)
    if not notes:
        return Profile(None, 60.0, 0.0, 0.0, (), ())
    dur = np.array([min(max(e - s, 0.01), NOTE_WEIGHT_CAP) for s, e, _, _ in notes])
    pitch = np.array([p for _, _, p, _ in notes], float)
    seconds = max(max(e for _, e, _, _ in notes) - notes[0][0], 0.01)
    events = 1 + int(chord_groups([s for s, _, _, _ in notes])[-1])
    return Profile(estimate_key(notes), float((pitch * dur).sum() / dur.sum()), len(notes) / seconds, seconds,
                   tuple(int(p) for p in pitch), tuple(s for s, _, _, _ in notes), hands_of(pitch, dur),
                   events / seconds)


class HeardCall:
    """The notes of the call being played, from the tokens the player's playing
    became (so the pedal and re-strikes count as the model heard them)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.dec = vocab.StreamDecoder()
        self.started: dict[int, tuple[int, int]] = {}
        self.notes: list[tuple[float, float, int, int]] = []
        self._profile: Profile | None = None  # what profile() said, until more is heard

    def feed(self, tokens: list[int]) -> None:
        if tokens:
            self._profile = None
        for tok in tokens:
            for what, pitch, vel, step in self.dec.feed(tok):
                if what == "on":
                    self.started[pitch] = (step, vel)
                else:
                    s, v = self.started.pop(pitch)
                    if step > s:
                        self.notes.append((s / vocab.STEPS_PER_SECOND, step / vocab.STEPS_PER_SECOND, pitch, v))

    def profile(self) -> Profile:
        """The call so far (notes still held count up to the last thing heard); asked
        for once to prepare an answer and once to name the key, computed once."""
        if self._profile is None:
            now = self.dec.step / vocab.STEPS_PER_SECOND
            held = [(s / vocab.STEPS_PER_SECOND, max(now, (s + 1) / vocab.STEPS_PER_SECOND), p, v)
                    for p, (s, v) in self.started.items()]
            self._profile = profile_of(self.notes + held)
        return self._profile
