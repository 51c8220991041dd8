"""What the live judges play (`bin/train judge`, adaptation and phrase end), written
for them, in no corpus.

Styled sessions: 20 calls each, in a language the default model seldom speaks,
generated from a seed by the style's own moves (its scale, its intervals, its
rhythm cells), so no two calls are the same and a cache that only copied would
not be enough. Phrase-end calls: tunes with their true end known, and rests
inside them, short and long, after the tonic and after other notes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .judge_calls import call_notes, line


@dataclass(frozen=True)
class Style:
    tonic: int  # the MIDI pitch the riffs circle
    scale: tuple[int, ...]  # pitch classes relative to the tonic: what the style's share counts
    moves: tuple[int, ...]  # scale-degree steps a phrase takes (signed), drawn from
    cells: tuple[tuple[float, ...], ...]  # rhythm cells in beats
    bpm: float

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.tonic + d) % 12 for d in self.scale)


STYLES: dict[str, Style] = {
    "whole-tone": Style(60, (0, 2, 4, 6, 8, 10), (1, 1, 2, -1, -1, -2, 3), ((0.5, 0.5), (0.25, 0.25, 0.5), (1.0,)), 104),
    "blues": Style(60, (0, 3, 5, 6, 7, 10), (1, -1, 1, 1, -2, 2, -3), ((2 / 3, 1 / 3), (2 / 3, 1 / 3), (1.0,)), 96),
    "black-key pentatonic": Style(66, (0, 2, 4, 7, 9), (1, -1, 2, -2, 1, 3), ((0.25, 0.25), (0.5,), (0.75, 0.25)), 116),
    "dorian": Style(62, (0, 2, 3, 5, 7, 9, 10), (1, 1, -1, 2, -2, 4, -4, 5), ((0.5, 0.5), (0.5, 0.25, 0.25), (1.5,)), 100),
}


def styled_call(style: Style, rng: np.random.Generator) -> list[tuple[float, float, int, int]]:
    """One call of 7-12 notes: a walk on the style's scale by its moves, in its rhythm cells."""
    degrees = len(style.scale)
    deg = int(rng.integers(0, degrees))
    events, beats = [], 0.0
    target = int(rng.integers(7, 13))
    while len(events) < target:
        for length in style.cells[int(rng.integers(len(style.cells)))]:
            octave, d = divmod(deg, degrees)
            pitch = style.tonic + 12 * octave + style.scale[d]
            events.append((pitch, length))
            beats += length
            deg = int(np.clip(deg + rng.choice(style.moves), -degrees, 2 * degrees - 1))
    events.append((style.tonic, 2.0))  # home, held: the riff's end
    notes = call_notes(style.bpm, events)
    vel = rng.integers(64, 100, len(notes))  # a player's dynamics, not one velocity
    return [(s, e, p, int(v)) for (s, e, p, _), v in zip(notes, vel)]


def session(name: str, calls: int = 20, seed: int = 0) -> list[list[tuple[float, float, int, int]]]:
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    return [styled_call(STYLES[name], rng) for _ in range(calls)]


# Phrase-end calls: (name, bpm, events); a rest is None, and its length says short
# (under half the default silence) or long (just under it). Each ends where its
# events end: the true end is the last note's release.
PHRASE_CALLS: list[tuple[str, float, list]] = [
    ("C major, ends on the tonic", 112, line("E4 D4 C4 D4 E4 E4 E4 D4 D4 E4 D4 C4", [0.5] * 11 + [2])),
    ("G major, ends on the fifth", 100, line("G4 A4 B4 C5 D5 C5 B4 A4 D5", [0.5] * 8 + [2])),
    ("A minor, ends on the tonic", 90, line("A4 B4 C5 E5 D5 C5 B4 G#4 A4", [0.5] * 8 + [2])),
    ("F major, fast, ends on the tonic", 132, line("F4 G4 A4 Bb4 C5 A4 F4 G4 E4 F4", [0.25] * 9 + [1.5])),
    ("D dorian, ends on the tonic", 96, line("D4 F4 G4 A4 B4 A4 G4 E4 D4", [0.5] * 8 + [2])),
    ("C major, short rest after the tonic", 108,
     line("C4 E4 G4 C5 - C5 B4 A4 G4 F4 E4 D4 C4", [0.5, 0.5, 0.5, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 2])),
    ("C major, long rest after the tonic", 108,
     line("G4 E4 D4 C4 - E4 F4 G4 A4 G4 E4 C4", [0.5, 0.5, 0.5, 1, 1.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 2])),
    ("G major, short rest after the leading tone", 100,
     line("G4 A4 B4 C5 D5 F#4 - G4 A4 B4 G4", [0.5] * 5 + [1, 0.5, 0.5, 0.5, 0.5, 2])),
    ("G major, long rest after the second", 100,
     line("D5 C5 B4 A4 - B4 C5 D5 G4", [0.5, 0.5, 0.5, 1, 1.25, 0.5, 0.5, 0.5, 2])),
    ("A minor, short rest after the fifth", 92,
     line("A4 C5 E5 - D5 C5 B4 A4", [0.5, 0.5, 1, 0.5, 0.5, 0.5, 0.5, 2])),
    ("A minor, long rest after the fourth", 92,
     line("E4 A4 B4 C5 D5 - C5 B4 A4", [0.5, 0.5, 0.5, 0.5, 1, 1.0, 0.5, 0.5, 2])),
    ("F major, two rests, ends on the third", 120,
     line("F4 A4 C5 - A4 Bb4 C5 - D5 C5 A4", [0.5, 0.5, 1, 0.5, 0.5, 0.5, 1, 1.25, 0.5, 0.5, 2])),
    ("Bb major, long rest after the tonic, ends on the fifth", 104,
     line("Bb3 D4 F4 Bb4 - A4 G4 F4 Eb4 D4 F4", [0.5, 0.5, 0.5, 1, 1.25, 0.5, 0.5, 0.5, 0.5, 0.5, 2])),
    ("E minor, rest after the seventh", 96,
     line("E4 G4 B4 D5 - C5 B4 A4 F#4 E4", [0.5, 0.5, 0.5, 1, 1.0, 0.5, 0.5, 0.5, 0.5, 2])),
    ("C blues, rests inside", 96,
     line("C4 Eb4 F4 - Gb4 G4 Bb4 - G4 F4 Eb4 C4", [0.5, 0.5, 1, 0.5, 0.5, 0.5, 1, 1.0, 0.5, 0.5, 0.5, 2])),
    ("D major, chords of the cadence", 96,
     line("A4 B4 C#5 D5 - E5 C#5 A4 D5", [0.5, 0.5, 0.5, 1, 0.75, 0.5, 0.5, 0.5, 2])),
]


def phrase_call(bpm: float, events: list) -> tuple[list[tuple[float, float, int, int]], list[tuple[float, float]]]:
    """(notes, the rests inside: (from the release before it, to the next onset))."""
    notes = call_notes(bpm, events)
    onsets = sorted({s for s, _, _, _ in notes})
    rests = []
    for a, b in zip(onsets, onsets[1:]):
        end = max(e for s, e, _, _ in notes if s == a)
        if b - end > 0.15:  # longer than the floor: a rest a phrase end could fall in
            rests.append((end, b))
    return notes, rests
