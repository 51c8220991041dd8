"""Which notes (and pedals) livejam has sounding on an output, per source
(answer, thru, metronome), so every NOTE_ON gets its NOTE_OFF and every pedal
comes up; which of the player's other gestures a source left away from rest
(a bent pitch, pressure, the mod wheel, expression, the soft and sostenuto
pedals), so each is put back; how the sources share one output without cutting
each other (`Sounding`); the same from the players' side, several keyboards on
one channel held apart (`Keyboards`); and the one note-balance check (`hanging`)
tests use."""
from __future__ import annotations

import mido

from .panic import PANIC

PEDAL = 64
# Controllers a player moves besides the sustain pedal, and where each rests: what a
# source's release (and every exit path) puts back when it left one elsewhere.
AT_REST_CCS = {1: 0, 11: 127, 66: 0, 67: 0}  # mod wheel, expression, sostenuto, soft pedal
GESTURES = ("pitchwheel", "aftertouch", "polytouch")
HELD_PEDALS = (PEDAL, 66, 67)  # sustain, sostenuto, soft: down at 64 and above


def puts_back(msg: mido.Message) -> bool:
    """A note-off (or a note-on of velocity 0), a pedal let up, a gesture back at rest."""
    if msg.type == "control_change":
        return msg.value < 64 if msg.control in (PEDAL, 66, 67) else msg.value == AT_REST_CCS.get(msg.control)
    if msg.type == "pitchwheel":
        return msg.pitch == 0
    if msg.type in ("aftertouch", "polytouch"):
        return msg.value == 0
    return msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)


class NoteTracker:
    def __init__(self) -> None:
        self.sounding: dict[tuple[int, int], int] = {}  # (channel, pitch) -> count of unmatched ons
        self.pedals: set[int] = set()  # channels this source holds the sustain pedal down on
        self.channels: set[int] = set()  # every channel this source sent a note or a pedal on
        # Gestures left away from rest: (kind, channel, controller or pitch) -> the message that puts it back.
        self.moved: dict[tuple[str, int, int], mido.Message] = {}

    def sent(self, msg: mido.Message) -> None:
        """Note a message that went out."""
        if msg.type in GESTURES or (msg.type == "control_change" and msg.control in AT_REST_CCS):
            self._moved(msg)
            return
        if msg.type == "control_change" and msg.control == PEDAL:
            self.channels.add(msg.channel)
            (self.pedals.add if msg.value >= 64 else self.pedals.discard)(msg.channel)
            return
        if msg.type in ("note_on", "note_off"):
            self.channels.add(msg.channel)
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

    def note_offs(self) -> list[mido.Message]:
        """A NOTE_OFF for every note still sounding (one per unmatched NOTE_ON)."""
        out = []
        for (ch, p), n in sorted(self.sounding.items()):
            out += [mido.Message("note_off", channel=ch, note=p, velocity=0)] * n
        return out

    def _moved(self, msg: mido.Message) -> None:
        if msg.type == "pitchwheel":
            key, rest = ("pitchwheel", msg.channel, 0), mido.Message("pitchwheel", channel=msg.channel, pitch=0)
        elif msg.type == "aftertouch":
            key, rest = ("aftertouch", msg.channel, 0), mido.Message("aftertouch", channel=msg.channel, value=0)
        elif msg.type == "polytouch":
            key = ("polytouch", msg.channel, msg.note)
            rest = mido.Message("polytouch", channel=msg.channel, note=msg.note, value=0)
        else:
            key = ("control_change", msg.channel, msg.control)
            rest = mido.Message("control_change", channel=msg.channel, control=msg.control,
                                value=AT_REST_CCS[msg.control])
        self.channels.add(msg.channel)
        if puts_back(msg):
            self.moved.pop(key, None)
        else:
            self.moved[key] = rest

    def gestures_back(self) -> list[mido.Message]:
        """What puts back every gesture this source left away from rest (the bend centred, pedals up)."""
        return [self.moved[k] for k in sorted(self.moved)]

    def release_messages(self) -> list[mido.Message]:
        """The note-offs, then the pedal up on each channel this source holds it
        down on, then every other gesture put back."""
        return (self.note_offs() + [mido.Message("control_change", channel=ch, control=PEDAL, value=0)
                                    for ch in sorted(self.pedals)] + self.gestures_back())


class Sounding:
    """The sources sharing one output, and what each one's message becomes on the
    wire. A synth has one voice per pitch and channel, and one pedal per channel,
    whoever started them: so a source's NOTE_OFF (or pedal up) goes out only when
    no other source still holds that note (or pedal), and a NOTE_ON over a note
    another source sounds re-strikes it (its NOTE_OFF first, so the wire stays
    one voice deep). The player's note held through thru is never cut by the
    answer's note-off of the same pitch, nor the answer's by the player's."""

    def __init__(self) -> None:
        self.sources: dict[str, NoteTracker] = {}

    def wire(self, source: str, msg: mido.Message) -> list[mido.Message]:
        """What to send for `source`'s message (nothing, it, or a release then
        it), before `sent` notes it."""
        kind = msg.type
        if source == PANIC:
            return [msg]  # a panic silences everything, whoever holds it
        if kind == "control_change" and msg.control == PEDAL and msg.value < 64:
            return [] if self._others(source, lambda t: msg.channel in t.pedals) else [msg]
        if kind not in ("note_on", "note_off"):
            return [msg]
        key = (msg.channel, msg.note)
        if kind == "note_on" and msg.velocity > 0:
            if any(t.sounding.get(key) for t in self.sources.values()):
                return [mido.Message("note_off", channel=msg.channel, note=msg.note, velocity=0), msg]
            return [msg]
        return [] if self._others(source, lambda t: key in t.sounding) else [msg]

    def sent(self, source: str, msg: mido.Message) -> None:
        tracker = self.sources.setdefault(source, NoteTracker())
        if msg.type == "note_on" and msg.velocity > 0:
            tracker.sounding.pop((msg.channel, msg.note), None)  # one source, one voice a pitch: its next off ends it
        tracker.sent(msg)

    def _others(self, source: str, holds) -> bool:
        return any(holds(t) for name, t in self.sources.items() if name != source)

    def channels(self) -> set[int]:
        """Every channel any source sent a note or pedal on (each is released on every exit path)."""
        return set().union(*(t.channels for t in self.sources.values()))


class Keyboards:
    def __init__(self) -> None:
        self.keys: dict[tuple[int, int], set[str]] = {}  # (channel, pitch) -> inputs holding it
        self.pedals: dict[tuple[int, int], set[str]] = {}  # (channel, controller) -> inputs holding it down

    def passes(self, msg: mido.Message, keyboard: str) -> bool:
        """Note `keyboard`'s message; False for a release another input still holds."""
        if msg.type == "note_on" and msg.velocity > 0:
            self.keys.setdefault((msg.channel, msg.note), set()).add(keyboard)
            return True
        if msg.type in ("note_on", "note_off"):
            return self._let_go(self.keys, (msg.channel, msg.note), keyboard)
        if msg.type == "control_change" and msg.control in HELD_PEDALS:
            key = (msg.channel, msg.control)
            if msg.value >= 64:
                self.pedals.setdefault(key, set()).add(keyboard)
                return True
            return self._let_go(self.pedals, key, keyboard)
        return True

    @staticmethod
    def _let_go(held: dict, key, keyboard: str) -> bool:
        holders = held.get(key)
        if not holders:
            return True  # nobody holds it (a stray release): harmless, it goes on
        holders.discard(keyboard)
        if holders:
            return False  # another input still holds it down
        del held[key]
        return True

    def left(self, keyboards: set[str]) -> list[mido.Message]:
        """These inputs are gone (switched away): the releases of what only they
        held, to be played as theirs, so nothing they held hangs."""
        out = []
        for held, release in ((self.keys, lambda ch, n: mido.Message("note_off", channel=ch, note=n)),
                              (self.pedals, lambda ch, cc: mido.Message("control_change", channel=ch, control=cc,
                                                                        value=0))):
            for key in sorted(held):
                held[key] -= keyboards
                if not held[key]:
                    del held[key]
                    out.append(release(*key))
        return out

    def clear(self) -> None:
        """After a panic everything is released: later releases are strays."""
        self.keys.clear()
        self.pedals.clear()


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
