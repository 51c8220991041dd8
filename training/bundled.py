"""The bundled corpus: music21's public-domain score collection rendered to MIDI.

Nothing is downloaded: the scores ship inside the `music21` package from PyPI.
`bin/train corpus --bundled --out DIR` writes one .mid per piece (an .abc file
holds many tunes, each becomes its own piece) plus SOURCES.md listing every
collection, its piece count and its licence terms.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

# Collections of playable music. Left out: roman-numeral analyses (.rntxt, not
# notes), music21's own demos, theory exercises and lead sheets (chord symbols).
SKIP_DIRS = {"demos", "theoryExercises", "leadSheet"}
SUFFIXES = {".mxl", ".xml", ".musicxml", ".krn", ".abc"}
PER_PIECE_SECONDS = 60  # a pathological score is skipped rather than stalling the build

LICENCE_NOTE = (
    "Compositions are public domain in the United States (Bach, Palestrina, the "
    "Essen, O'Neill's, Ryan's Mammoth and Nottingham folk collections and the other "
    "pre-1900 repertories below). The encodings are distributed with music21 (BSD "
    "licensed software) by permission of their encoders; music21's corpus/license.txt "
    "notes some encodings may restrict commercial use. Check the per-file headers "
    "before commercial redistribution of the corpus itself."
)


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def bundled_sources() -> list[Path]:
    root = corpus_root()
    out = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if p.suffix.lower() in SUFFIXES and rel.parts[0] not in SKIP_DIRS and p.is_file():
            out.append(p)
    # A few pieces come in two encodings (bwv277.krn and .mxl): keep one, the
    # richer format, so a piece is never twice in the corpus (or in two splits).
    rank = {".mxl": 0, ".musicxml": 1, ".xml": 2, ".krn": 3, ".abc": 4}
    best: dict[str, Path] = {}
    for p in sorted(out, key=lambda p: (rank[p.suffix.lower()], str(p))):
        best.setdefault(str(p.relative_to(root).with_suffix("")), p)
    # Biggest first so the two workers finish together.
    return sorted(best.values(), key=lambda p: -p.stat().st_size)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def tempo_map(score):
    """Quarter-length offset -> seconds, following the score's tempo marks."""
    bounds = score.metronomeMarkBoundaries()  # [(start ql, end ql, MetronomeMark)]
    spans = []
    t = 0.0
    for a, b, mm in bounds:
        spq = mm.secondsPerQuarter()
        spans.append((a, b, t, spq))
        t += (b - a) * spq

    def seconds(ql: float) -> float:
        for a, b, t0, spq in spans:
            if ql <= b:
                return t0 + (ql - a) * spq
        a, b, t0, spq = spans[-1]
        return t0 + (ql - a) * spq
    return seconds


def score_notes(score) -> list[tuple[float, float, int, int]]:
    """(start s, end s, pitch, velocity) of every note in a music21 score: ties
    merged, the score's tempo marks followed, repeats played as written.
    (music21's own MIDI writer does this too, but its stripTies and deep copies
    cost seconds a score; this walk costs a tenth of the parse.)"""
    seconds = tempo_map(score)
    out = []
    parts = list(score.parts) or [score]
    for part in parts:
        open_ties: dict[int, list] = {}  # pitch -> [start ql, end ql, velocity]
        for el in part.flatten().notes:
            start = float(el.offset)
            end = start + float(el.duration.quarterLength)
            if end <= start:
                continue  # grace notes
            members = el.notes if el.isChord else [el]
            for n in members:
                tie = (n.tie or el.tie)
                kind = tie.type if tie else None
                midi = n.pitch.midi
                vel = n.volume.velocity or el.volume.velocity or 90
                if kind in ("continue", "stop") and midi in open_ties:
                    open_ties[midi][1] = end
                    if kind == "stop":
                        a, b, v = open_ties.pop(midi)
                        out.append((seconds(a), seconds(b), midi, v))
                    continue
                if midi in open_ties:  # a tie that never stopped
                    a, b, v = open_ties.pop(midi)
                    out.append((seconds(a), seconds(b), midi, v))
                if kind == "start":
                    open_ties[midi] = [start, end, vel]
                else:
                    out.append((seconds(start), seconds(end), midi, vel))
        for midi, (a, b, v) in open_ties.items():
            out.append((seconds(a), seconds(b), midi, v))
    return sorted(out)


def _render(job: tuple[str, str]) -> tuple[str, int, list[str]]:
    """Parse one source file and write each score in it as MIDI. Returns
    (collection, pieces written, reasons for pieces skipped)."""
    src, out_dir = job
    from music21 import converter, stream

    from livejam.midi.files import write_tracks

    root = corpus_root()
    rel = Path(src).relative_to(root)
    collection = rel.parts[0]
    stem = "_".join(rel.with_suffix("").parts)
    skipped: list[str] = []
    signal.signal(signal.SIGALRM, _alarm)
    try:
        signal.alarm(PER_PIECE_SECONDS * 20)
        parsed = converter.parse(src)
        signal.alarm(0)
    except (Exception, _Timeout) as exc:  # music21 raises many types on odd encodings
        signal.alarm(0)
        return collection, 0, [f"{rel}: {type(exc).__name__}: {exc}"[:200]]
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    written = 0
    dest = Path(out_dir) / collection
    dest.mkdir(parents=True, exist_ok=True)
    for i, score in enumerate(scores):
        name = f"{stem}_{i:04d}.mid" if len(scores) > 1 else f"{stem}.mid"
        try:
            signal.alarm(PER_PIECE_SECONDS)
            notes = score_notes(score)
            signal.alarm(0)
            if not notes:
                skipped.append(f"{rel}#{i}: no notes")
                continue
            write_tracks(dest / name, [(name, notes)])
            written += 1
        except (Exception, _Timeout) as exc:
            signal.alarm(0)
            skipped.append(f"{rel}#{i}: {type(exc).__name__}")
    return collection, written, skipped


def build_bundled(out_dir: Path, workers: int | None = None, limit: int | None = None) -> dict:
    """Render the bundled corpus into out_dir; returns a summary dict."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = bundled_sources()
    if limit:
        sources = sorted(sources, key=lambda p: p.stat().st_size)[:limit]
    jobs = [(str(p), str(out_dir)) for p in sources]
    counts: Counter[str] = Counter()
    skipped: list[str] = []
    t0 = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    with mp.get_context("fork").Pool(workers) as pool:
        for n, (coll, written, skip) in enumerate(pool.imap_unordered(_render, jobs), 1):
            counts[coll] += written
            skipped.extend(skip)
            print(f"\r{n}/{len(jobs)} source files, {sum(counts.values())} pieces", end="", file=sys.stderr)
    print(file=sys.stderr)
    summary = {
        "pieces": sum(counts.values()),
        "by_collection": dict(sorted(counts.items())),
        "skipped": skipped,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    _write_sources(out_dir, summary)
    return summary


def _write_sources(out_dir: Path, summary: dict) -> None:
    import music21

    lines = [
        "# Bundled corpus: sources and licences",
        "",
        f"Rendered to MIDI from the score corpus inside music21 {music21.__version__} "
        "(PyPI), by `bin/train corpus --bundled`. No file was downloaded.",
        "",
        LICENCE_NOTE,
        "",
        "| collection | pieces |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in summary["by_collection"].items()]
    lines += ["", f"Total: {summary['pieces']} pieces; {len(summary['skipped'])} skipped:", ""]
    lines += [f"- {s}" for s in summary["skipped"]]
    (out_dir / "SOURCES.md").write_text("\n".join(lines) + "\n")
