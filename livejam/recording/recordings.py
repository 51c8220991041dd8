"""The session recordings (recorder.py writes them): listed with their date, length
and what was played, exported whole or as the player's track alone, deleted on
request. A corrupt or half-written one is named with a one-line reason and never
stops the others from being read."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import mido

from ..errors import LivejamError
from ..midi.files import MidiFileError, read_tracks, write_messages
from .recorder import default_dir

PLAYER, ANSWERS = "player", "livejam"  # the recorder's track names


@dataclass
class Recording:
    name: str
    path: Path
    started: str  # YYYY-MM-DD HH:MM
    seconds: float = 0.0
    played: int = 0  # notes the player struck
    answered: int = 0  # notes livejam played
    problem: str = ""


def folder_of(record_dir: str = "") -> Path:
    return Path(record_dir).expanduser() if record_dir else default_dir()


def tracks(path: Path) -> dict[str, list[tuple[float, mido.Message]]]:
    """A recording's tracks by name. A file without a 'player' track is the
    player's whole, except a track named 'livejam': livejam's own answers (as in
    what `respond` writes, whose other track is the 'call'), never the player's."""
    try:
        out = read_tracks(path)
    except MidiFileError as exc:
        raise LivejamError(f"{path.name}: not readable as MIDI ({exc})") from None
    if PLAYER not in out:  # any other MIDI file: all of it but livejam's answers is the player's
        played = sorted((x for name, msgs in out.items() if name != ANSWERS for x in msgs), key=lambda x: x[0])
        out = {PLAYER: played, **({ANSWERS: out[ANSWERS]} if ANSWERS in out else {})}
    return out


def _started(path: Path) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.strptime(path.stem[len("livejam-"):][:15], "%Y%m%d-%H%M%S"))
    except ValueError:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))


def read(path: Path) -> Recording:
    rec = Recording(path.stem, path, _started(path))
    if path.name.endswith(".tmp"):
        rec.name, rec.problem = path.name, "half-written (livejam stopped while saving it); skipped"
        return rec
    try:
        found = tracks(path)
    except LivejamError as exc:
        rec.problem = str(exc).split(": ", 1)[-1]
        return rec
    strikes = {k: sum(1 for _, m in v if m.type == "note_on" and m.velocity > 0) for k, v in found.items()}
    rec.played, rec.answered = strikes.get(PLAYER, 0), strikes.get(ANSWERS, 0)
    rec.seconds = max((t for v in found.values() for t, _ in v[-1:]), default=0.0)
    if rec.played == 0:
        rec.problem = "no notes played; skipped"
    return rec


def list_recordings(folder: Path) -> list[Recording]:
    """Oldest first; .tmp leftovers listed as half-written."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.suffix.lower() in (".mid", ".midi") or p.name.endswith(".mid.tmp")]
    return [read(p) for p in sorted(files, key=lambda p: p.name)]


def find(name: str, folder: Path) -> Path:
    """A recording by name (with or without .mid) or unique start of its name."""
    hits = [p for p in sorted(folder.glob("*.mid")) if p.stem == name or p.name == name] if folder.is_dir() else []
    if not hits and folder.is_dir():
        hits = [p for p in sorted(folder.glob("*.mid")) if p.stem.startswith(name)]
    if len(hits) != 1:
        what = "no recording" if not hits else f"{len(hits)} recordings"
        raise LivejamError(f"{what} named {name!r} in {folder}; `livejam recordings` lists them")
    return hits[0]


def export(path: Path, out: Path, player_only: bool = False) -> str:
    found = tracks(path)
    keep = {PLAYER: found[PLAYER]} if player_only else found
    write_messages(out, list(keep.items()))
    return f"wrote {out} ({', '.join(keep)} track{'s' if len(keep) > 1 else ''} of {path.name})"


def table(recs: list[Recording]) -> str:
    lines = [f"{'name':28} {'started':16} {'length':>8} {'played':>7} {'answered':>8}"]
    for r in recs:
        if r.problem:
            lines.append(f"{r.name:28} {r.started:16} {'':>8} {'':>7} {'':>8}  {r.problem}")
        else:
            m, s = divmod(int(r.seconds), 60)
            lines.append(f"{r.name:28} {r.started:16} {m:>5}:{s:02d} {r.played:>7} {r.answered:>8}")
    usable = [r for r in recs if not r.problem]
    lines.append(f"{len(usable)} sessions, {sum(r.played for r in usable)} notes played, "
                 f"{sum(r.seconds for r in usable) / 60:.1f} minutes")
    return "\n".join(lines)
