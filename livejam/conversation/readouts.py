"""What the screen reads of the conversation, cheap to read from its thread: the
live figures (model step time, answer onset, how late sends were, events in,
answers; a view looks about once a second and `activity()` says cheaply whether
anything changed) and the notes as they start and end, for the piano roll
(appended from the engine thread for the player and the scheduler thread for
livejam; a doorbell tells the view once that something changed, however many
notes come before it looks again, so a burst costs one wake-up)."""
from __future__ import annotations

from collections import deque
from typing import Callable

import numpy as np


class Figures:
    def __init__(self, engine) -> None:
        self.engine = engine

    def reset(self) -> None:
        eng = self.engine
        eng.model.step_seconds.clear()
        eng.conversation.onsets.clear()
        eng.scheduler.lateness.clear()
        eng.events_in = eng.answers = eng.scheduler.late = 0

    def activity(self) -> tuple:
        """Changes whenever a figure may have: a cheap check before reading them."""
        eng = self.engine
        return eng.model.runs, eng.events_in, eng.answers, eng.scheduler.sent

    def read(self) -> dict:
        eng = self.engine
        model, sched = eng.model, eng.scheduler
        steps = np.array(model.step_seconds) * 1000 if model.step_seconds else np.zeros(1)
        onsets = np.array(eng.conversation.onsets) * 1000 if eng.conversation.onsets else None
        late = np.maximum(np.array(sched.lateness), 0) * 1000 if sched.lateness else np.zeros(1)
        return {
            "step_ms_p50": float(np.percentile(steps, 50)), "step_ms_p99": float(np.percentile(steps, 99)),
            "onset_ms_last": float(onsets[-1]) if onsets is not None else None,
            "onset_ms_p95": float(np.percentile(onsets, 95)) if onsets is not None else None,
            "send_late_ms_p50": float(np.percentile(late, 50)), "send_late_ms_p99": float(np.percentile(late, 99)),
            "late": sched.late, "events_in": eng.events_in, "answers": eng.answers,
            "style_notes": eng.conversation.style.size,
        }


class RollLog:
    def __init__(self, maxlen: int = 4000) -> None:
        # (seconds since start, "you"/"livejam", pitch, on?); a deque append is atomic.
        self.entries: deque[tuple[float, str, int, bool]] = deque(maxlen=maxlen)
        self.on_change: Callable[[], None] | None = None
        self._rung = False
        self.plan: list[tuple[float, float, int]] = []  # livejam's notes decided ahead, not yet sounding

    def add(self, t: float, source: str, pitch: int, on: bool) -> None:
        self.entries.append((t, source, pitch, on))
        if self.on_change is not None and not self._rung:
            self._rung = True
            self.on_change()

    def show_plan(self, notes: list[tuple[float, float, int]]) -> None:
        """livejam's notes decided ahead: (start, end, pitch), seconds since start, replacing the last plan."""
        self.plan = notes  # one assignment: the screen's thread reads either the old plan or the new
        if self.on_change is not None and not self._rung:
            self._rung = True
            self.on_change()

    def take(self) -> list[tuple[float, str, int, bool]]:
        """Everything logged; the next note rings the doorbell again."""
        self._rung = False
        return list(self.entries)

    def sources(self) -> set[str]:
        return {src for _, src, _, _ in list(self.entries)}
