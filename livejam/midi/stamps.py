"""When a message reached the MIDI server, for a port read seldom (the --clock port
on JACK): from rtmidi's delta times, not from when a thread got round to reading it.

rtmidi's JACK input stamps every event with jack_get_time() in the process cycle
that brought it (the host's monotonic clock, as livejam's), and hands on only the
difference to the previous event. Summed, the deltas give each message's time on
a chain that lacks one constant, the offset to livejam's clock. Every read bounds
it from above: a message was there no later than when it was read, so
offset <= read time - chain time. The smallest such bound over the last few
seconds is the offset plus the least delay of any read in them: polled every
8 ms at 48 ticks a second, a fraction of a millisecond. A read that a busy
machine makes late only loosens its own bound, so a late read never makes a late
stamp, and the window follows any drift between the two clocks.

Every event the port gets must be read for the chain to hold (rtmidi counts a
filtered event's time too), so such a port filters nothing itself."""
from __future__ import annotations

from collections import deque

WINDOW = 4.0  # seconds of reads whose least delay sets the offset


class ArrivalStamps:
    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self.reset()

    def reset(self) -> None:
        """A new chain (the port was opened again): the next read anchors it."""
        self.chain = 0.0
        self.bounds: deque[tuple[float, float]] = deque()  # (read at, read at - chain), bounds increasing

    def stamp(self, delta: float, read_at: float) -> float:
        """The time of a message read at `read_at` that came `delta` seconds after the
        previous one (rtmidi's delta time)."""
        self.chain += max(0.0, delta)
        bound = read_at - self.chain
        while self.bounds and self.bounds[-1][1] >= bound:
            self.bounds.pop()  # a looser bound than this one never becomes the smallest
        self.bounds.append((read_at, bound))
        while self.bounds[0][0] < read_at - self.window:
            self.bounds.popleft()
        return self.chain + self.bounds[0][1]
