"""What livejam sends on the beat besides answers: MIDI clock out (24 ticks a
beat, with Start and Stop, so a DAW or a drum machine can follow `--bpm`) and
the metronome's click (the count-in's too, metronome on or off). Scheduled a
little ahead on the beat grid, through the same scheduler as the answers (tags
"clock" and "metronome"), so they are as punctual as the notes and a panic
releases a click like any other note."""
from __future__ import annotations

import math

import mido

from .tempo import PPQN

AHEAD = 0.1  # seconds scheduled ahead: ~10 wake-ups a second while it runs
CLICK_SECONDS = 0.03
ACCENT, PLAIN = 110, 70  # the downbeat is louder


class BeatsOut:
    def __init__(self, cfg, scheduler, grid, clock_out: bool, count_until=lambda: None) -> None:
        self.cfg, self.scheduler, self.grid, self.clock_out = cfg, scheduler, grid, clock_out
        self.count_until = count_until  # the beat a count-in ends on (None: none)
        self.next_tick: int | None = None  # the next clock tick (1/24 beat) not yet scheduled
        self.next_beat: int | None = None  # the next click not yet scheduled
        self.started = False
        self.downbeat_clicked = False  # a followed clock's Start clicked beat 1 at once: the grid goes on from 2

    @property
    def active(self) -> bool:
        return self.clock_out or self.clicking

    @property
    def clicking(self) -> bool:
        return self.cfg.metronome or self.count_until() is not None

    def start(self) -> None:
        """Clock out: Start, so that the first tick is the song's first beat."""
        if self.clock_out and self.grid() is not None:
            self.scheduler.send_now(mido.Message("start"), "clock")
            self.started = True

    def downbeat(self) -> None:
        """A followed clock's first tick after Start: beat 1, now. With no grid yet (the
        tempo is found only from the ticks that follow), its click goes out at once."""
        if self.clicking and self.next_beat is None:
            self.downbeat_clicked = True
            ch, note = self.cfg.metronome_channel - 1, self.cfg.metronome_note
            self.scheduler.send_now(mido.Message("note_on", channel=ch, note=note, velocity=ACCENT), "metronome")
            self.scheduler.schedule(self.scheduler.clock.now() + CLICK_SECONDS,
                                    mido.Message("note_off", channel=ch, note=note), "metronome")

    def stop(self) -> None:
        if self.started:
            self.scheduler.send_now(mido.Message("stop"), "clock")
            self.started = False

    def rewind(self) -> None:
        """After a panic (the scheduler dropped what was pending): schedule again from now."""
        self.next_tick = self.next_beat = None

    def next_wakeup(self) -> float | None:
        if not self.active:
            return None  # (asking for the grid may fit a followed clock: only when it is used)
        g = self.grid()
        if g is None:
            return None
        times = []
        if self.clock_out and self.next_tick is not None:
            times.append(g.time(self.next_tick / PPQN) - AHEAD / 2)
        if self.clicking and self.next_beat is not None:
            until = self.count_until()
            if not self.cfg.metronome and until is not None and self.next_beat >= until - 1e-6:
                times.append(g.time(until))  # every count-in click scheduled: nothing to do until it ends
            else:
                times.append(g.time(self.next_beat) - AHEAD / 2)
        wanted = (self.clock_out and self.next_tick is None) or (self.clicking and self.next_beat is None)
        return 0.0 if wanted else min(times)  # 0: due at once (nothing scheduled yet)

    def tick(self, now: float) -> None:
        g = self.grid() if self.active else None
        if g is None:
            self.rewind()  # stopped or lost: start afresh from the beat when it comes back
            return
        horizon = now + AHEAD
        if self.clock_out:
            if self.next_tick is None:
                self.next_tick = max(0, math.ceil(g.beats(now) * PPQN - 1e-6))
            while g.time(self.next_tick / PPQN) <= horizon:
                self.scheduler.schedule(g.time(self.next_tick / PPQN), mido.Message("clock"), "clock")
                self.next_tick += 1
        if self.clicking:
            if self.next_beat is None:
                self.next_beat = max(math.ceil(g.beats(now) - 1e-6), 1 if self.downbeat_clicked else 0)
                self.downbeat_clicked = False
            while g.time(self.next_beat) <= horizon:
                until = self.count_until()
                if not self.cfg.metronome and (until is None or self.next_beat >= until - 1e-6):
                    break  # the count-in's clicks are over (the metronome is off)
                at = g.time(self.next_beat)
                accent = self.next_beat % self.cfg.beats_per_bar == 0
                ch, note = self.cfg.metronome_channel - 1, self.cfg.metronome_note
                self.scheduler.schedule(at, mido.Message("note_on", channel=ch, note=note,
                                                         velocity=ACCENT if accent else PLAIN), "metronome")
                self.scheduler.schedule(at + CLICK_SECONDS, mido.Message("note_off", channel=ch, note=note),
                                        "metronome")
                self.next_beat += 1
        else:
            self.next_beat = None
