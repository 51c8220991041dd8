"""Which notes livejam has sounding on an output, per source, so every NOTE_ON
gets its NOTE_OFF; and the one note-balance check (`hanging`) tests use."""
from __future__ import annotations

import mido



class NoteTracker:
    def __init__(self) -> None:
        self.sounding: dict[tuple[int, int], int] = {}  # (channel, pitch) -> count of unmatched ons

    def sent(self, msg: mido.Message) -> None:
        """Note a message that went out."""
        if msg.type == "note_on" and msg.velocity > 0:
            key = (msg.channel, msg.note)
            self.sounding[key] = self.sounding.get(key, 0) + 1
        elif msg.type in ("note_off", "note_on"):
            key = (msg.channel, msg.note)
            n = self.sounding.get(key, 0)
            if n <= 1:
                self.sounding.pop(key, None)
            else:
                self.sounding[key] = n - 1

    def is_sounding(self, channel: int, pitch: int) -> bool:
        return (channel, pitch) in self.sounding

    def release_messages(self) -> list[mido.Message]:
        """A NOTE_OFF for every note still sounding (one per unmatched NOTE_ON)."""
        out = []
        for (ch, p), n in sorted(self.sounding.items()):
            out += [mido.Message("note_off", channel=ch, note=p, velocity=0)] * n
        return out


def hanging(timed) -> dict[tuple[int, int], int]:
    """(channel, pitch) -> NOTE_ONs without their NOTE_OFF, from (time, message)
    pairs: must be empty after any stop. The one note-balance check everywhere."""
    count: dict[tuple[int, int], int] = {}
    for _, m in timed:
        if m.type in ("note_on", "note_off"):
            k = (m.channel, m.note)
            count[k] = count.get(k, 0) + (1 if m.type == "note_on" and m.velocity > 0 else -1)
            if count[k] <= 0:
                count.pop(k)
    return count
