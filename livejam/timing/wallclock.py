"""Clocks: absolute time in seconds. The real one for playing; a fake one that
tests move by hand, so timing logic runs instantly and exactly."""
from __future__ import annotations

import threading
import time


class WallClock:
    def now(self) -> float:
        return time.perf_counter()

    def wait(self, cond: threading.Condition, deadline: float | None) -> None:
        """Wait on cond (held by the caller) until notified or the absolute deadline."""
        if deadline is None:
            cond.wait()
        else:
            remaining = deadline - self.now()
            if remaining > 0:
                cond.wait(remaining)


class FakeClock:
    """Time stands still until a test calls advance(); waits return at once."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def wait(self, cond: threading.Condition, deadline: float | None) -> None:
        cond.wait(0.001)
