"""Listening checks: prime the exported model with a simple phrase, let it
continue, write call + answer as a two-track MIDI file, and measure how much of
the answer stays in the call's key."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from livejam.model import vocab
from livejam.midi.files import write_tracks
from livejam.model.sampler import Sampler
from livejam.model.onnx_model import OnnxModel

MAJOR = {0, 2, 4, 5, 7, 9, 11}
MINOR = {0, 2, 3, 5, 7, 8, 10}  # natural minor; harmonic adds 11

# Simple calls a player might play: (name, tonic, scale, notes as (beat, beats, pitch)).
CALLS = [
    ("c_major_scale", 0, MAJOR, [(i * 0.5, 0.5, p) for i, p in enumerate([60, 62, 64, 65, 67, 65, 64, 62, 60])]),
    ("g_major_arpeggio", 7, MAJOR, [(i * 0.5, 0.5, p) for i, p in enumerate([55, 59, 62, 67, 62, 59, 55, 62])]),
    ("a_minor_phrase", 9, MINOR | {11}, [(0, 1, 69), (1, 0.5, 72), (1.5, 0.5, 71), (2, 1, 69), (3, 0.5, 64), (3.5, 0.5, 67), (4, 2, 69)]),
    ("f_major_chords", 5, MAJOR, [(b, 1, p) for b, ch in [(0, (53, 57, 60)), (1, (58, 62, 65)), (2, (60, 64, 67)), (3, (53, 57, 60))] for p in ch]),
]


def call_notes(spec, seconds_per_beat: float = 0.5, velocity: int = 80):
    return [(b * seconds_per_beat, (b + d) * seconds_per_beat * 0.98, p, velocity) for b, d, p in spec]


def continue_phrase(onnx_model: OnnxModel, sampler: Sampler, prime: np.ndarray, seconds: float,
                    max_tokens: int = 2000) -> list[int]:
    """Feed prime, then sample until `seconds` of music have passed. Notes still
    sounding at the end are released by the decoder."""
    state = onnx_model.initial_state(1)
    logits, state = onnx_model.run(prime[None, :].astype(np.int64), state)
    logits = logits[0, -1]
    out, steps = [], 0
    limit = int(seconds * vocab.STEPS_PER_SECOND)
    for _ in range(max_tokens):
        tok = sampler.sample(logits)
        out.append(tok)
        kind, value = vocab.describe(tok)
        if kind == "TIME_SHIFT":
            steps += value
            if steps >= limit:
                break
        logits, state = onnx_model.step(tok, state)
    return out


def in_key_fraction(notes, tonic: int, scale: set[int]) -> float:
    if not notes:
        return 0.0
    return sum(((n.pitch - tonic) % 12) in scale for n in notes) / len(notes)


def sample_model(model: Path, out_dir: Path, seconds: float = 8.0, temperature: float = 1.0,
                 top_p: float = 0.95, seed: int = 0, takes: int = 2) -> list[dict]:
    onnx_model = OnnxModel(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = []
    for name, tonic, scale, spec in CALLS:
        call = vocab.quantize(call_notes(spec))
        end = max(n.end for n in call)
        prime = np.concatenate([vocab.encode(call), vocab.shift_tokens(50)])  # half a second of silence
        for take in range(takes):
            sampler = Sampler(temperature, top_p, seed=seed * 100 + take)
            answer = vocab.decode(continue_phrase(onnx_model, sampler, prime, seconds))
            path = out_dir / f"{name}_{take}.mid"
            shifted = [(n.start + end + 0.5, n.end + end + 0.5, n.pitch, n.velocity) for n in answer]
            write_tracks(path, [("call", call), ("answer", shifted)], channels=[0, 1])
            pitches = [n.pitch for n in answer]
            report.append({
                "file": str(path), "notes": len(answer), "in_key": round(in_key_fraction(answer, tonic, scale), 3),
                "pitch_range": [min(pitches), max(pitches)] if pitches else None,
            })
    return report
