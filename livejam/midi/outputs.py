"""The output interface: anything with send(msg) and close(). The real one is an
rtmidi port (ports.py); the recording fake is what tests listen to."""
from __future__ import annotations

from typing import Protocol

import mido

from .sounding import hanging


class Output(Protocol):
    name: str

    def send(self, msg: mido.Message) -> None: ...

    def close(self) -> None: ...


class NullOutput:
    """Where answers go when there is no MIDI system: nowhere (the screen still shows them)."""

    name = "none"

    def send(self, msg: mido.Message) -> None:
        pass

    def close(self) -> None:
        pass


class RecordingOutput:
    """Keeps every message sent, with the clock's time."""

    def __init__(self, clock=None, name: str = "recording") -> None:
        self.clock = clock
        self.name = name
        self.messages: list[tuple[float, mido.Message]] = []
        self.closed = False

    def send(self, msg: mido.Message) -> None:
        self.messages.append((self.clock.now() if self.clock else 0.0, msg))

    def close(self) -> None:
        self.closed = True

    def notes_on(self) -> list[tuple[float, mido.Message]]:
        return [(t, m) for t, m in self.messages if m.type == "note_on" and m.velocity > 0]

    def hanging(self) -> dict[tuple[int, int], int]:
        """(channel, pitch) -> NOTE_ONs without their NOTE_OFF: must be empty after any stop."""
        return hanging(self.messages)
