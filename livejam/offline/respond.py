"""Answer a MIDI file offline: the live engine, driven by a fake clock that jumps
from one due time to the next (no ports, no waiting), for players without a
keyboard and for tests. Writes the call and the answer as MIDI or as audio."""
from __future__ import annotations

from pathlib import Path

import mido

from . import driver
from ..timing.wallclock import FakeClock
from ..settings.config import LivejamConfig
from ..conversation.engine import Engine
from ..errors import LivejamError
from ..midi.files import MidiFileError, read_messages, write_messages
from ..midi.outputs import RecordingOutput
from ..model.onnx_model import DEFAULT_MODEL, OnnxModel


def read_call(path: Path) -> list[tuple[float, mido.Message]]:
    try:
        out = read_messages(path)
    except MidiFileError as exc:
        raise LivejamError(f"cannot read {path} as a MIDI file ({exc}); give a .mid file") from None
    if not any(m.type == "note_on" and m.velocity > 0 for _, m in out):
        raise LivejamError(f"{path} has no notes to answer")
    return out


def respond(call: list[tuple[float, mido.Message]], cfg: LivejamConfig, model=None) -> list[tuple[float, mido.Message]]:
    """Play `call` into an engine on a fake clock; return the answer messages (seconds, msg)."""
    clock = FakeClock(0.0)
    out = RecordingOutput(clock, "answer")
    cfg.record = False
    engine = Engine(cfg, model or OnnxModel(cfg.model or DEFAULT_MODEL), out, clock)
    driver.play(engine, clock, call)
    return out.messages


def write_result(call, answer, path: Path, soundfont: Path | None = None) -> str:
    path = Path(path)
    if path.suffix.lower() == ".wav":
        from .render import render_wav

        seconds = render_wav(call + answer, path, soundfont)
        return f"wrote {path} ({seconds:.1f} s of audio: your call, then the answer)"
    if path.suffix.lower() not in (".mid", ".midi"):
        raise LivejamError(f"write the answer to a .mid or .wav file, not {path.name}")
    write_messages(path, [("call", call), ("livejam", answer)])
    notes = sum(1 for _, m in answer if m.type == "note_on" and m.velocity > 0)
    return f"wrote {path} (track 'call' and track 'livejam': {notes} answer notes)"
