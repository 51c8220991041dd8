"""The conversation's notes as they start and end, for the piano roll: appended
from the engine thread (the player) and the scheduler thread (answers), read by
a view. A doorbell tells the view once that something changed, however many
notes come before it looks again, so a burst costs one wake-up."""
from __future__ import annotations

from collections import deque
from typing import Callable


class RollLog:
    def __init__(self, maxlen: int = 4000) -> None:
        # (seconds since start, "you"/"livejam", pitch, on?); a deque append is atomic.
        self.entries: deque[tuple[float, str, int, bool]] = deque(maxlen=maxlen)
        self.on_change: Callable[[], None] | None = None
        self._rung = False

    def add(self, t: float, source: str, pitch: int, on: bool) -> None:
        self.entries.append((t, source, pitch, on))
        if self.on_change is not None and not self._rung:
            self._rung = True
            self.on_change()

    def take(self) -> list[tuple[float, str, int, bool]]:
        """Everything logged; the next note rings the doorbell again."""
        self._rung = False
        return list(self.entries)

    def sources(self) -> set[str]:
        return {src for _, src, _, _ in list(self.entries)}
