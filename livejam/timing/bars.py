"""Turns in bars, answers on the beat grid: the musical-time rules, given a Grid
(tempo.py) and the times of what was played.

- A call starts in the bar of its first note (a pickup just before a bar line
  belongs to that bar) and ends on the first bar line of its own N-bar grid
  (`--call-bars`: 1, 2 or 4) at which no key is held. The answer starts on that
  bar line and lasts the call's number of bars, or `--answer-bars`.
- The model thinks in 10 ms steps. An answer's steps become beats at the tempo
  the answer started in, and beats become clock times through the newest Grid
  as each note goes out, so an answer follows a tempo change as it plays.
- Onsets are pulled toward a sixteenth grid by `--quantize` (0 leaves the
  model's timing, 1 puts every onset on the grid) with the call's swing: the
  off-beat eighths sit where the player put them. A note keeps its length, never
  crosses into another bar by being pulled, and every note ends by the answer's
  last bar line.
"""
from __future__ import annotations

import math

import numpy as np

from ..model import vocab
from .tempo import Grid

PICKUP_BEATS = 0.25  # a first note this close before a bar line starts the call in that bar
LOOKAHEAD = 0.03  # seconds an answer in bars is scheduled ahead of its notes' grid time (conversation/turns.py)
LATE_BEATS = 0.25  # an answer prepared this late for its bar line still starts on it (as soon as it can)
STRAIGHT, MAX_SWING = 0.5, 0.75  # where the off-beat eighth sits within the beat


def bar_and_beat(grid: Grid, t: float, beats_per_bar: int) -> tuple[int, float]:
    """(bar from 1, beat from 1.0) at t. Rounded first, as shown: 11.996 beats is
    bar 4 beat 1.0, not bar 3 beat 5.0."""
    beats = max(0.0, round(grid.beats(t), 2))
    bar = int(beats // beats_per_bar)
    return bar + 1, round(beats - bar * beats_per_bar + 1, 2)


def call_start_bar(grid: Grid, t: float, beats_per_bar: int) -> int:
    return math.floor((grid.beats(t) + PICKUP_BEATS) / beats_per_bar)


def call_end_bar(grid: Grid, start_bar: int, last_release: float, beats_per_bar: int, call_bars: int) -> int:
    """The bar line the call ends on: the first of its N-bar grid at or after the last release."""
    after = math.ceil(grid.beats(last_release) / beats_per_bar - 1e-9)
    n = max(1, math.ceil((after - start_bar) / call_bars))
    return start_bar + n * call_bars


def swing_of(onset_beats: list[float]) -> float:
    """Where the call's off-beat eighths sit in the beat (0.5 straight, 0.67 triplet swing)."""
    frac = np.mod(np.asarray(onset_beats, np.float64), 1.0)
    offbeats = frac[(frac > 0.4) & (frac < 0.8)]
    if len(offbeats) < 2:
        return STRAIGHT
    return float(np.clip(np.median(offbeats), STRAIGHT, MAX_SWING))


def grid_points(swing: float) -> np.ndarray:
    """The sixteenths of one beat, with the off-beat eighth at `swing`."""
    return np.array([0.0, swing / 2, swing, (1 + swing) / 2, 1.0])


class LinearTimeline:
    """Free time: step s sounds (s - step0) / 100 seconds after t0."""

    def __init__(self, step0: int, t0: float) -> None:
        self.step0, self.t0 = step0, t0

    def time_of(self, step: int) -> float:
        return self.t0 + (step - self.step0) / vocab.STEPS_PER_SECOND

    def step_at(self, t: float) -> int:
        return self.step0 + int((t - self.t0) * vocab.STEPS_PER_SECOND)

    def on_place(self, step: int, pitch: int, on_beat: bool = False) -> float:
        return self.time_of(step)

    def off_place(self, step: int, pitch: int) -> float:
        return self.time_of(step)

    def at(self, place: float) -> float:
        """A place (in free time, a clock time already) as a clock time."""
        return place


class BarTimeline:
    """An answer in bars: steps -> beats at the starting tempo -> clock times by
    the newest grid. `grid()` is asked each time (None while the clock is lost:
    the last grid goes on)."""

    def __init__(self, grid, step0: int, start_bar: int, bars: int, beats_per_bar: int,
                 quantize: float, swing: float) -> None:
        self.grid = grid
        self.last = grid()
        self.step0, self.beats_per_bar, self.quantize = step0, beats_per_bar, quantize
        self.beat0 = start_bar * beats_per_bar
        self.end_beat = (start_bar + bars) * beats_per_bar
        self.spb0 = self.last.spb  # the model's seconds become beats at the tempo the answer starts in
        self.points = grid_points(swing)
        self.moved: dict[int, float] = {}  # pitch -> how far its onset was pulled, in beats
        self.ended: dict[int, float] = {}  # pitch -> the beat its last note ended on

    @property
    def seconds(self) -> float:
        """The answer's length in the model's seconds (whole bars at the starting tempo)."""
        return (self.end_beat - self.beat0) * self.spb0

    @property
    def pull(self) -> float:
        """How much earlier than the model's time pulling onto the grid may put a note
        (half the widest gap between grid points), in seconds."""
        return self.quantize * float(np.diff(self.points).max()) / 2 * self._now().spb

    @property
    def t0(self) -> float:
        return self._now().time(self.beat0)

    def _now(self) -> Grid:
        g = self.grid()
        if g is not None:
            self.last = g
        return self.last

    def beat_of(self, step: int) -> float:
        return self.beat0 + (step - self.step0) / vocab.STEPS_PER_SECOND / self.spb0

    def time_of(self, step: int) -> float:
        return self._now().time(self.beat_of(step))

    def step_at(self, t: float) -> int:
        return self.step0 + int((self._now().beats(t) - self.beat0) * self.spb0 * vocab.STEPS_PER_SECOND)

    def snap(self, beat: float) -> float:
        """An onset pulled toward the swung sixteenth grid, kept in its own bar and in the answer."""
        whole = math.floor(beat)
        pts = whole + self.points
        target = float(pts[np.argmin(np.abs(pts - beat))])
        bar_end = (math.floor(beat / self.beats_per_bar) + 1) * self.beats_per_bar
        if target >= bar_end:  # pulled over a bar line: the last sixteenth of its own bar instead
            target = whole + float(self.points[-2])
        moved = beat + self.quantize * (target - beat)
        return min(max(moved, self.beat0), self.end_beat)

    def snap_up(self, beat: float) -> float:
        """The first grid point at or after `beat`."""
        pts = math.floor(beat) + self.points
        return float(pts[pts >= beat - 1e-9][0])

    def at(self, place: float) -> float:
        """A place (a beat) as a clock time, by the grid as it is now: a note is placed
        when it is decided and timed when it is handed over, so a tempo that moves
        meanwhile is followed."""
        return self._now().time(place)

    def on_place(self, step: int, pitch: int, on_beat: bool = False) -> float:
        """An onset's beat; on_beat: the nearest beat itself (a note landing on the
        left hand's chord sounds with it, and is sampled again if the chord changes
        before then)."""
        beat = self.beat_of(step)
        placed = self.beat0 if step == self.step0 else float(round(beat)) if on_beat else self.snap(beat)
        placed = min(max(placed, self.beat0), self.end_beat)
        ended = self.ended.get(pitch)
        if ended is not None and placed < ended:  # never pulled back over its own last release
            placed = ended + self.quantize * (self.snap_up(ended) - ended)
        self.moved[pitch] = placed - beat
        return placed

    def off_place(self, step: int, pitch: int) -> float:
        beat = min(self.beat_of(step) + self.moved.pop(pitch, 0.0), self.end_beat)
        self.ended[pitch] = beat
        return beat


def answer_bars(g: Grid, cfg, bpb: int, t: float, start: float, last: float | None) -> tuple[float, int, int]:
    """(the bar line an answer starts on, its first bar, how many bars) for a call
    that started at `start` and last sounded at `last`, decided at `t`; `bpb` the
    beats of the bars counted now (one while the bar is unknown)."""
    first = call_start_bar(g, start, bpb)
    # Woken a little late for the bar line (a busy machine): still that bar, a hair late, not the next.
    t = max(t if last is None else last, t - LATE_BEATS * g.spb)
    end = call_end_bar(g, first, t, bpb, cfg.call_bars)
    asked = cfg.answer_bars * cfg.beats_per_bar // bpb  # bars asked for, in the bars counted now
    n = asked or max(1, min(end - first, int(cfg.max_answer / (bpb * g.spb))))
    return g.time(end * bpb), end, n
