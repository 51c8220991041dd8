"""A feedback loop: livejam hearing its own output on its input (a DAW monitoring
the track livejam plays into, or `livejam out` patched to `livejam in`). With
thru on, every message would circle for ever; with thru off, each answer note
would come back as the player's, cut the answer and be recorded as played.

What was sent is kept for a moment (bytes and time, appended on the scheduler's
thread); a played message with the same bytes within ECHO_SECONDS after one sent
is an echo, and is dropped: it never circles, interrupts the answer or reaches
the recording as played. (A player striking the very pitch, channel and velocity
an answer note had, within that moment, loses that one note: the price of never
being cut by our own echo.) A few echoes in a moment are a loop, said once."""
from __future__ import annotations

from collections import deque

# A loop through a DAW's monitoring (a buffer out, a buffer in) comes back within
# this; a player repeats the very same bytes (one key, one velocity) no faster
# than ~70 ms a strike, even on a fixed-velocity keyboard.
ECHO_SECONDS = 0.06
LOOP_ECHOES = 4  # echoes within LOOP_SECONDS that make a loop (one could be the player, by chance)
LOOP_SECONDS = 2.0
KEPT = 512  # sent messages remembered (a moment's worth of even a busy answer)


class EchoDetector:
    def __init__(self) -> None:
        self.recent: deque[tuple[float, bytes]] = deque(maxlen=KEPT)
        self.echoes: deque[float] = deque(maxlen=LOOP_ECHOES)  # when the last few echoes came
        self.looping = False

    def sent(self, data: bytes, t: float) -> None:
        """From the scheduler's thread, each message as it went out (an append: atomic)."""
        self.recent.append((t, data))

    def is_echo(self, data: bytes, t: float) -> bool:
        for sent_at, sent in reversed(list(self.recent)):  # a copy: the scheduler appends meanwhile
            if sent_at < t - ECHO_SECONDS:
                break
            if sent == data and sent_at <= t:
                return True
        return False

    def heard(self, data: bytes, t: float) -> bool:
        """A played message: True if it is an echo of ours (drop it). After
        LOOP_ECHOES within LOOP_SECONDS, `looping` is set (the engine says so and pauses thru)."""
        echo = self.is_echo(data, t)
        if echo:
            self.echoes.append(t)
            if len(self.echoes) == LOOP_ECHOES and t - self.echoes[0] <= LOOP_SECONDS:
                self.looping = True
        return echo

    def reset(self) -> None:
        """The player says the loop is fixed (turns thru on again): look afresh."""
        self.echoes.clear()
        self.looping = False
