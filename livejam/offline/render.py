"""Audio files: timed MIDI to a WAV file through livejam's one synth
(sound/synth.py), the way the live audio output renders it, block by block."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from ..sound.synth import BlockSynth, render_events


def render_wav(events: list[tuple[float, object]], path: Path, soundfont: Path | None = None,
               programs: dict[int, int] | None = None, tail: float = 1.5) -> float:
    """events: (seconds, mido message) in time order. Returns the length in seconds."""
    synth = BlockSynth(soundfont, programs=programs)
    audio = render_events(events, synth, tail)
    peak = float(np.abs(audio).max()) if len(audio) else 0.0
    if peak > 0:
        audio = audio * (0.89 / peak)  # peak at -1 dBFS: the GM SoundFont plays quietly
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(synth.rate)
        w.writeframes(pcm.tobytes())
    return len(pcm) / synth.rate
