"""One answer: sampled a little ahead of playback from the model's current state,
its own tokens fed back, with masks that keep it playable.

Masks: nothing but a note (or its velocity) first, so the answer starts at the
phrase-end decision with no leading rest; no NOTE_OFF for a silent pitch and no
NOTE_ON for a sounding one; a polyphony cap and a pitch range; no note longer
than the maximum and none shorter than MIN_NOTE_SECONDS (a sliver is a click, not a
note); no new note in the answer's last LAST_ONSET_SECONDS, so it ends on notes
that have sounded; no time shift past the answer's end, where every note is released.
"""
from __future__ import annotations

from dataclasses import dataclass

import mido
import numpy as np

from ..model import vocab
from ..timing.bars import LinearTimeline
from .call import CHORD_SECONDS

MIN_NOTE_SECONDS = 0.06
LAST_ONSET_SECONDS = 0.12
CHORD_STEPS = round(CHORD_SECONDS * vocab.STEPS_PER_SECOND)  # onsets this close are one chord (as in the call)
ON = np.arange(vocab.NOTE_ON, vocab.NOTE_ON + 128)
OFF = np.arange(vocab.NOTE_OFF, vocab.NOTE_OFF + 128)


@dataclass
class Mark:
    """Where the answer stood after one fed token: enough to roll back to it."""

    step: int
    state: np.ndarray
    logits: np.ndarray
    sounding: dict[int, int]
    velocity_bin: int


class Answer:
    def __init__(self, model, sampler, cfg, state, logits, start_step: int, start_time: float,
                 seconds: float, velocity_bin: int, steering=None, timeline=None, style=None) -> None:
        self.model, self.sampler, self.cfg, self.steering = model, sampler, cfg, steering
        self.style = style  # adaptation.SessionCache: tonight's playing, mixed in by the adapt control
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
        self.marks = [Mark(start_step, state, logits, {}, velocity_bin)]
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

    def fill(self, until: float) -> list[tuple[float, mido.Message]]:
        """Sample until the answer's clock passes `until`; returns timed messages."""
        out: list[tuple[float, mido.Message]] = []
        while not self.done and self.time_of(self.dec.step) <= until:
            if self.dec.step >= self.end_step:
                out += self.finish()
                break
            logits = self.logits
            if self.style is not None and self.cfg.adapt > 0:
                logits = self.style.mixed(logits, self.pitches, self.style.weight(self.cfg.adapt), self.last_event)
            if self.steering is not None:
                logits = self.steering.logits(logits, self.pitches, (self.dec.step - self.step0) / vocab.STEPS_PER_SECOND,
                                              self.onsets, self.dec.step - self.last_onset_step <= CHORD_STEPS)
            tok = self.sampler.sample(logits, self.allowed())
            out += self._feed(tok)
        return out

    def finish(self) -> list[tuple[float, mido.Message]]:
        """Release every answer note at the current step (their NOTE_OFFs are fed too)."""
        out = []
        for p in sorted(self.dec.sounding):
            out += self._feed(vocab.note_off(p))
        self.done = True
        return out

    def _feed(self, tok: int) -> list[tuple[float, mido.Message]]:
        channel = self.channel
        events = self.dec.feed(tok)
        self.logits, self.state = self.model.step(tok, self.state)
        self.last_kind = vocab.describe(tok)[0]
        if self.last_kind != "TIME_SHIFT":
            self.last_event = self.last_kind  # what a time shift now would follow
        self.marks.append(Mark(self.dec.step, self.state, self.logits, dict(self.dec.sounding), self.dec.velocity_bin))
        out = []
        for what, pitch, vel, step in events:
            if what == "on":
                self.started = True
                self.notes_played += 1
                self.pitches.append(pitch)
                if step - self.last_onset_step > CHORD_STEPS:  # else it joins the chord just struck
                    self.onsets, self.last_onset_step = self.onsets + 1, step
                out.append((self.timeline.on_time(step, pitch),
                            mido.Message("note_on", channel=channel, note=pitch, velocity=vel)))
            else:
                out.append((self.timeline.off_time(step, pitch),
                            mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
        return out

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
        return mark, [vocab.note_off(p) for p in sorted(mark.sounding)]
