"""The keyboard corpus: Mutopia, OpenScore Lieder and piano-midi.de rendered to MIDI.

`bin/train corpus` reads the three collections by path (default `../shared/corpus`;
anyone else points it at their own checkouts of the same projects), renders them
into a cache outside git (default `data/keyboard/`, ignored) and writes beside the
MIDI files:
- `PIECES.json`: every file's piece, collection, composer, title and licence (the
  ingest splits by piece and, for the judge, by composer, from it);
- `ATTRIBUTION.md`: the credit every CC BY / CC BY-SA source asks for, one line a
  piece, which ships beside the model;
- `SOURCES.md`: counts, licences and what failed to render, with the reason.

Mutopia's LilyPond sources go through Debian's `lilypond` (`convert-ly -e` first:
most target 2.6-2.18); Lieder's MusicXML through music21; piano-midi.de is MIDI.
Rendering is done once per machine; a piece already rendered is not redone.
"""
from __future__ import annotations

import csv
import json
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

COLLECTIONS = ("mutopia", "lieder", "pianomidi")
PER_PIECE_SECONDS = 240  # a pathological score is reported and skipped, not waited on
MIN_NOTES = 16  # fewer notes than this means the render lost the music

LICENCES = {  # manifest spelling -> (short name, URL)
    "Public Domain": ("Public Domain", "https://creativecommons.org/publicdomain/mark/1.0/"),
    "Creative Commons Attribution 2.5": ("CC BY 2.5", "https://creativecommons.org/licenses/by/2.5/"),
    "Creative Commons Attribution 3.0": ("CC BY 3.0", "https://creativecommons.org/licenses/by/3.0/"),
    "Creative Commons Attribution 4.0": ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "Creative Commons Attribution-ShareAlike 2.5": ("CC BY-SA 2.5", "https://creativecommons.org/licenses/by-sa/2.5/"),
    "Creative Commons Attribution-ShareAlike 3.0": ("CC BY-SA 3.0", "https://creativecommons.org/licenses/by-sa/3.0/"),
    "Creative Commons Attribution-ShareAlike 4.0": ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "Creative Commons Attribution-ShareAlike 4.0 International": ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "cc-by-sa": ("CC BY-SA", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC0 1.0": ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "CC BY-SA 3.0 DE": ("CC BY-SA 3.0 DE", "https://creativecommons.org/licenses/by-sa/3.0/de/"),
}
SOURCE_NOTE = {
    "mutopia": "The Mutopia Project (mutopiaproject.org), LilyPond sources; each piece's licence and typesetter "
               "from its header",
    "lieder": "OpenScore Lieder Corpus (github.com/OpenScore/Lieder), MusicXML, CC0 1.0",
    "pianomidi": "piano-midi.de by Bernd Krueger, CC BY-SA 3.0 DE (Name: Bernd Krueger, Source: "
                 "http://www.piano-midi.de)",
}


def default_sources(root: Path) -> Path:
    return root.parent / "shared" / "corpus"


# -- what there is to render ---------------------------------------------------

def _ly_header(text: str, key: str) -> str:
    m = re.search(rf'(?:^|\s){key}\s*=\s*"([^"]*)"', text)
    return m.group(1).strip() if m else ""


def mutopia_jobs(src: Path) -> list[dict]:
    jobs = []
    with open(src / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            folder = src / row["piece"]
            lys = sorted(folder.glob("*.ly"))
            if not lys:
                continue
            text = lys[0].read_text(encoding="utf-8", errors="replace")
            piece = row["piece"].removeprefix("ftp/")
            jobs.append({
                "collection": "mutopia", "piece": f"mutopia/{piece}", "source": str(lys[0]),
                "composer": row["composer"], "title": row["title"], "licence": row["license"],
                "by": _ly_header(text, "maintainer"), "ref": _ly_header(text, "footer"),
                "size": lys[0].stat().st_size * 3,  # lilypond is slower per byte than music21
            })
    return jobs


def lieder_jobs(src: Path) -> list[dict]:
    jobs = []
    for p in sorted((src / "scores").rglob("*.mxl")):
        rel = p.relative_to(src / "scores")
        composer = rel.parts[0]
        title = " / ".join(x for x in rel.parts[1:-1] if x != "_").replace("_", " ")
        jobs.append({
            "collection": "lieder", "piece": f"lieder/{rel.with_suffix('').as_posix()}", "source": str(p),
            "composer": composer.split(",")[0], "title": title, "licence": "CC0 1.0", "by": "OpenScore",
            "ref": rel.stem, "size": p.stat().st_size * 10,
        })
    return jobs


def pianomidi_jobs(src: Path) -> list[dict]:
    jobs = []
    with open(src / "metadata.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            p = src / row["midi"]
            if p.is_file():
                jobs.append({
                    "collection": "pianomidi", "piece": f"pianomidi/{Path(row['midi']).with_suffix('').as_posix()}",
                    "source": str(p), "composer": row["composer"], "title": row["title"].replace("_", " "),
                    "licence": "CC BY-SA 3.0 DE", "by": "Bernd Krueger", "ref": Path(row["midi"]).name, "size": 0,
                })
    return jobs


# -- rendering, one piece a job --------------------------------------------------

def _midi_note_count(path: Path) -> int:
    from livejam.midi.files import read_messages

    return sum(1 for _, m in read_messages(path) if m.type == "note_on" and m.velocity > 0)


def _render_lilypond(job: dict, dest: Path) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="livejam-ly-") as tmp:
        src = Path(job["source"])
        for f in src.parent.iterdir():  # a piece's own includes travel with it
            if f.is_file():
                shutil.copy(f, tmp)
        ly = Path(tmp) / src.name
        subprocess.run(["convert-ly", "-e", ly.name], cwd=tmp, capture_output=True, timeout=60)
        r = subprocess.run(["lilypond", "-dno-print-pages", "-dmidi-extension=mid", "-o", "out", ly.name],
                           cwd=tmp, capture_output=True, text=True, timeout=PER_PIECE_SECONDS)
        outs = sorted(Path(tmp).glob("out*.mid"), key=lambda p: (len(p.name), p.name))
        if not outs:
            last = [ln for ln in r.stderr.splitlines() if "error" in ln.lower()][-1:] or ["no MIDI written"]
            raise RuntimeError(f"lilypond: {last[0][:160]}")
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for i, o in enumerate(outs):  # one file per \score (movements of one piece)
            target = dest / f"{i}.mid"
            shutil.copy(o, target)
            written.append(target)
        return written


def _render_musicxml(job: dict, dest: Path) -> list[Path]:
    import warnings

    from music21 import converter

    from livejam.midi.files import write_tracks

    from .bundled import score_notes

    warnings.filterwarnings("ignore")  # music21 warns on every odd wedge or dynamic; the notes are what count
    notes = score_notes(converter.parse(job["source"]))
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / "0.mid"
    write_tracks(target, [(job["ref"], notes)])
    return [target]


def _render_one(args: tuple[dict, str]) -> dict:
    job, out = args
    dest = Path(out) / job["piece"]
    done = dest / ".done"
    t0 = time.perf_counter()
    result = {**job, "files": [], "notes": 0, "error": ""}
    try:
        if done.exists():
            files = sorted(dest.glob("*.mid"))
        else:
            if dest.exists():
                shutil.rmtree(dest)
            if job["collection"] == "mutopia":
                files = _render_lilypond(job, dest)
            elif job["collection"] == "lieder":
                files = _render_musicxml(job, dest)
            else:
                dest.mkdir(parents=True, exist_ok=True)
                files = [dest / "0.mid"]
                shutil.copy(job["source"], files[0])
        counts = [_midi_note_count(f) for f in files]
        for f, n in zip(files, counts):  # a movement the render emptied is dropped, not trained on
            if n < MIN_NOTES:
                f.unlink()
        result["files"] = [str(f.relative_to(out)) for f, n in zip(files, counts) if n >= MIN_NOTES]
        result["notes"] = sum(n for n in counts if n >= MIN_NOTES)
        if not result["files"]:
            result["error"] = f"rendered {sum(counts)} notes (under {MIN_NOTES}): nothing usable"
        done.write_text("")
    except subprocess.TimeoutExpired:
        result["error"] = f"took over {PER_PIECE_SECONDS} s"
    except Exception as exc:  # renderers raise many types on odd sources; report, go on
        result["error"] = f"{type(exc).__name__}: {exc}"[:200]
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


def build_keyboard(sources: Path, out: Path, workers: int | None = None, limit: int | None = None,
                   collections: tuple[str, ...] = COLLECTIONS) -> dict:
    """Render every collection found under `sources` into `out`; returns the summary."""
    sources, out = Path(sources), Path(out)
    finders = {"mutopia": mutopia_jobs, "lieder": lieder_jobs, "pianomidi": pianomidi_jobs}
    jobs = []
    for c in collections:
        if not (sources / c).is_dir():
            raise ValueError(f"{sources / c} is missing; give --sources DIR holding {', '.join(collections)}")
        if c == "mutopia" and not shutil.which("lilypond"):
            raise ValueError("Mutopia's scores need LilyPond to render: sudo apt install lilypond "
                             "(or leave Mutopia out with --only lieder pianomidi)")
        jobs += finders[c](sources / c)
    if limit:
        jobs = jobs[:limit]
    jobs.sort(key=lambda j: -j["size"])  # biggest first so the workers finish together
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = []
    workers = workers or os.cpu_count() or 1
    with mp.get_context("fork").Pool(workers, maxtasksperchild=50) as pool:
        for n, r in enumerate(pool.imap_unordered(_render_one, [(j, str(out)) for j in jobs]), 1):
            results.append(r)
            failed = sum(1 for x in results if x["error"])
            print(f"\r{n}/{len(jobs)} pieces rendered, {failed} failed", end="", file=sys.stderr)
    print(file=sys.stderr)
    results.sort(key=lambda r: r["piece"])
    summary = summarise(results, round(time.perf_counter() - t0, 1))
    write_manifests(out, results, summary)
    return summary


def summarise(results: list[dict], seconds: float) -> dict:
    ok = [r for r in results if not r["error"]]
    by: dict[str, Counter] = {}
    for r in ok:
        by.setdefault(r["collection"], Counter())[LICENCES.get(r["licence"], (r["licence"],))[0]] += 1
    return {
        "pieces": len(ok),
        "files": sum(len(r["files"]) for r in ok),
        "notes": sum(r["notes"] for r in ok),
        "by_collection": {c: {"pieces": sum(v.values()), "licences": dict(v)} for c, v in sorted(by.items())},
        "failed": [f"{r['piece']}: {r['error']}" for r in results if r["error"]],
        "seconds": seconds,
        "share_alike": any("SA" in LICENCES.get(r["licence"], ("",))[0] for r in ok),
    }


# -- what ships beside the model -------------------------------------------------

def attribution_lines(results: list[dict]) -> list[str]:
    lines = []
    for c in COLLECTIONS:
        rows = [r for r in results if r["collection"] == c and not r["error"]]
        if not rows:
            continue
        lines += ["", f"## {c}: {SOURCE_NOTE[c]}", ""]
        for r in rows:
            short, url = LICENCES.get(r["licence"], (r["licence"], ""))
            by = f", typeset by {r['by']}" if r["by"] and c == "mutopia" else ""
            ref = f" ({r['ref']})" if r["ref"] and c == "mutopia" else ""
            lines.append(f"- {r['composer']}: {r['title']}{by}{ref}. {short} {url}".rstrip())
    return lines


def write_manifests(out: Path, results: list[dict], summary: dict) -> None:
    pieces = {f: {k: r[k] for k in ("piece", "collection", "composer", "title", "licence")}
              for r in results if not r["error"] for f in r["files"]}
    (out / "PIECES.json").write_text(json.dumps(pieces, indent=1) + "\n")
    head = [
        "# Attribution: the music livejam's default model learned from",
        "",
        "The model's weights were trained (and checked) on the pieces below (rendered to MIDI by "
        "`bin/train corpus`). Every piece is credited with its source and licence. "
        + ("Some are CC BY-SA, so the model file is licensed CC BY-SA 4.0 "
           "(https://creativecommons.org/licenses/by-sa/4.0/); livejam's code stays MIT."
           if summary["share_alike"] else "None is share-alike."),
    ]
    (out / "ATTRIBUTION.md").write_text("\n".join(head + attribution_lines(results)) + "\n")
    lines = ["# Keyboard corpus: sources, licences, failures", "",
             f"{summary['pieces']} pieces ({summary['files']} files, {summary['notes']} notes) rendered in "
             f"{summary['seconds']} s by `bin/train corpus`.", "", "| collection | pieces | licences |", "|---|---|---|"]
    for c, v in summary["by_collection"].items():
        lines.append(f"| {c} | {v['pieces']} | " + ", ".join(f"{k} {n}" for k, n in sorted(v["licences"].items())) + " |")
    lines += ["", f"{len(summary['failed'])} failed:", ""] + [f"- {x}" for x in summary["failed"]]
    (out / "SOURCES.md").write_text("\n".join(lines) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
