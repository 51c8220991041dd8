"""Corpus ingest: a folder tree of MIDI files -> a token cache, split by piece.

The cache (in DIR/.livejam-cache/ unless told otherwise) holds, for every piece,
its notes (sustain folded, leading silence cut) and its tokens, each as one flat
memory-mapped array, plus an index saying where each piece lies and which split
it is in. It is rebuilt only when the files or the vocabulary change.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livejam.model import vocab
from livejam.model.encoder import notes_from_messages
from livejam.midi.files import MidiFileError, read_messages

MIDI_SUFFIXES = {".mid", ".midi"}
SPLITS = ("train", "valid", "test")
CACHE_NAME = ".livejam-cache"
COMPOSER_HOLDOUT = 0.12  # share of the smaller composers whose every piece is held out (test)
COMPOSER_HOLDOUT_MAX = 20  # pieces: a composer with more always trains
CHUNK = 256  # files encoded together: numpy's per-call cost is paid once per chunk
# Bumped when what a file means changes (the cache is then rebuilt).
INGEST_RULES = "live-encoder-3"  # 3: notes sustained at the end end at the last release


class CorpusError(Exception):
    """A file that cannot be used, with the reason in plain words."""


def find_midi_files(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())


def load_notes(path: Path) -> tuple[np.ndarray, Counter]:
    """One MIDI file -> float32 [n, 4] notes (start s, end s, pitch, velocity) on
    the 10 ms grid, starting at 0 s, heard exactly as the live encoder hears a
    player: the pedal per channel whichever track it is in, re-strikes, unisons
    and hand-overs by its rules, drums left out. Also how often each overlap rule
    applied."""
    with open(path, "rb") as f:
        if f.read(4) != b"MThd":
            raise CorpusError("not a MIDI file (no MThd header)")
    try:
        messages = read_messages(path)
    except MidiFileError as exc:
        raise CorpusError(f"corrupt MIDI: {exc}") from None
    if messages and messages[-1][0] > 24 * 3600:
        raise CorpusError("timing out of range (a huge delta time?)")
    played, merged = notes_from_messages(messages)
    if not played:
        raise CorpusError("no notes outside the drum channel")
    notes = np.array(played, np.float64)
    notes[:, :2] -= notes[:, 0].min()
    return notes.astype(np.float32), merged


@dataclass
class Piece:
    name: str
    split: str
    note_start: int
    note_count: int
    token_start: int
    token_count: int


class Corpus:
    """A built token cache, memory-mapped."""

    def __init__(self, cache: Path) -> None:
        self.cache = Path(cache)
        index = json.loads((self.cache / "index.json").read_text())
        self.summary = index["summary"]
        self.pieces = [Piece(**p) for p in index["pieces"]]
        self.notes = np.load(self.cache / "notes.npy", mmap_mode="r")
        self.tokens = np.load(self.cache / "tokens.npy", mmap_mode="r")

    def ids(self, split: str) -> list[int]:
        return [i for i, p in enumerate(self.pieces) if p.split == split]

    def piece_notes(self, i: int) -> np.ndarray:
        p = self.pieces[i]
        return np.asarray(self.notes[p.note_start : p.note_start + p.note_count])

    def piece_tokens(self, i: int) -> np.ndarray:
        p = self.pieces[i]
        return np.asarray(self.tokens[p.token_start : p.token_start + p.token_count], dtype=np.int64)

    def split_tokens(self, split: str) -> list[np.ndarray]:
        return [self.piece_tokens(i) for i in self.ids(split)]


def _fingerprint(files: list[Path], root: Path, seed: int, fractions) -> str:
    h = hashlib.sha256(f"{vocab.VOCAB_ID}|{INGEST_RULES}|{seed}|{fractions}".encode())
    if (root / "PIECES.json").is_file():
        h.update((root / "PIECES.json").read_bytes())
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def assign_splits(names: list[str], seed: int, fractions=(0.9, 0.05, 0.05)) -> list[str]:
    """Split by piece, from a hash of the name and the seed: a piece's split does
    not change when other files are added, and no piece is in two splits."""
    out = []
    for name in names:
        u = int(hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:8], 16) / 16**8
        out.append("train" if u < fractions[0] else "valid" if u < fractions[0] + fractions[1] else "test")
    return out


def composer_key(name: str) -> str:
    """One composer across collections: Mutopia's 'BachJS', Lieder's 'Bach' and
    piano-midi.de's 'Bach' are all 'bach' (the first capitalised word)."""
    m = re.match(r"[A-Z][^A-Z\s,_]+", name)
    return (m.group(0) if m else name).lower()


def split_keyboard(groups: list[dict], seed: int, fractions=(0.9, 0.05, 0.05)) -> list[str]:
    """Splits for a rendered corpus: by piece (movements of one piece together), and
    some composers held out whole in the test split, so the judge can score music
    by composers the model never heard. Only composers with few pieces are held out
    (a Bach or a Chopin would take too much of the training data with them)."""
    per = Counter(composer_key(g["composer"]) for g in groups)
    out = []
    by_piece = assign_splits([g["piece"] for g in groups], seed, fractions)
    for g, split in zip(groups, by_piece):
        c = composer_key(g["composer"])
        u = int(hashlib.sha256(f"{seed}:composer:{c}".encode()).hexdigest()[:8], 16) / 16**8
        out.append("test" if per[c] <= COMPOSER_HOLDOUT_MAX and u < COMPOSER_HOLDOUT else split)
    return out


def piece_groups(root: Path) -> dict[str, dict]:
    """File (relative to root) -> its piece, composer, collection and licence, from
    the PIECES.json a rendered corpus carries (training/keyboard.py); {} without one."""
    f = Path(root) / "PIECES.json"
    return json.loads(f.read_text()) if f.is_file() else {}


def _ingest_chunk(job: tuple[str, list[str]]) -> tuple[list[tuple[str, object, object]], Counter]:
    """Parse a chunk of files and encode them in one pass: (name, notes, tokens),
    or (name, reason, None) for a file that cannot be used; and the overlap counts."""
    root, paths = job
    parsed, merged = [], Counter()
    cut = len(str(root).rstrip("/")) + 1
    for p in paths:
        rel = p[cut:]
        try:
            notes, counts = load_notes(Path(p))
            parsed.append((rel, notes))
            merged.update(counts)
        except CorpusError as exc:
            parsed.append((rel, str(exc)))
    good = [x for x in parsed if not isinstance(x[1], str)]
    encoded = dict(zip((r for r, _ in good), vocab.encode_many([n for _, n in good])))
    return [(rel, n, encoded[rel].astype(np.int16)) if rel in encoded else (rel, n, None) for rel, n in parsed], merged


def ingest(root: Path, cache: Path | None = None, seed: int = 0, quiet: bool = False,
           workers: int | None = None) -> Corpus:
    """Build (or reuse) the token cache for every MIDI file under root."""
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root} is not a folder; give a folder of .mid/.midi files")
    cache = Path(cache) if cache else root / CACHE_NAME
    workers = workers or os.cpu_count() or 1
    files = find_midi_files(root)
    fractions = (0.9, 0.05, 0.05)
    fp = _fingerprint(files, root, seed, fractions)
    index_file = cache / "index.json"
    if index_file.exists() and json.loads(index_file.read_text())["summary"].get("fingerprint") == fp:
        return Corpus(cache)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    t0 = time.perf_counter()
    notes, tokens, kept, skipped, merged = [], [], [], [], Counter()
    chunks = [files[i : i + CHUNK] for i in range(0, len(files), CHUNK)]
    jobs = [(str(root), [str(f) for f in c]) for c in chunks]
    pool = mp.get_context("fork").Pool(min(workers, len(chunks))) if workers > 1 and len(chunks) > 1 else None
    try:
        for chunk, counts in (pool.imap(_ingest_chunk, jobs) if pool else map(_ingest_chunk, jobs)):
            merged.update(counts)
            for rel, n, t in chunk:
                if t is None:
                    skipped.append(f"{rel}: {n}")
                    say(f"skipped {rel}: {n}")
                else:
                    notes.append(n)
                    tokens.append(t)
                    kept.append(rel)
    finally:
        if pool:
            pool.close()
    seconds = time.perf_counter() - t0
    # A rendered corpus names each file's piece (movements of one piece share a split).
    groups = piece_groups(root)
    if groups:
        splits = split_keyboard([groups.get(k, {"piece": k, "composer": k}) for k in kept], seed, fractions)
    else:
        splits = assign_splits(kept, seed, fractions)
    pieces, no, to = [], 0, 0
    for name, split, n, t in zip(kept, splits, notes, tokens):
        pieces.append(Piece(name, split, no, len(n), to, len(t)).__dict__)
        no, to = no + len(n), to + len(t)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(cache / "notes.npy", np.concatenate(notes) if notes else np.zeros((0, 4), np.float32))
    np.save(cache / "tokens.npy", np.concatenate(tokens) if tokens else np.zeros(0, np.int16))
    summary = {
        "fingerprint": fp,
        "vocab": vocab.VOCAB_ID,
        "root": str(root),
        "files": len(files),
        "pieces": len(kept),
        "skipped": len(skipped),
        "skipped_reasons": skipped[:200],
        "tokens": int(to),
        "notes": int(no),
        # Same-pitch overlaps, resolved by the live encoder's rules (livejam/encoder.py):
        # re-strikes ended the note they interrupted, unisons became one key press,
        # hand-overs ended at the last release.
        "overlaps": {k: int(merged[k]) for k in ("restrike", "unison", "handover")},
        "hours": round(float(sum(float(n[:, 1].max()) for n in notes)) / 3600, 2),
        "split_pieces": {s: splits.count(s) for s in SPLITS},
        "ingest_seconds": round(seconds, 2),
        "files_per_second": round(len(files) / seconds, 1) if seconds > 0 else None,
        "seed": seed,
    }
    tmp = cache / "index.json.tmp"
    tmp.write_text(json.dumps({"summary": summary, "pieces": pieces}))
    tmp.replace(index_file)  # the index last: a half-written cache is never taken as built
    say(
        f"ingested {len(kept)} pieces ({summary['tokens']} tokens, {summary['hours']} h) from {len(files)} files"
        f" in {seconds:.1f} s ({summary['files_per_second']} files/s); {len(skipped)} skipped;"
        f" same-pitch overlaps: {merged['restrike']} re-strikes, {merged['unison']} unisons, {merged['handover']} hand-overs"
    )
    return Corpus(cache)
