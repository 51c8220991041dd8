"""`livejam bench`: the built-in synth's cost. Sixteen voices held (a chord on
each of two channels, re-struck as they fade) rendered in 256-frame blocks at
48 kHz, as the JACK callback renders them: CPU seconds per second of audio, as a
percentage of one core, and each block's time against the block's own length."""
from __future__ import annotations

import time

import mido
import numpy as np

from ..sound.synth import BlockSynth

CHORD = (48, 52, 55, 59, 62, 65, 69, 72)


def bench_synth(seconds: float = 10.0, block: int = 256, rate: int = 48000) -> dict:
    synth = BlockSynth(rate=rate)
    strike = [(0, mido.Message("note_on", channel=ch, note=p, velocity=90)) for ch in (0, 1) for p in CHORD]
    times, blocks = [], int(seconds * rate / block)
    cpu0 = time.process_time()
    for k in range(blocks):
        events = strike if k % int(rate / block) == 0 else ()  # struck again every second: 16 voices sounding
        t0 = time.perf_counter()
        synth.render(block, events)
        times.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu0
    per_block = np.asarray(times) * 1000
    return {"voices": len(strike), "block_frames": block, "rate": rate,
            "cpu_percent_of_a_core": round(100 * cpu / (blocks * block / rate), 2),
            "block_ms_p50": round(float(np.percentile(per_block, 50)), 4),
            "block_ms_p99": round(float(np.percentile(per_block, 99)), 4),
            "block_length_ms": round(1000 * block / rate, 3)}
