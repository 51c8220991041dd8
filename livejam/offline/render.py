"""Audio: render timed MIDI to a WAV file through a real SoundFont synthesizer
(tinysoundfont), with the General MIDI SoundFont that the pretty_midi package
ships (TimGM6mb.sf2), so nothing is downloaded."""
from __future__ import annotations

import importlib.util
import wave
from pathlib import Path

import numpy as np

from ..errors import LivejamError

RATE = 44100


def default_soundfont() -> Path:
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        raise LivejamError("no default SoundFont: the pretty_midi package is missing; reinstall livejam or pass --soundfont FILE.sf2")
    return Path(list(spec.submodule_search_locations)[0]) / "TimGM6mb.sf2"


def render_wav(events: list[tuple[float, object]], path: Path, soundfont: Path | None = None,
               programs: dict[int, int] | None = None, tail: float = 1.5) -> float:
    """events: (seconds, mido message) in time order. Returns the length in seconds."""
    try:
        import tinysoundfont
    except ImportError:
        raise LivejamError("WAV output needs tinysoundfont; run bin/livejam once (it installs it) or `pip install --no-deps tinysoundfont`")
    sf = Path(soundfont) if soundfont else default_soundfont()
    if not sf.is_file():
        raise LivejamError(f"SoundFont {sf} not found; pass --soundfont with an .sf2 file")
    synth = tinysoundfont.Synth(samplerate=RATE)
    try:
        sfid = synth.sfload(str(sf))
    except Exception as exc:
        raise LivejamError(f"{sf.name} is not a usable SoundFont ({exc})")
    for ch in range(16):
        if ch != 9:
            synth.program_select(ch, sfid, 0, (programs or {}).get(ch, 0))
    chunks, now = [], 0.0
    for t, msg in sorted(events, key=lambda e: e[0]):
        n = int(round((t - now) * RATE))
        if n > 0:
            chunks.append(np.frombuffer(synth.generate(n), dtype=np.float32).copy())
            now += n / RATE
        if msg.type == "note_on" and msg.velocity > 0:
            synth.noteon(msg.channel, msg.note, msg.velocity)
        elif msg.type in ("note_on", "note_off"):
            synth.noteoff(msg.channel, msg.note)
        elif msg.type == "control_change":
            synth.control_change(msg.channel, msg.control, msg.value)
    chunks.append(np.frombuffer(synth.generate(int(tail * RATE)), dtype=np.float32).copy())
    audio = np.concatenate(chunks).reshape(-1, 2)
    peak = float(np.abs(audio).max())
    if peak > 0:
        audio *= 0.89 / peak  # peak at -1 dBFS: the GM SoundFont plays quietly
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return len(pcm) / RATE
