"""The calls `bin/train judge` plays: written for it (in no corpus), covering what a
player brings: major and minor tunes, modes, blues, block chords, fast runs,
sparse phrases, leaps, low and high registers.

Each call is a list of (pitch or chord, beats) at a tempo; a rest is None.
"""
from __future__ import annotations

# Note names -> MIDI numbers, octave 4 = middle C's.
_PC = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6, "G": 7, "G#": 8,
       "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}


def n(name: str) -> int:
    """'C4' -> 60, 'Eb3' -> 51."""
    return 12 * (int(name[-1]) + 1) + _PC[name[:-1]]


def line(names: str, beats: float | list[float]) -> list[tuple[int | None, float]]:
    """'C4 D4 - E4' (- a rest) with one length for all, or one per note."""
    names = names.split()
    lengths = beats if isinstance(beats, list) else [beats] * len(names)
    return [(None if x == "-" else n(x), b) for x, b in zip(names, lengths)]


def chords(spec: str, beats: float) -> list[tuple[tuple[int, ...], float]]:
    """'C4.E4.G4 F4.A4.C5' -> block chords."""
    return [(tuple(n(x) for x in c.split(".")), beats) for c in spec.split()]


# name -> (bpm, events)
CALLS: dict[str, tuple[float, list]] = {
    "C major scale": (120, line("C4 D4 E4 F4 G4 A4 B4 C5 B4 A4 G4 F4 E4 D4 C4", 0.5)),
    "G major tune": (110, line("B4 B4 C5 D5 D5 C5 B4 A4 G4 G4 A4 B4 B4 A4 A4", [1] * 12 + [1.5, 0.5, 2])),
    "A minor tune": (100, line("A4 C5 E5 D5 C5 B4 G#4 A4 E4 A4 B4 C5 B4 A4", [1, 0.5, 0.5, 1, 0.5, 0.5, 1, 1,
                                                                              0.5, 0.5, 0.5, 0.5, 1, 2])),
    "D dorian": (96, line("D4 F4 A4 B4 A4 G4 F4 E4 D4 C4 D4 F4 E4 D4", 0.5)),
    "G mixolydian": (120, line("G4 B4 D5 F5 E5 D5 C5 B4 A4 F4 G4", [0.5] * 10 + [2])),
    "E phrygian": (90, line("E4 F4 G4 A4 G4 F4 E4 F4 E4 D4 E4", [0.5] * 10 + [2])),
    "C blues": (100, line("C4 Eb4 F4 Gb4 G4 Bb4 G4 Gb4 F4 Eb4 C4 - Bb3 C4", [0.5] * 11 + [0.5, 0.5, 2])),
    "C major chords": (100, chords("C3.E4.G4.C5 F3.F4.A4.C5 G3.D4.G4.B4 C3.E4.G4.C5", 2)),
    "A minor chords": (90, chords("A2.E4.A4.C5 D3.D4.F4.A4 E3.E4.G#4.B4 A2.C4.E4.A4", 2)),
    "E minor fast run": (140, line("E4 F#4 G4 A4 B4 C5 D5 E5 D5 C5 B4 A4 G4 F#4 E4 B3 E4", [0.25] * 16 + [1])),
    # Rests shorter than livejam's default silence (0.8 s), or the call would end at the first.
    "F major sparse": (80, line("F4 - A4 - C5 - A4 F4", [2, 0.75, 2, 0.75, 2, 0.75, 2, 3])),
    "Bb major leaps": (110, line("Bb3 F4 D5 Bb4 F5 D5 Bb4 F4 D4 Bb3", [0.5] * 9 + [2])),
    "D major pentatonic": (120, line("D4 E4 F#4 A4 B4 A4 F#4 E4 D4 - B3 D4", [0.5] * 9 + [0.5, 0.5, 2])),
    "E minor bass": (100, line("E2 G2 B2 E3 D3 B2 A2 G2 F#2 E2", [0.5] * 9 + [2])),
    "D major high": (120, line("D6 F#6 A6 F#6 E6 D6 C#6 E6 D6", [0.5] * 8 + [2])),
}


def call_notes(bpm: float, events: list, velocity: int = 80) -> list[tuple[float, float, int, int]]:
    """(start s, end s, pitch, velocity), each note held for 95 % of its length."""
    out, t, beat = [], 0.0, 60.0 / bpm
    for what, beats in events:
        if what is not None:
            for p in (what if isinstance(what, tuple) else (what,)):
                out.append((t, t + 0.95 * beats * beat, p, velocity))
        t += beats * beat
    return out
