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
    # Biggest first so the two workers finish together.
    return sorted(out, key=lambda p: -p.stat().st_size)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _render(job: tuple[str, str]) -> tuple[str, int, list[str]]:
    """Parse one source file and write each score in it as MIDI. Returns
    (collection, pieces written, reasons for pieces skipped)."""
    src, out_dir = job
    from music21 import converter, stream

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
    except Exception as exc:  # music21 raises many types on odd encodings
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
            score.write("midi", fp=str(dest / name))
            signal.alarm(0)
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
