"""The models livejam can play: the shipped default and the personal models in the
user's models folder (written by `bin/train personal`), found by name or path,
with what each was trained on and how well it predicts held-out playing."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import LivejamError
from .onnx_model import DEFAULT_MODEL, OnnxModel


def models_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("livejam")) / "models"


@dataclass
class ModelEntry:
    name: str
    path: Path
    kind: str  # "default" or "personal"
    created: str  # YYYY-MM-DD HH:MM
    about: str  # what it was trained on, in a few words
    valid_nll: float | None  # on its own validation split, nats/event
    heldout: dict | None  # personal models: NLL of it and of its base on the held-out recordings
    problem: str = ""  # why it cannot be played, if it cannot

    @property
    def beats_base(self) -> bool:
        """A personal model that predicts the held-out recordings better than the model it started from."""
        h = self.heldout or {}
        return bool(h) and h.get("personal", 1e9) < h.get("base", -1e9)


_READ: dict[tuple[str, int, int, str], ModelEntry] = {}  # (path, mtime, size, kind) -> entry: each file read once


def _entry(path: Path, kind: str) -> ModelEntry:
    """A model's card, read once per file version (opening it under ONNX Runtime takes a moment)."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size, kind)
    if key not in _READ:
        _READ[key] = _read_entry(path, kind)
    return _READ[key]


def _read_entry(path: Path, kind: str) -> ModelEntry:
    name = path.stem
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    try:
        meta = OnnxModel(path).metadata
    except LivejamError as exc:
        return ModelEntry(name, path, kind, created, "", None, None, problem=str(exc))
    personal = meta.get("personal") or {}
    data = meta.get("training_data") or {}
    if personal:
        about = (f"{personal.get('sessions', '?')} sessions, {personal.get('notes', '?')} notes, "
                 f"{personal.get('minutes', '?')} min of your playing")
    else:
        about = f"{data.get('pieces', '?')} pieces, {data.get('hours', '?')} h"
    if meta.get("licence"):
        about += f"; model licence {meta['licence']}"
    nll = (meta.get("metrics") or {}).get("valid_nll")
    # When the weights were trained, from the model's own metadata: a copied or
    # installed file's date says nothing about the model.
    created = personal.get("created") or meta.get("trained") or created
    return ModelEntry(name, path, kind, created, about,
                      None if nll is None else float(nll), personal.get("heldout_nll"))


def list_models(folder: Path | None = None) -> list[ModelEntry]:
    """The default first, then personal models, newest first."""
    folder = folder or models_dir()
    personal = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    return [_entry(DEFAULT_MODEL, "default")] + [_entry(p, "personal") for p in personal]


def resolve(name: str, folder: Path | None = None) -> Path:
    """A model by path, or by name (a personal model's file name without .onnx, or 'default')."""
    if not name or name == "default":
        return DEFAULT_MODEL
    p = Path(name).expanduser()
    if p.suffix == ".onnx" or p.exists():
        return p  # OnnxModel says it clearly if the file is missing
    folder = folder or models_dir()
    for candidate in (folder / f"{name}.onnx", DEFAULT_MODEL.parent / f"{name}.onnx"):
        if candidate.is_file():
            return candidate
    raise LivejamError(f"no model named {name!r}; `livejam models` lists them (or give a path to an .onnx file)")


def recommended(folder: Path | None = None) -> ModelEntry | None:
    """The newest personal model that beat its base on held-out playing: offered, never used unasked."""
    return next((m for m in list_models(folder) if m.kind == "personal" and not m.problem and m.beats_base), None)


def table(entries: list[ModelEntry]) -> str:
    lines = [f"{'name':24} {'kind':9} {'made':16} {'valid NLL':>9}  trained on"]
    for m in entries:
        if m.problem:
            lines.append(f"{m.name:24} {m.kind:9} {m.created:16} {'-':>9}  unusable: {m.problem}")
            continue
        nll = "-" if m.valid_nll is None else f"{m.valid_nll:.3f}"
        held = ""
        if m.heldout:
            verdict = "better than" if m.beats_base else "not better than"
            held = (f"; on your held-out recordings {m.heldout.get('personal', 0):.3f} vs "
                    f"{m.heldout.get('base', 0):.3f} for its base ({verdict})")
        lines.append(f"{m.name:24} {m.kind:9} {m.created:16} {nll:>9}  {m.about}{held}")
    return "\n".join(lines)
