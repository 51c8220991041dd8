"""Several keyboards (or a keyboard and a pad controller) on one channel, heard as
one player: each input's keys and pedals are held apart, and a release goes on
(to thru, the recording and the conversation) only when no other input still
holds that key or pedal down. A synth has one voice a pitch and one pedal a
channel, so without this one keyboard's note-off would cut the other's held note
and one foot's pedal-up would lift the other's."""
from __future__ import annotations

import mido

HELD_PEDALS = (64, 66, 67)  # sustain, sostenuto, soft: down at 64 and above


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
