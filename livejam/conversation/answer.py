"""One answer: sampled a little ahead of playback from the model's current state,
its own tokens fed back, with masks that keep it playable.

Masks: nothing but a note (or its velocity) first, so the answer starts at the
phrase-end decision with no leading rest; no NOTE_OFF for a silent pitch and no
NOTE_ON for a sounding one; a polyphony cap and a pitch range; no note longer
than the maximum and none shorter than MIN_NOTE_SECONDS (a sliver is a click, not a
note); no new note in the answer's last LAST_ONSET_SECONDS, so it ends on notes
that have sounded; no time shift past the answer's end, where every note is released.
With --split, while the left hand holds a chord, a note struck on a beat (the
grid's, or in free time the call's pulse from the answer's start), and the
first struck after the chord changes, is one of the chord's tones; between
beats the call's key rules as ever. Where a note is an outer voice (above or
below all that sounds), it moves into no parallel fifths or octaves.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import mido
import numpy as np

from ..harmony.voicing import outer, parallel_free
from ..model import vocab
from ..timing.bars import BarTimeline, LinearTimeline
from .call import CHORD_SECONDS

MIN_NOTE_SECONDS = 0.06
LAST_ONSET_SECONDS = 0.12
CHORD_STEPS = round(CHORD_SECONDS * vocab.STEPS_PER_SECOND)  # onsets this close are one chord (as in the call)
ON = np.arange(vocab.NOTE_ON, vocab.NOTE_ON + 128)
OFF = np.arange(vocab.NOTE_OFF, vocab.NOTE_OFF + 128)
ON_BEAT = 0.15  # beats: an onset this near a beat (after the grid's pull) lands on it


@dataclass
class Mark:
    """Where the answer stood after one fed token: enough to roll back to it."""

    step: int
    state: np.ndarray
    logits: np.ndarray
    sounding: dict[int, int]
    velocity_bin: int
    played: tuple = (0, 0, -1, "", "NOTE_OFF", None)  # notes, onsets, last onset step, kinds, outer voices


class Answer:
    def __init__(self, model, sampler, cfg, state, logits, start_step: int, start_time: float,
                 seconds: float, velocity_bin: int, steering=None, timeline=None, style=None,
                 harmony=None, pulse: float = 0.5) -> None:
        self.model, self.sampler, self.cfg, self.steering = model, sampler, cfg, steering
        self.style = style  # adaptation.SessionCache: tonight's playing, mixed in by the adapt control
        self.harmony = harmony  # t -> harmony.chords.Chord or None: the left hand's (--split)
        self.pulse = pulse  # free time: the call's beat in seconds (which onsets are on a beat)
        self.landed = None  # the left hand's chord its last note was struck in
        self.outer: tuple[int, int] | None = None  # the outer voices at its last note that was one
        self.ends: dict[int, float] = {}  # pitch -> when its last note ends, as sent
        self.plan: deque = deque()  # decided, not yet handed to the scheduler: (what, pitch, velocity, step, place)
        self.handed: dict[int, list] = {}  # pitch -> [start, end or None] of its last note handed over
        self.pitches: list[int] = []  # the answer's line, onset order (what steering looks at)
        self.onsets, self.last_onset_step = 0, -1 - CHORD_STEPS  # onsets struck, a chord once (what density counts)
        self.dec = vocab.StreamDecoder(step=start_step, velocity_bin=velocity_bin)
        self.step0 = start_step
        # Steps -> clock times: seconds from the start, or bars and beats (bars.py).
        self.timeline = timeline or LinearTimeline(start_step, start_time)
        self.t0 = self.timeline.time_of(start_step)
        self.end_step = start_step + max(1, int(vocab.to_steps(seconds)))
        self.max_note = max(1, int(vocab.to_steps(cfg.max_note_seconds)))
        self.min_note = min(self.max_note, int(round(vocab.to_steps(MIN_NOTE_SECONDS))))
        self.last_onset = int(round(vocab.to_steps(LAST_ONSET_SECONDS)))
        self.state, self.logits = state, logits
        self.started = False
        self.done = False
        self.last_kind = ""
        self.last_event = "NOTE_OFF"
        self.marks = [Mark(start_step, state, logits, {}, velocity_bin, (0, 0, self.last_onset_step, "", "NOTE_OFF", None))]
        self.notes_played = 0
        # Fixed for the answer's life: a channel change mid-answer must not send its
        # later note-offs where its notes never went.
        self.channel = cfg.channel - 1

    def time_of(self, step: int) -> float:
        return self.timeline.time_of(step)

    @property
    def end_time(self) -> float:
        return self.time_of(self.end_step)

    def allowed(self) -> np.ndarray:
        a = np.zeros(vocab.VOCAB_SIZE, bool)
        sounding = self.dec.sounding
        step = self.dec.step
        overdue = [p for p, s in sounding.items() if step - s >= self.max_note]
        if overdue:
            a[OFF[overdue]] = True
            return a
        grown = [p for p, s in sounding.items() if step - s >= self.min_note]
        if grown:
            a[OFF[grown]] = True
        near_end = self.started and self.end_step - step < self.last_onset
        if len(sounding) < self.cfg.polyphony and not near_end:
            pitches = np.arange(self.cfg.lowest, self.cfg.highest + 1)
            pitches = pitches[~np.isin(pitches, list(sounding))]
            at = self.time_of(step)
            chord = self.harmony(at) if self.harmony is not None else None
            if chord is not None:
                if chord != self.landed or self._on_beat(step):
                    pitches = pitches[np.isin(pitches % 12, sorted(chord.tones))]
                pitches = pitches[parallel_free(self.outer, self._others(chord, at), pitches)]
            a[ON[pitches]] = True
        if self.last_kind != "VELOCITY":
            a[vocab.VELOCITY : vocab.VELOCITY + vocab.VELOCITY_BINS] = True
        if self.started:
            room = self.end_step - step
            if sounding:
                room = min(room, min(s + self.max_note - step for s in sounding.values()))
            if room > 0:
                a[vocab.TIME_SHIFT : vocab.TIME_SHIFT + min(room, vocab.MAX_SHIFT)] = True
        return a

    def _others(self, chord, at: float, but: int | None = None) -> list[int]:
        """What sounds at `at` beside a new note: the left hand's chord and the answer's own
        notes (one pulled onto the grid sounds on past its step: it counts)."""
        mine = {*self.dec.sounding, *(p for p, end in self.ends.items() if end > at)} - {but}
        return [*chord.pitches, *mine]

    def _on_beat(self, step: int) -> bool:
        tl = self.timeline
        beat = tl.snap(tl.beat_of(step)) if isinstance(tl, BarTimeline) else \
            (step - self.step0) / vocab.STEPS_PER_SECOND / self.pulse
        return abs(beat - round(beat)) <= ON_BEAT

    def fill(self, until: float, decide: float | None = None) -> list[tuple[float, mido.Message]]:
        """Decide (sample) until the answer's clock passes `decide` (default `until`):
        the plan; hand over, timed, what of it falls due by `until`."""
        decide = until if decide is None else max(until, decide)
        while not self.done and self.time_of(self.dec.step) <= decide:
            if self.dec.step >= self.end_step:
                self.finish()
                break
            logits = self.logits
            if self.style is not None and self.cfg.adapt > 0:
                logits = self.style.mixed(logits, self.pitches, self.style.weight(self.cfg.adapt), self.last_event)
            if self.steering is not None:
                logits = self.steering.logits(logits, self.pitches, (self.dec.step - self.step0) / vocab.STEPS_PER_SECOND,
                                              self.onsets, self.dec.step - self.last_onset_step <= CHORD_STEPS)
            self._feed(self.sampler.sample(logits, self.allowed()))
        return self.release(until)

    def release(self, until: float) -> list[tuple[float, mido.Message]]:
        """The plan's events due by `until`, timed by the grid as it is now (a tempo
        that moves meanwhile is followed: they are timed only this late)."""
        out = []
        while self.plan and self.time_of(self.plan[0][3]) <= until:
            what, pitch, vel, step, place = self.plan.popleft()
            if what == "on":
                out.append((self.timeline.at(place),
                            mido.Message("note_on", channel=self.channel, note=pitch, velocity=vel)))
                self.handed[pitch] = [out[-1][0], None]
            else:
                out.append((self.timeline.at(place),
                            mido.Message("note_off", channel=self.channel, note=pitch, velocity=0)))
                self.ends[pitch] = out[-1][0]
                if pitch in self.handed:
                    self.handed[pitch][1] = out[-1][0]
        return out

    def planned(self, now: float) -> list[tuple[float, float, int]]:
        """(start, end, pitch) of the notes decided that have not yet started at `now`:
        the plan the screen shows (a note still sounding at the plan's end ends there)."""
        horizon = self.time_of(self.dec.step)
        tl, starts = self.timeline, {}
        out = [(t, e if e is not None else horizon, p) for p, (t, e) in self.handed.items() if t > now]
        for what, pitch, _, _, place in self.plan:
            if what == "on":
                starts[pitch] = tl.at(place)
            elif pitch in starts:
                out.append((starts.pop(pitch), tl.at(place), pitch))
        return out + [(t, horizon, p) for p, t in starts.items()]

    def finish(self) -> None:
        """Release every answer note at the current step (their NOTE_OFFs are fed too)."""
        for p in sorted(self.dec.sounding):
            self._feed(vocab.note_off(p))
        self.done = True

    def _feed(self, tok: int) -> None:
        events = self.dec.feed(tok)
        self.logits, self.state = self.model.step(tok, self.state)
        self.last_kind = vocab.describe(tok)[0]
        if self.last_kind != "TIME_SHIFT":
            self.last_event = self.last_kind  # what a time shift now would follow
        for what, pitch, vel, step in events:
            exact = False  # placed on the beat itself (landing on the left hand's chord)
            if what == "on":
                if self.harmony is not None:
                    at = self.time_of(step)
                    chord = self.landed = self.harmony(at)
                    if chord is not None:
                        self.outer = outer(self._others(chord, at, pitch), (pitch,)) or self.outer
                        exact = self._on_beat(step)
                self.started = True
                self.notes_played += 1
                self.pitches.append(pitch)
                if step - self.last_onset_step > CHORD_STEPS:  # else it joins the chord just struck
                    self.onsets, self.last_onset_step = self.onsets + 1, step
            else:
                self.ends[pitch] = self.time_of(step)  # (when released, the time it is sent at)
            # Placed now (where on the grid), timed when handed over (by the tempo then).
            place = self.timeline.on_place(step, pitch, exact) if what == "on" else self.timeline.off_place(step, pitch)
            self.plan.append((what, pitch, vel, step, place))
        self.marks.append(Mark(self.dec.step, self.state, self.logits, dict(self.dec.sounding), self.dec.velocity_bin,
                               (len(self.pitches), self.onsets, self.last_onset_step, self.last_kind, self.last_event,
                                self.outer)))

    def rewind(self, now: float) -> Mark:
        """Sample again from the last point at or before `now` (the left hand's chord
        changed under notes sampled ahead): what follows it is forgotten."""
        step = self.timeline.step_at(now)
        keep = max(i for i, m in enumerate(self.marks) if m.step <= step or i == 0)
        del self.marks[keep + 1:]
        m = self.marks[keep]
        self.state, self.logits = m.state, m.logits
        self.dec = vocab.StreamDecoder(step=m.step, velocity_bin=m.velocity_bin)
        self.dec.sounding = dict(m.sounding)
        n, self.onsets, self.last_onset_step, self.last_kind, self.last_event, _ = m.played
        self.notes_played -= len(self.pitches) - n
        del self.pitches[n:]
        self.landed, self.outer = None, m.played[5]  # the next note lands on the chord now held
        self.plan = deque(e for e in self.plan if e[3] <= m.step)
        self.handed = {p: v for p, v in self.handed.items() if v[0] <= now}  # the rest were dropped (replan)
        # The model hears the time from there to now pass: nothing sampled again may start in the past.
        gap = min(step, self.end_step) - self.dec.step
        while gap > 0:
            self._feed(vocab.time_shift(min(gap, vocab.MAX_SHIFT)))
            gap = min(step, self.end_step) - self.dec.step
        return m

    def rollback(self, now: float) -> tuple[Mark, list[int]]:
        """The player came in at `now`: the last point the listener actually heard,
        and the tokens that release what was sounding there (for the model's ears)."""
        step = self.timeline.step_at(now)
        mark = self.marks[0]
        for m in self.marks:
            if m.step > step:
                break
            mark = m
        self.done = True
        self.plan.clear()
        return mark, [vocab.note_off(p) for p in sorted(mark.sounding)]
