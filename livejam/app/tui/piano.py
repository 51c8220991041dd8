"""The computer-keyboard piano, a fallback for players without a MIDI keyboard:
one row of letter keys, like most DAWs' typing keyboards. Terminals report key
presses but not releases, so each note sounds for a fixed length."""
from __future__ import annotations

KEYS = "awsedftgyhujk"  # C C# D D# E F F# G G# A A# B C
NOTE_SECONDS = 0.3
VELOCITY = 90


def pitch_for(key: str, octave: int) -> int | None:
    i = KEYS.find(key)
    return None if i < 0 else 12 * (octave + 1) + i
