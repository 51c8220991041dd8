"""The chord a left hand holds (below --split): its pitch classes, root and tones.

Named by template: each held pitch class is tried as the root against the
common triads and sevenths, the best fit (most template tones held, fewest
held notes outside it) wins, the lowest note breaking a tie, so C-E-G-Bb is C7
and E-G-C is C over its third. A chord that lacks its third (an open fifth, one
bass note) takes the third of the key around it, so a melody landing on "the
chord" still has three tones to choose from.

What counts as held (`LeftHand`): the keys down below the split; with the
sustain pedal down, also the notes struck since the left hand last started a
gesture from nothing (a chord played and let go under the pedal still rings);
and for HOLD_GRACE after the last key up, the chord just let go (a detached
change of chord is not a moment of no harmony)."""
from __future__ import annotations

from dataclasses import dataclass

import mido

from ..settings.config import NOTE_NAMES as NAMES

# Suffix, intervals over the root: sevenths first (a held seventh names the chord).
TEMPLATES = (
    ("7", (0, 4, 7, 10)), ("maj7", (0, 4, 7, 11)), ("m7", (0, 3, 7, 10)), ("m7b5", (0, 3, 6, 10)),
    ("dim7", (0, 3, 6, 9)), ("", (0, 4, 7)), ("m", (0, 3, 7)), ("dim", (0, 3, 6)), ("aug", (0, 4, 8)),
    ("sus4", (0, 5, 7)), ("sus2", (0, 2, 7)),
)
HOLD_GRACE = 0.25  # seconds the chord let go still rules (a detached chord change)
PEDAL = 64


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class
    suffix: str
    held: frozenset[int]  # pitch classes under the fingers (or the pedal)
    tones: frozenset[int]  # what a melody may land on: the held, its third filled in if missing
    bass: int  # the lowest held pitch (MIDI number)
    pitches: tuple[int, ...] = ()  # what is held, as played

    @property
    def name(self) -> str:
        over = "" if self.bass % 12 == self.root else f"/{NAMES[self.bass % 12]}"
        return f"{NAMES[self.root]}{self.suffix}{over}"


def chord_of(pitches, key=None) -> Chord | None:
    """The chord these MIDI pitches make (None for none); `key` (pitch classes)
    chooses the third a chord without one takes."""
    if not pitches:
        return None
    bass = min(pitches)
    held = frozenset(p % 12 for p in pitches)
    best = None
    for root in sorted(held, key=lambda r: (r != bass % 12, r)):  # the bass first: it wins a tie
        for i, (suffix, ivs) in enumerate(TEMPLATES):
            tones = {(root + iv) % 12 for iv in ivs}
            found = len(tones & held)
            score = (found - 2 * len(held - tones), found - len(ivs), -i)
            if best is None or score > best[0]:
                best = (score, root, suffix)
    _, root, suffix = best
    tones = set(held)
    if not held & {(root + 3) % 12, (root + 4) % 12} and (len(held) < 3 or suffix in ("", "m")):
        # No third held (an open fifth, one note): the key's, else the major third.
        minor = key is not None and (root + 3) % 12 in key and (root + 4) % 12 not in key
        tones.add((root + 3 + (not minor)) % 12)
        suffix = "m" if minor else ""
    if len(tones) < 3:
        tones.add((root + 7) % 12)
    return Chord(root, suffix, held, frozenset(tones), bass, tuple(sorted(pitches)))


class LeftHand:
    """What the left hand holds below the split, from the messages routed to it."""

    def __init__(self) -> None:
        self.keys: dict[int, float] = {}  # pitch -> when struck
        self.gesture: set[int] = set()  # struck since the keys were last all up
        self.pedal = False
        self.released_at: float | None = None  # the last key up (the grace)
        self.last: set[int] = set()  # the chord as held before its keys began to lift
        self.fresh = False  # struck since the last release: the next release snapshots `last`
        self._cached: tuple = (None, None)

    def takes(self, msg: mido.Message, split: int, t: float) -> bool:
        """Is this message the left hand's? A key struck below the split is (0: no
        split); its release is, whatever the split now, as is the pedal (it is
        shared: the call hears it too, so this returns False for it)."""
        if msg.type == "control_change":
            if msg.control == PEDAL:
                down = msg.value >= 64
                self.pedal = down
            return False
        if msg.type not in ("note_on", "note_off"):
            return False
        if msg.type == "note_on" and msg.velocity > 0:
            if not split or msg.note >= split:
                return False
            if not self.keys:
                self.gesture = set()
            self.keys[msg.note] = t
            self.gesture.add(msg.note)
            self.fresh = True
            return True
        if msg.note not in self.keys:
            return False
        if self.fresh:  # the first key of a chord to lift: the chord it was
            self.last, self.fresh = set(self.keys) | (self.gesture if self.pedal else set()), False
        del self.keys[msg.note]
        if not self.keys:
            self.released_at = t  # the grace counts from the last key up
        return True

    def holding(self, t: float) -> set[int]:
        """The pitches that make the harmony at t."""
        if self.keys:
            return set(self.keys) | (self.gesture if self.pedal else set())
        if self.pedal and self.gesture:
            return set(self.gesture)
        if self.released_at is not None and t - self.released_at < HOLD_GRACE:
            return set(self.last)
        return set()

    @property
    def down(self) -> bool:
        return bool(self.keys)

    def chord(self, t: float, key=None) -> Chord | None:
        held = frozenset(self.holding(t))
        if self._cached[0] != (held, key):  # asked for each answer token: named once per change
            self._cached = ((held, key), chord_of(held, key))
        return self._cached[1]

    def clear(self) -> None:
        """Every key up at once (a panic, a lost input): no harmony held."""
        self.keys, self.gesture, self.pedal, self.last, self.released_at = {}, set(), False, set(), None
