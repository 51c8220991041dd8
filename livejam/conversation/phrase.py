"""Phrase end: when has the player finished a call?

Default: every key up (the sustain pedal counts as holding) and no new note for
the silence threshold. With a tempo: every key up at a bar line of the call's
grid (bars.py). A manual end (a CC or key) ends it at once. Pure logic on
the times it is given; the engine asks it when the next decision is due.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


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
        self.reset()

    def reset(self) -> None:
        self.start: float | None = None
        self.last_activity: float | None = None
        self.notes = 0

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
