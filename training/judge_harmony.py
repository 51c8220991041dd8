"""`bin/train judge --part harmony`: the left hand's harmony (--split), on the live
engine driven by a fake clock, along written two-hand tunes (a melody over chords
held below the split, changing every one or two beats; in major, minor, a
blues), with a tempo. In accompany mode (each role) the player plays both hands
throughout; in answer mode each call (two bars of both hands) is answered while
the left hand goes on with the chords for two bars more.

Of livejam's notes:
- on the chord: the share of its strong-beat notes (within 0.1 beat of a beat,
  while a chord is held) that are tones of the chord held then (aim >= 90 %);
- changes followed: of the chord changes while livejam plays, the share after
  which its first note within a beat is a tone of the new chord (aim: all; a
  change it rests through, with no note in that beat, is counted apart);
- parallels: at each of its onsets where it plays an outer voice (the lowest or
  the highest note sounding, the player's or its own), the share of moves from
  the last such onset in parallel fifths or octaves between the two outer voices
  (aim <= 2 %).
"""
from __future__ import annotations

import time

import numpy as np

from livejam.conversation.engine import Engine
from livejam.harmony.voicing import parallel
from livejam.midi.outputs import RecordingOutput
from livejam.offline import driver
from livejam.settings.config import LivejamConfig
from livejam.timing.wallclock import FakeClock

from .judge import as_messages, as_notes

BPM = 100.0
SPLIT = 60
ON_BEAT = 0.1  # beats
# Left-hand voicings, all below the split (C4).
LH = {"C": (48, 52, 55), "Am": (45, 48, 52), "F": (41, 45, 48), "G": (43, 47, 50), "Dm": (50, 53, 57),
      "E": (40, 44, 47), "E7": (40, 44, 50), "C7": (48, 52, 58), "F7": (41, 45, 51), "G7": (43, 47, 53),
      "Em": (40, 43, 47)}
# name: (chords as "NAME:beats", melody as "pitch:beats"; 0 a rest), four bars each.
TUNES = {
    "major (C), a change every two beats": (
        "C:2 Am:2 F:2 G:2 C:2 Am:2 Dm:2 G:2",
        "76:1 79:1 76:1 72:1 69:1 72:1 71:1 74:1 72:1 76:1 72:1 69:1 69:1 74:1 71:1 67:1"),
    "minor (A), changes every beat and two": (
        "Am:2 Dm:1 E:1 Am:2 E7:2 F:2 Dm:1 E:1 Am:2 E7:1 Am:1",
        "72:1 76:1 74:1 71:1 69:1 72:1 68:1 71:1 72:1 69:1 74:1 71:1 72:1 69:1 68:1 69:1"),
    "blues (C), a change a bar and two beats": (
        "C7:4 F7:4 C7:2 G7:2 F7:2 C7:2",
        "72:1 75:0.5 76:0.5 79:1 76:1 77:1 80:0.5 81:0.5 84:1 81:1 79:1 76:1 74:1 71:1 72:1 70:1 69:1 72:2"),
}


def _parse(text: str) -> list[tuple[str, float]]:
    return [(a, float(b)) for a, b in (x.split(":") for x in text.split())]


def tune_notes(name: str, spb: float, t0: float, hands: tuple[bool, bool]) -> tuple[list, list]:
    """(notes, chords) of one tune from t0: notes (start, end, pitch, velocity) of the
    hands asked for (left, right); chords (start, end, pitch classes)."""
    chords_text, melody_text = TUNES[name]
    notes, chords, beat = [], [], 0.0
    for chord, beats in _parse(chords_text):
        s, e = t0 + beat * spb - 0.01, t0 + (beat + beats) * spb - 0.03  # struck a hair early, let go a hair before the next
        chords.append((s, e + 0.02, frozenset(p % 12 for p in LH[chord])))
        if hands[0]:
            notes += [(s, e, p, 70) for p in LH[chord]]
        beat += beats
    beat = 0.0
    for pitch, beats in _parse(melody_text):
        if int(pitch) and hands[1]:
            notes.append((t0 + beat * spb - 0.005, t0 + (beat + 0.9 * beats) * spb, int(pitch), 88))
        beat += beats
    return notes, chords


def play(model, mode: str, role: str, name: str, seed: int, overrides: dict | None = None):
    """Two passes of the tune into a fresh engine: (player's notes, livejam's notes, chords, grid)."""
    clock = FakeClock(0.0)
    out = RecordingOutput(clock, "harmony")
    cfg = LivejamConfig.from_dict({"record": False, "seed": seed, "mode": mode, "role": role, "bpm": BPM,
                                   "split": SPLIT, "answer_bars": 2, **(overrides or {})})
    eng = Engine(cfg, model, out, clock)
    g = eng.conversation.grid()
    spb = g.spb
    player, chords = [], []
    for k in range(2):
        t0 = g.time(4.0 + 16 * k)
        if mode == "accompany":
            n, c = tune_notes(name, spb, t0, (True, True))
        else:  # both hands for two bars (the call), then the left hand alone (livejam answers)
            n, c = tune_notes(name, spb, t0, (True, True))
            n = [x for x in n if x[2] < SPLIT or x[0] < t0 + 8 * spb - 0.1]
        player += n
        chords += c
    driver.play(eng, clock, as_messages(player))
    return player, as_notes(out.messages), chords, g


def chord_at(chords, t: float):
    for s, e, pcs in chords:
        if s <= t < e:
            return pcs
    return None


def measure(player, ours, chords, g) -> dict:
    strong = [(s, p) for s, _, p, _ in ours if abs(g.beats(s) - round(g.beats(s))) <= ON_BEAT]
    held = [(s, p, chord_at(chords, s)) for s, p in strong if chord_at(chords, s) is not None]
    on_chord = [p % 12 in pcs for _, p, pcs in held]
    followed, rested = [], 0
    first, last = (ours[0][0], ours[-1][1]) if ours else (0, 0)
    for (s, _, _), (s2, _, pcs) in zip(chords, chords[1:]):
        if not first <= s2 <= last:
            continue  # livejam was not playing across this change
        after = [(t, p) for t, _, p, _ in ours if s2 - 0.005 <= t <= s2 + g.spb + 0.01]
        if after:  # (an answer resting through the beat after a change has nothing to follow it with)
            followed.append(after[0][1] % 12 in pcs)
        else:
            rested += 1
    onsets: dict[float, list[int]] = {}
    for s, _, p, _ in ours:
        onsets.setdefault(round(s, 4), []).append(p)
    moves, par, outer = 0, 0, None
    for t, ps in sorted(onsets.items()):
        sounding = [p for s, e, p, _ in player + ours if s <= t + 1e-4 < e] + ps
        now = (min(sounding), max(sounding))
        if now[0] not in ps and now[1] not in ps:
            continue  # an inner voice: no outer voice of its own moved
        if outer is not None:
            moves += 1
            par += parallel(outer, now)
        outer = now
    return {"notes": len(ours), "strong": len(held), "on_chord": float(np.mean(on_chord)) if on_chord else None,
            "changes": len(followed), "rested": rested, "followed": float(np.mean(followed)) if followed else None,
            "moves": moves, "parallels": float(par / moves) if moves else None}


def judge_harmony(model, seeds: int = 3, overrides: dict | None = None) -> dict:
    t = time.perf_counter()
    rows = {}
    for mode, role in (("accompany", "bass"), ("accompany", "chords"), ("accompany", "counter"), ("answer", "bass")):
        runs = []
        for name in TUNES:
            for seed in range(seeds):
                player, ours, chords, g = play(model, mode, role, name, seed, overrides)
                runs.append({"tune": name, "seed": seed, **measure(player, ours, chords, g)})

        def mean(k, w):
            xs = [(r[k], r[w]) for r in runs if r[k] is not None]
            return float(sum(a * b for a, b in xs) / max(1, sum(b for _, b in xs))) if xs else None
        rows[role if mode == "accompany" else "answer"] = {
            "on_chord": mean("on_chord", "strong"), "strong": int(sum(r["strong"] for r in runs)),
            "followed": mean("followed", "changes"), "changes": int(sum(r["changes"] for r in runs)),
            "rested": int(sum(r["rested"] for r in runs)),
            "parallels": mean("parallels", "moves"), "moves": int(sum(r["moves"] for r in runs)), "runs": runs}
    return {"tunes": len(TUNES), "seeds": seeds, "bpm": BPM, "overrides": overrides or {},
            "seconds": round(time.perf_counter() - t, 1), "rows": rows}


def report_harmony(result: dict) -> str:
    lines = ["", f"Left-hand harmony, --split C4 ({result['tunes']} two-hand tunes x {result['seeds']} seeds, "
                 f"{result['bpm']:g} BPM; aims: strong-beat notes on the chord >= 90 %, every change followed "
                 "within a beat, parallel fifths/octaves <= 2 % of moves):", "",
             "| livejam | strong-beat notes on the chord | changes followed within a beat (rested through) | "
             "parallels (of moves) |",
             "|---|---|---|---|"]

    def pct(x):
        return "-" if x is None else f"{x:.0%}"
    for name, r in result["rows"].items():
        lines.append(f"| {name} | {pct(r['on_chord'])} of {r['strong']} | {pct(r['followed'])} of {r['changes']} ({r['rested']}) | "
                     f"{pct(r['parallels'])} of {r['moves']} |")
    return "\n".join(lines)
