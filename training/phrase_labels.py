"""Where phrases end, read from the scores: the voice line of every OpenScore Lied
with each of its rests labelled an ending or a breath.

A song's words say where its phrases end: a rest after a syllable that ends a
sentence or a clause (. ! ? ; :), after a fermata, at a double or final bar or a
repeat's end, or after the voice's last note is an ending; after a comma it is a
line's or a clause's end, kept apart ("comma") since a comma is sometimes a breath;
any other rest is a breath inside the phrase. The piano part is left out: a player's
call is a line with rests, and the voice is the line whose phrases the words mark.

Written once by `bin/train phrase-end` into data/phrases/lieder.json (outside git,
like the rendered corpus it sits beside), one entry per song.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from pathlib import Path

GAP_SECONDS = 0.15  # a rest a phrase end could fall in (phrase.FLOOR): shorter is articulation
STRONG = ".!?;:"
CLASSES = ("breath", "comma", "end")
STRONG_BARS = {"final", "light-light", "light-heavy", "heavy-light", "heavy-heavy", "double"}


def _lyric_end(el) -> str:
    """The punctuation the note's words end with ('' for none)."""
    texts = [(ly.text or "").strip() for ly in getattr(el, "lyrics", [])]
    tail = "".join(t.rstrip("\"'»«”“’)]-– ") [-1:] for t in texts if t)
    return "".join(c for c in tail if c in STRONG + ",")


def voice_line(score) -> tuple[list[tuple[float, float, int, int]], list[tuple[int, str]]]:
    """(the voice's notes in seconds, [(index of the note before a rest, its class)])."""
    from music21 import bar, expressions

    from .bundled import tempo_map

    parts = list(score.parts)
    if not parts:
        return [], []
    voice = max(parts, key=lambda p: sum(1 for n in p.flatten().notes if n.lyrics))
    seconds = tempo_map(score)
    strong_bars = set()
    for m in voice.getElementsByClass("Measure"):
        b = m.rightBarline
        if b is not None and (b.type in STRONG_BARS or (isinstance(b, bar.Repeat) and b.direction == "end")):
            strong_bars.add(round(float(m.offset + m.duration.quarterLength), 4))
    merged: list[dict] = []  # ties merged: start, end (ql), pitch, words, fermata
    open_tie: dict[int, dict] = {}
    for el in voice.flatten().notes:
        start, end = float(el.offset), float(el.offset + el.duration.quarterLength)
        if end <= start:
            continue  # grace notes
        pitch = max(n.pitch.midi for n in el.notes) if el.isChord else el.pitch.midi
        fermata = any(isinstance(x, expressions.Fermata) for x in el.expressions)
        tie = el.tie.type if el.tie is not None else None
        if tie in ("continue", "stop") and pitch in open_tie:
            n = open_tie[pitch]
            n["end"], n["fermata"] = end, n["fermata"] or fermata
            n["words"] = n["words"] or _lyric_end(el)
            if tie == "stop":
                open_tie.pop(pitch)
            continue
        n = {"start": start, "end": end, "pitch": pitch, "vel": int(el.volume.velocity or 80),
             "words": _lyric_end(el), "fermata": fermata}
        merged.append(n)
        if tie == "start":
            open_tie[pitch] = n
    merged.sort(key=lambda n: n["start"])
    # One line: a note starting under the one before cuts it (a divisi or a grace slur).
    for a, b in zip(merged, merged[1:]):
        a["end"] = min(a["end"], b["start"]) if b["start"] > a["start"] else a["end"]
    merged = [n for n in merged if n["end"] > n["start"]]
    notes = [(seconds(n["start"]), seconds(n["end"]), n["pitch"], n["vel"]) for n in merged]
    gaps = []
    for i, n in enumerate(merged):
        last = i == len(merged) - 1
        if not last and notes[i + 1][0] - notes[i][1] <= GAP_SECONDS:
            continue
        nxt = merged[i + 1]["start"] if not last else n["end"] + 1e-6
        barred = any(n["end"] - 1e-3 <= b <= nxt + 1e-3 for b in strong_bars)
        if last or n["fermata"] or barred or any(c in STRONG for c in n["words"]):
            cls = "end"
        elif "," in n["words"]:
            cls = "comma"
        else:
            cls = "breath"
        gaps.append((i, cls))
    return notes, gaps


def _label_one(job: tuple[str, str]) -> tuple[str, dict]:
    import warnings

    from music21 import converter

    piece, source = job
    warnings.filterwarnings("ignore")
    try:
        notes, gaps = voice_line(converter.parse(source))
    except Exception as exc:  # one odd score must not stop the set: it is reported and left out
        return piece, {"error": f"{type(exc).__name__}: {exc}"[:200]}
    if not gaps:
        return piece, {"error": "no voice line with words"}
    return piece, {"notes": [[round(s, 4), round(e, 4), p, v] for s, e, p, v in notes], "gaps": gaps}


def label_lieder(sources: Path, out: Path, workers: int | None = None, limit: int | None = None) -> dict:
    """Label every Lied under sources/lieder (cached: a finished file is reused)."""
    from .keyboard import lieder_jobs

    if out.is_file():
        return json.loads(out.read_text())
    jobs = [(j["piece"], j["source"]) for j in lieder_jobs(Path(sources) / "lieder")][:limit]
    if not jobs:
        raise SystemExit(f"No Lieder scores under {Path(sources) / 'lieder'}: point --sources at the corpus "
                         "folder that holds lieder/scores.")
    t0 = time.perf_counter()
    result = {}
    with mp.get_context("spawn").Pool(workers or os.cpu_count() or 1) as pool:
        for i, (piece, r) in enumerate(pool.imap_unordered(_label_one, jobs, chunksize=4), 1):
            result[piece] = r
            if i % 50 == 0:
                print(f"  {i}/{len(jobs)} songs labelled ({time.perf_counter() - t0:.0f} s)", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(out)  # only a finished set is ever taken for the cache
    return result
