"""Musical time: where the beat is. A fixed tempo (`--bpm`), or a follower of
standard MIDI clock (`--clock PORT`: 24 ticks a beat, Start/Stop/Continue, Song
Position Pointer) from a DAW or drum machine.

Both give a Grid: a line from clock time to beats, good for extrapolating a
little ahead. Pure logic on the times it is given (the engine feeds it, tests
give explicit timestamps).

Following a clock: ticks reach us late and in bursts (a MIDI server delivers a
whole period's messages at once), and now and then a stall holds many back. A
tick can only be late, never early, so over the last four beats of ticks
(recent ones weighing more) a line is fitted by least squares, then again
through the lower half of the ticks: the least delayed, however many a stall
held back. Through those a curve, so a ramp is followed, not lagged; lowered
onto the earliest tick, it says where the beat really is. When even the
least-delayed tick of the last half beat is off the curve and those ticks keep
a tempo of their own (a burst does not), the tempo changed: the fit starts again
from them, so a change is followed within a beat. If instead they keep the same
tempo a whole number of ticks late, ticks were lost on the way (a server that
dropped a period): they are counted, so the bars stay where the DAW has them.

Gaps and jumps (the rule the README states):
- a dropout (no tick for LOST_TICKS, no Stop) is first "lost": free time. If ticks
  come back within MAX_COUNTED_BEATS, the song went on: held back (a stall of the
  machine, then a burst) or lost on the way. Which, and how many were lost, the
  ticks of the half beat after the gap say: the grid before the gap, carried on,
  puts their least delayed on the beat for one count only. Those are counted, and
  the bars stay put.
  A longer gap is a stall: where the song is now is not known, so the beat goes on
  from the ticks but the bar is unknown (`bar_known`) until Start or a Song
  Position Pointer says where bar 1 is;
- ticks alone (livejam joined a song already running) keep the beat with the bar
  unknown, likewise;
- Start, or a Song Position Pointer, while the song runs (a DAW looping or jumping
  without Stop) is a relocation: "relocate", and the bars count from there at once.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..midi.ports import CLOCK_TYPES
from .fitting import median, percentile, polyfit, polyval

PPQN = 24  # MIDI clock ticks per quarter note
SIXTEENTH_TICKS = 6  # Song Position Pointer counts sixteenths
WINDOW = 4 * PPQN  # ticks the tempo is fitted over: four beats (1 ms at p95 through 5 ms server periods)
LOWER_HALVINGS = 1  # the fit keeps the lower half of the ticks (those least delayed) this many times
CURVE_POINTS = 12  # least-delayed ticks needed to fit a curve (a ramp) rather than a line
HALF_WEIGHT_BEATS = 1.5  # a tick this many beats old weighs half as much in the fit
MIN_TICKS = PPQN // 2  # before this many, the tempo is not known
CHANGE_TICKS = PPQN // 2  # the least-delayed of the last half beat of ticks ...
CHANGE_SECONDS = 0.004  # ... this far from where the least-delayed ticks before it were: a new tempo
STEADY_SECONDS = 0.008  # ... and those ticks lie on a line to within this (bursts spread them by a server period)
LOST_TICKS = 12  # this many tick intervals without a tick: the clock is lost ...
LOST_MIN_SECONDS = 0.25  # ... and never sooner than this
MAX_COUNTED_BEATS = 8  # ticks back within this after a loss: lost on the way (counted); longer: a stall
MIN_BPM, MAX_BPM = 20.0, 400.0
FIT_EVERY = 6  # ticks between fits when nobody asks for the grid (a sixteenth): a slip or a tempo
#                change stays well inside the window the fit looks at (3 x CHANGE_TICKS)


@dataclass(frozen=True)
class Grid:
    """beats(t) = beat0 + (t - t0) / spb: where the beat is, near t0."""

    t0: float
    beat0: float
    spb: float  # seconds per beat

    @property
    def bpm(self) -> float:
        return 60.0 / self.spb

    def beats(self, t: float) -> float:
        return self.beat0 + (t - self.t0) / self.spb

    def time(self, beats: float) -> float:
        return self.t0 + (beats - self.beat0) * self.spb


class FixedTempo:
    """`--bpm N`: beat 0 at the start, bars from there on."""

    def __init__(self, bpm: float, start: float) -> None:
        self.source = "internal clock"
        self.bpm = bpm
        self.restart(start)

    def restart(self, start: float) -> None:
        """Bar 1 begins at `start`."""
        self.grid_now = Grid(start, 0.0, 60.0 / self.bpm)

    def grid(self) -> Grid:
        return self.grid_now


class MidiClockFollower:
    """Follows MIDI clock messages fed with their arrival times.

    feed() and check() return what changed, for the player to be told:
    "start", "stop", "continue", "found" (the tempo is known), "lost" (no tick
    for a while: free time until it comes back) or None.
    """

    def __init__(self, port: str = "clock") -> None:
        self.source = f"clock: {port}"
        self.ticks: deque[tuple[int, float]] = deque(maxlen=WINDOW)  # (tick count, arrival)
        self.count = 0  # ticks seen, whether the transport runs or not: the fit's x axis
        self.zero = 0  # the count whose tick is song position 0
        self.stopped_at = 0  # song position (ticks) of the next tick after a Stop or a pointer
        self.running = False  # the transport: Start/Continue until Stop
        self.started = False  # a Start or Continue was ever seen (else ticks alone run the song)
        self.downbeat = False  # the tick just fed was the first after Start (beat 1)
        self.fit: Grid | None = None
        self.lost = False
        self.bar_known = False  # a Start or a Song Position Pointer said where bar 1 is
        self.started_from_position = False  # a pointer set where Continue starts from
        self.resume: tuple[Grid, int] | None = None  # after a gap: (the grid before it, first count after)
        # The fit costs ~0.4 ms of a cold CPU: done when the grid is asked for (a decision
        # always sees every tick heard), else every FIT_EVERY ticks, not 48 times a second.
        self.unfitted = 0  # ticks since the last fit
        # The engine feeds; the screen asks for the grid from its own thread, which may fit.
        self.lock = threading.RLock()

    # -- what arrives ------------------------------------------------------
    def feed(self, kind: str, t: float, value: int | None = None) -> str | None:
        with self.lock:
            if kind == "clock":
                return self._tick(t)
            return self._transport(kind, t, value)

    def _transport(self, kind: str, t: float, value: int | None) -> str | None:
        if kind in ("start", "continue", "stop", "songpos"):
            self._settle_gap()
            self._refresh()  # the ticks before it are fitted as the transport stood then
        if kind == "start" or (kind == "continue" and not self.running):
            self._forget_if_stale(t)
            # Start while the song runs: back to bar 1 without a Stop. Ticks that came
            # before any Start (some DAWs and sequencers send their clock all the time)
            # ran no song: their Start is the song's start, its next tick beat 1 of bar 1.
            jumped = self.running and self.started
            self._move_zero(self.count if kind == "start" else self.count - self.stopped_at)
            self.bar_known = self.bar_known or kind == "start" or self.started_from_position
            self.running = self.started = True
            return "relocate" if jumped else kind
        if kind == "stop":
            if self.running:
                self.stopped_at = self.count - self.zero
            self.running = False
            return "stop"
        if kind == "songpos" and value is not None:
            if self.running:  # a jump (or a loop's end) without Stop: the next tick is there
                self._move_zero(self.count - value * SIXTEENTH_TICKS)
                self.bar_known = True
                return "relocate"
            self.stopped_at = value * SIXTEENTH_TICKS
            self.started_from_position = True
        return None  # Continue while running: nothing moved

    def _move_zero(self, zero: int) -> None:
        """Song position 0 is now the tick `zero`: the grid moves with it at once."""
        if self.fit is not None:
            self.fit = Grid(self.fit.t0, self.fit.beat0 + (self.zero - zero) / PPQN, self.fit.spb)
        self.zero = zero

    def _tick(self, t: float) -> str | None:
        said = None
        self._forget_if_stale(t)
        self.ticks.append((self.count, t))
        self.downbeat = self.started and self.count == self.zero  # the first tick after Start: beat 1
        self.count += 1
        if not self.started:
            self.running = True  # a device that sends only ticks: the song runs from its first
        gap_decided = self.resume is not None
        if gap_decided and not self._resumed():
            return None  # the ticks after a gap are not yet enough to say what it was
        if len(self.ticks) >= MIN_TICKS:
            self.unfitted += 1
            if self.fit is None or self.lost or gap_decided or self.unfitted >= FIT_EVERY:  # "found" at once
                said = self._refit()
        return said

    def _refit(self) -> str | None:
        """Fit every tick heard: "found" when that gives the first grid (or the first since the clock was lost)."""
        self.unfitted = 0
        grid = self._fit()
        if grid is None:
            return None
        found = self.fit is None or self.lost
        self.fit, self.lost = grid, False
        return "found" if found else None

    def _refresh(self) -> None:
        """Fit the ticks not yet fitted into a grid already found (a gap still undecided keeps the grid before it)."""
        if self.unfitted and self.resume is None and len(self.ticks) >= MIN_TICKS and self.fit is not None \
                and not self.lost:
            self._refit()

    def _forget_if_stale(self, t: float) -> None:
        """After a gap: ticks lost on the way are counted (the song went on, at the
        last tempo), if they come back within MAX_COUNTED_BEATS while it runs. A
        longer gap (a DAW that stops its clock with its transport, a cable pulled)
        says nothing about now: the tempo is found afresh and, if the song runs on
        without a Start or pointer, the bar is unknown."""
        if not self.ticks or t - self.ticks[-1][1] <= self._lost_after():
            return
        self._refresh()  # the grid before the gap, from every tick before it
        gap, fit = t - self.ticks[-1][1], self.fit
        if self.running and fit is not None and gap <= MAX_COUNTED_BEATS * fit.spb and self.resume is None:
            # Not counted yet: a burst of held-back ticks may follow (_resumed decides).
            self.resume = (fit, self.count)
            return
        self._forget()

    def _forget(self) -> None:
        self.ticks.clear()
        self.fit, self.resume = None, None
        if self.running:
            self.bar_known = False

    def _resumed(self) -> bool:
        """After a gap, once the ticks have come for CHANGE_TICKS tick intervals (a
        burst of held-back ones arrives at once, so it is over by then): how many
        were lost is the count that puts the least delayed of them on the grid
        before the gap, carried on; none when they were only held back. Ticks that
        keep no tempo, or fit no count, were a stall: the bar is unknown."""
        grid, first = self.resume
        after = [(c, t) for c, t in self.ticks if c >= first]
        spt = grid.spb / PPQN
        if after[-1][1] - after[0][1] < CHANGE_TICKS * spt:
            return False
        c = np.array([a for a, _ in after], np.float64)
        t = np.array([b for _, b in after], np.float64)
        late = (t - grid.time(0.0) - (c - self.zero) / PPQN * grid.spb) / spt  # in ticks, at the old count
        lost = round(float(late.min()))
        beat = late - late.min() < 1.0  # the least delayed (a burst's held-back ticks are later)
        keeps = beat.sum() >= 3 and abs(polyfit(c[beat], t[beat], 1)[0] / spt - 1) <= 0.2
        self.resume = None
        if not keeps or lost < 0 or abs(late.min() - lost) * spt > STEADY_SECONDS:
            self._forget()
            self.ticks.extend(after)
            return True
        self.count += lost
        self.ticks = deque([(c + lost if c >= first else c, tt) for c, tt in self.ticks], maxlen=WINDOW)
        return True

    def _settle_gap(self) -> None:
        """A transport message while a gap is undecided: the ticks before it go."""
        if self.resume is not None:
            first = self.resume[1]
            kept = [(c, t) for c, t in self.ticks if c >= first]
            self.ticks = deque(kept, maxlen=WINDOW)
            self.resume = None

    def check(self, now: float) -> str | None:
        """Call now and then: says "lost" once when the ticks stop coming while the
        song runs (after a Stop, a DAW may well stop its clock too)."""
        with self.lock:
            if self.running and self.fit is not None and not self.lost and self.ticks \
                    and now - self.ticks[-1][1] > self._lost_after():
                self.lost = True  # the ticks are kept: if they come back soon, the gap is counted
                return "lost"
            return None

    def lost_deadline(self) -> float | None:
        """When check() would call the clock lost if no tick comes (None: nothing to lose)."""
        if not self.running or self.fit is None or self.lost or not self.ticks:
            return None
        return self.ticks[-1][1] + self._lost_after() + 1e-3

    def _lost_after(self) -> float:
        per_tick = self.fit.spb / PPQN if self.fit else 0.0
        return max(LOST_MIN_SECONDS, LOST_TICKS * per_tick)

    def _fit(self) -> Grid | None:
        k = np.array([c for c, _ in self.ticks], np.float64)
        t = np.array([x for _, x in self.ticks], np.float64)
        k0, t0 = k[-1], t[-1]
        x, y = k - k0, t - t0
        coef, resid, keep = _robust_fit(x, y)
        recent = slice(-CHANGE_TICKS, None)
        if len(x) >= 2 * CHANGE_TICKS and _left_curve(resid) and _steady(x[recent], y[recent], coef[-2]):
            # Even the least-delayed of the recent ticks left the curve (a stall delays only
            # some), and they keep a tempo of their own (a burst does not).
            slip = _slip(x, y, float(coef[-2]))
            if slip is not None:
                # The same tempo, whole ticks later: ticks were dropped on the way (a MIDI
                # server that skipped a period), not a new tempo. Count them.
                lost, first = slip
                self.count += lost
                k0 += lost
                self.ticks = deque([(c + lost if i >= first else c, tt) for i, (c, tt) in enumerate(self.ticks)],
                                   maxlen=WINDOW)
                x = np.array([c for c, _ in self.ticks], np.float64) - k0
            else:
                # The tempo changed: start again from the recent ticks, not average the old one in.
                for _ in range(len(self.ticks) - CHANGE_TICKS):
                    self.ticks.popleft()
                x, y = x[-CHANGE_TICKS:], y[-CHANGE_TICKS:]
            coef, resid, keep = _robust_fit(x, y)
        spt = float(coef[-2])  # seconds per tick, now (the slope at x = 0, the newest tick)
        if spt <= 0 or not MIN_BPM <= 60.0 / (spt * PPQN) <= MAX_BPM:
            return None
        # The least-delayed ticks mark the beat: the curve lowered onto them.
        at = float(coef[-1] + resid[keep].min())
        beat_now = (k0 - self.zero) / PPQN if self.running else self.stopped_at / PPQN
        return Grid(t0 + at, beat_now, spt * PPQN)

    # -- what the rest asks ----------------------------------------------------
    def grid(self) -> Grid | None:
        """Where the beat is while the song runs and the clock is heard, from every tick
        heard so far; else None (free time)."""
        with self.lock:
            if not self.running or self.lost:
                return None
            self._refresh()
            return self.fit

    @property
    def bpm(self) -> float | None:
        return self.fit.bpm if self.fit and not self.lost else None


CLOCK_KINDS = CLOCK_TYPES  # what the follower takes


def _robust_fit(x: np.ndarray, y: np.ndarray):
    """A line by weighted least squares, again through the lower half (the least
    delayed ticks), then a curve through those when there are enough."""
    w = np.exp2(x / (HALF_WEIGHT_BEATS * PPQN))
    keep = np.ones(len(x), bool)
    for _ in range(LOWER_HALVINGS + 1):
        coef = polyfit(x[keep], y[keep], 1, w[keep])
        resid = y - polyval(coef, x)
        lower = resid <= median(resid[keep])
        if (keep & lower).sum() < 6:
            break
        keep &= lower
    if keep.sum() >= CURVE_POINTS:
        # Enough ticks on the beat for a curve: a ramp's rate of change, not only its tempo.
        coef = polyfit(x[keep], y[keep], 2, w[keep])
        resid = y - polyval(coef, x)
    return coef, resid, keep


def _off_curve(resid: np.ndarray) -> float:
    """How far the least-delayed of the last CHANGE_TICKS lies from where the
    least-delayed ticks before them lie (the 5th percentile there: robust to one
    early-looking tick at a curve's end)."""
    floor = percentile(resid[:-CHANGE_TICKS], 5)
    return abs(resid[-CHANGE_TICKS:].min() - floor)


def _left_curve(resid: np.ndarray) -> bool:
    """Is even the least-delayed of the last CHANGE_TICKS off the curve?"""
    return _off_curve(resid) > CHANGE_SECONDS


def _steady(x: np.ndarray, y: np.ndarray, spt: float) -> bool:
    """Do these ticks keep a tempo (within a factor of 1.6 of the old, on a line to
    within STEADY_SECONDS), not come in a stall's clump?"""
    coef = polyfit(x, y, 1)
    spread = np.ptp(y - polyval(coef, x))
    return spt / 1.6 <= coef[0] <= spt * 1.6 and spread <= STEADY_SECONDS


def _slip(x: np.ndarray, y: np.ndarray, spt: float) -> tuple[int, int] | None:
    """Were ticks lost just before the recent ones? The widest gap between recent
    arrivals is where; how many is the count that puts the ticks after it back on
    the curve (not the gap's width in ticks: a client that missed a server period
    is often late for the next few as well, which widens the gap). (ticks lost,
    index of the first after)"""
    span = min(len(y) - 1, 3 * CHANGE_TICKS)  # the loss may be noticed only a dozen ticks on
    gaps = np.diff(y[-span - 1:])
    j = int(np.argmax(gaps))
    most = round(gaps[j] / spt) - 1
    if most < 1:
        return None
    first = len(y) - span + j
    after = slice(first, None)
    if len(y) - first < 3 or abs(polyfit(x[after], y[after], 1)[0] / spt - 1) > 0.2:
        return None  # the ticks after the gap do not keep the tempo: a stall's clump, not a loss
    # The curve through the ticks before the gap, carried on past it, says where the
    # ticks after it belong: their least delayed lands on it for the right count.
    coef, resid, keep = _robust_fit(x[:first] - x[first - 1], y[:first])
    floor = float(resid[keep].min())
    after_x = x[first:] - x[first - 1]
    off, lost = min((abs(float((y[first:] - polyval(coef, after_x + n)).min()) - floor), n)
                    for n in range(1, most + 1))
    if off > STEADY_SECONDS:  # (a few ticks after the gap may all sit a server period late)
        return None
    shifted = x.copy()
    shifted[first:] += lost
    shifted -= shifted[-1]
    _, resid, _ = _robust_fit(shifted, y)
    return None if _left_curve(resid) else (lost, first)
