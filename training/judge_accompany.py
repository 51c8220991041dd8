"""`bin/train judge --part accompany`: accompany mode along written melodies, on
the live engine driven by a fake clock, as a player would play them: on the beat
of livejam's grid with a tempo, at the same pace without one, each onset scattered
about its beat (a standard deviation of 15 ms), so some land after livejam chose
the beat's notes.

Per role, melody, tempo and seed, of livejam's notes:
- along: the share starting while the player plays (first note to last release);
- below: bass and chords, the share never above the lowest melody note sounding
  with them (the aim is all of them), and how many were;
- in key: the share in the melody's scale;
- consonant: the share of simultaneities (each of livejam's notes against each
  melody note sounding with it, by how long they overlap) that are a unison,
  third, fifth, sixth or octave; a fourth counts only between upper voices, never
  over livejam's bass or chord note;
- follow: after each melody note that clashes with what livejam holds, the beats
  until livejam holds nothing clashing with it (the aim: within one);
- density: livejam's onsets per second against the player's.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from livejam.conversation.engine import Engine
from livejam.midi.outputs import RecordingOutput
from livejam.offline import driver
from livejam.settings.config import LivejamConfig
from livejam.timing.wallclock import FakeClock

from .judge import as_messages, as_notes

CONSONANT = frozenset({0, 3, 4, 7, 8, 9})  # from livejam's bass or chord note up to the melody
UPPER_CONSONANT = CONSONANT | {5}  # between two upper voices (a counter-line and the melody) a fourth is fine
BPM = 100.0


@dataclass(frozen=True)
class Melody:
    name: str
    scale: frozenset[int]  # pitch classes of its key (a blues head: the blues and major scales together)
    notes: tuple[tuple[int, float], ...]  # (pitch, beats); pitch 0 is a rest
    change_beat: float | None = None  # a key change here, to the scale below
    new_scale: frozenset[int] = frozenset()


def _m(name: str, tonic: int, degrees: tuple[int, ...], notes: str, change: tuple[float, int] | None = None) -> Melody:
    """notes: "pitch:beats pitch:beats ..." with pitches as MIDI numbers (0 a rest);
    change: (beat, new tonic) of a key change to the same mode."""
    parsed = tuple((int(p), float(b)) for p, b in (x.split(":") for x in notes.split()))
    new = frozenset((change[1] + d) % 12 for d in degrees) if change else frozenset()
    return Melody(name, frozenset((tonic + d) % 12 for d in degrees), parsed, change[0] if change else None, new)


# Scales as pitch classes over the tonic (minor: natural, with the leading tone its tunes use).
MAJOR, MINOR, DORIAN = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10, 11), (0, 2, 3, 5, 7, 9, 10)
MELODIES = (
    _m("ode to joy (C major)", 0, MAJOR,
       "64:1 64:1 65:1 67:1 67:1 65:1 64:1 62:1 60:1 60:1 62:1 64:1 64:1.5 62:0.5 62:2 "
       "64:1 64:1 65:1 67:1 67:1 65:1 64:1 62:1 60:1 60:1 62:1 64:1 62:1.5 60:0.5 60:2"),
    _m("frere jacques (F major)", 5, MAJOR,
       "65:1 67:1 69:1 65:1 65:1 67:1 69:1 65:1 69:1 70:1 72:2 69:1 70:1 72:2 "
       "72:0.5 74:0.5 72:0.5 70:0.5 69:1 65:1 72:0.5 74:0.5 72:0.5 70:0.5 69:1 65:1 65:1 60:1 65:2"),
    _m("twinkle (G major)", 7, MAJOR,
       "67:1 67:1 74:1 74:1 76:1 76:1 74:2 72:1 72:1 71:1 71:1 69:1 69:1 67:2 "
       "74:1 74:1 72:1 72:1 71:1 71:1 69:2"),
    _m("minor folk tune (A minor)", 9, MINOR,
       "69:1 72:1 74:1 76:1.5 77:0.5 76:1 74:1 71:1 67:1 69:1.5 71:0.5 72:1 69:1 69:1 68:1 69:2 "
       "76:1 79:1 77:1 76:1 74:1 71:1 67:1 69:1 71:1 72:1 71:1 68:1 69:3"),
    _m("minor march (D minor)", 2, MINOR,
       "62:1 65:1 69:1 65:1 67:1 70:1 69:2 67:1 65:1 64:1 61:1 62:4 "
       "69:1 70:1 69:1 67:1 65:1 67:1 64:2 65:1 64:1 62:1 61:1 62:4"),
    _m("dorian modal tune (D dorian)", 2, DORIAN,
       "62:1 64:0.5 65:0.5 67:1 69:1 71:1 69:1 67:1 65:1 64:1 62:1 60:1 62:3 "
       "69:1 71:0.5 72:0.5 74:1 72:1 71:1 69:1 67:1 65:1 64:2 62:2"),
    _m("blues head (C)", 0, (0, 2, 3, 4, 5, 6, 7, 9, 10),
       "60:0.5 63:0.5 64:1 67:1 0:1 70:0.5 67:0.5 65:1 63:0.5 60:1.5 65:0.5 68:0.5 69:1 72:1 0:1 "
       "70:0.5 69:0.5 67:1 63:0.5 60:1.5 67:1 70:1 72:1 70:0.5 67:0.5 65:1 63:1 60:2"),
    _m("scale tune (E minor)", 4, MINOR,
       "64:1 66:1 67:1 69:1 71:2 69:1 67:1 66:1 64:1 63:1 64:3 "
       "71:1 72:1 71:1 69:1 67:1 66:1 67:1 69:1 71:1 66:1 63:1 64:3"),
    _m("C major to G major (a key change at beat 16)", 0, MAJOR,
       "60:1 64:1 67:1 64:1 65:1 69:1 67:2 65:1 64:1 62:1 64:1 60:4 "
       "67:1 71:1 74:1 71:1 72:1 76:1 74:2 66:1 71:1 69:1 66:1 67:4", change=(16.0, 7)),
)


HUMAN_MS = 15.0  # a player's onsets scatter about the beat: this standard deviation, in ms


def melody_notes(m: Melody, spb: float, t0: float, rng: np.random.Generator | None = None) -> list[tuple[float, float, int, int]]:
    """The melody's notes, each shifted by a player's scatter (rng: none without one)."""
    out, beat = [], 0.0
    for pitch, beats in m.notes:
        if pitch:
            d = rng.normal(0, HUMAN_MS / 1000) if rng is not None else 0.0
            out.append((t0 + beat * spb + d, t0 + (beat + 0.9 * beats) * spb + d, pitch, 90))
        beat += beats
    return out


def play_along(model, role: str, m: Melody, tempo: bool, seed: int, overrides: dict | None = None,
               stats: dict | None = None):
    """The melody into a fresh engine in accompany mode: (melody notes, livejam's notes, beat seconds);
    `stats` gets how many beats were planned a beat ahead and how many played as planned."""
    clock = FakeClock(0.0)
    out = RecordingOutput(clock, "accompany")
    cfg = LivejamConfig.from_dict({"record": False, "seed": seed, "mode": "accompany", "role": role,
                                   "bpm": BPM if tempo else 0.0, **(overrides or {})})
    eng = Engine(cfg, model, out, clock)
    spb = 60.0 / BPM
    g = eng.conversation.grid()
    t0 = g.time(4.0) if g else 1.0  # with a tempo: on livejam's beat (as a player with its metronome)
    melody = melody_notes(m, spb, t0, np.random.default_rng([seed, len(m.notes)]))
    driver.play(eng, clock, as_messages(melody))
    if stats is not None:
        acc = eng.conversation.accompanist
        stats["planned"], stats["kept"] = acc.plans_made, acc.plans_kept
    return melody, as_notes(out.messages), spb


def measure(role: str, m: Melody, melody, ours, spb: float) -> dict:
    start, end = melody[0][0], max(e for _, e, _, _ in melody)
    ok = CONSONANT if role != "counter" else UPPER_CONSONANT
    cons = total = 0.0
    below_ok = 0
    for s, e, p, _ in ours:
        over = [(max(s, ms), min(e, me), mp) for ms, me, mp, _ in melody if ms < e and me > s]
        if all(p <= mp for _, _, mp in over):
            below_ok += 1
        for a, b, mp in over:
            cons += (b - a) * (abs(p - mp) % 12 in ok)  # the interval up from the lower of the two
            total += b - a
    key_follow = None
    if m.change_beat is not None:
        # After the change: beats until its last note out of the new key (0: none at all).
        at = start + m.change_beat * spb
        stray = [s for s, _, p, _ in ours if s >= at and p % 12 not in m.new_scale]
        key_follow = (max(stray) - at) / spb if stray else 0.0
    scale_at = (lambda s: m.scale if m.change_beat is None or s < start + m.change_beat * spb else m.new_scale)
    follows = []
    for ms, me, mp, _ in melody:
        clashing = [o for o in ours if o[0] <= ms < o[1] and (abs(mp - o[2]) % 12) not in ok]
        if clashing:
            fixed = max(o[1] for o in clashing)  # when the last clashing note it held ended
            follows.append((min(fixed, me) - ms) / spb)
    return {"notes": len(ours),
            "along": float(np.mean([start <= s <= end for s, _, _, _ in ours])) if ours else 0.0,
            "below": float(below_ok / len(ours)) if ours else None,
            "above_melody": len(ours) - below_ok,
            "in_key": float(np.mean([p % 12 in scale_at(s) for s, _, p, _ in ours])) if ours else None,
            "key_change_followed_beats": key_follow,
            "consonant": float(cons / total) if total else None,
            "follow_beats_mean": float(np.mean(follows)) if follows else 0.0,
            "follow_beats_max": float(np.max(follows)) if follows else 0.0,
            "density": float(len(ours) / len(melody))}  # onsets per second against the player's


def judge_accompany(model, roles=("bass", "chords", "counter"), seeds: int = 3, overrides: dict | None = None) -> dict:
    t = time.perf_counter()
    rows = {}
    for role in roles:
        for tempo in (True, False):
            runs = []
            for m in MELODIES:
                for seed in range(seeds):
                    stats: dict = {}
                    melody, ours, spb = play_along(model, role, m, tempo, seed, overrides, stats)
                    runs.append({"melody": m.name, "seed": seed, **measure(role, m, melody, ours, spb), **stats})
            agg = {k: float(np.mean([r[k] for r in runs if r[k] is not None]))
                   for k in ("along", "below", "in_key", "consonant", "follow_beats_mean", "density")}
            agg["above_melody"] = int(sum(r["above_melody"] for r in runs))
            # The plan shown a beat ahead, played as shown (a beat's plan is dropped when the player's
            # notes since make it clash, or the last beat's plan when they stop).
            agg["plan_kept"] = float(sum(r["kept"] for r in runs) / max(1, sum(r["planned"] for r in runs)))
            agg["follow_beats_max"] = float(max(r["follow_beats_max"] for r in runs))
            kf = [r["key_change_followed_beats"] for r in runs if r["key_change_followed_beats"] is not None]
            agg["key_change_followed_beats_max"] = float(max(kf)) if kf else None
            rows[f"{role}, {'tempo' if tempo else 'free time'}"] = {**agg, "runs": runs}
    return {"melodies": len(MELODIES), "seeds": seeds, "bpm": BPM, "overrides": overrides or {},
            "seconds": round(time.perf_counter() - t, 1), "rows": rows}


def report_accompany(result: dict) -> str:
    lines = ["", f"Accompany mode ({result['melodies']} melodies x {result['seeds']} seeds, {result['bpm']:g} BPM "
                 "or the same pace in free time; aims: in key >= 90 %, consonant >= 80 %, bass and chords never "
                 "above the melody, a clash mended within a beat):", "",
             "| role | along | in key | consonant | below the melody (notes above) | clash mended, beats mean / max "
             "| key change followed (beats, worst seed) | density | plan kept |", "|---|---|---|---|---|---|---|---|---|"]
    for name, r in result["rows"].items():
        below = "-" if name.startswith("counter") else f"{r['below']:.0%} ({r['above_melody']})"
        lines.append(f"| {name} | {r['along']:.0%} | {r['in_key']:.0%} | {r['consonant']:.0%} | {below} | "
                     f"{r['follow_beats_mean']:.2f} / {r['follow_beats_max']:.2f} | "
                     f"{r['key_change_followed_beats_max']:.1f} | {r['density']:.2f} | {r['plan_kept']:.0%} |")
    return "\n".join(lines)
