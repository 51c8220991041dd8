"""A long night on the fake clock: hours of calls and answers with the session
recorded, each write done at the worst moment (in the phrase end, as the answer
starts), so what grows with the evening shows. The soak test checks what it
writes stays flat; `livejam bench` prints the write time and the engine's work
from the phrase end to the first answer note, at hour 0 and at the last hour."""
from __future__ import annotations

import time
from pathlib import Path

import mido
import numpy as np

from ..conversation.engine import Engine
from ..midi.outputs import NullOutput
from ..offline import driver
from ..recording.recorder import SessionRecorder
from ..settings.config import LivejamConfig
from ..timing.wallclock import FakeClock

CALLS = ((60, 64, 67, 72, 71, 67, 64, 62), (62, 65, 69, 72, 74, 72, 69, 65), (57, 60, 64, 69, 67, 64, 60, 59))


def long_session(model, folder: Path, hours: float = 3.0, every: float = 30.0) -> list[dict]:
    """One row per call: when (hours), the engine's wall time from the call's last
    release through the phrase end to the first answer note sent (ms: sampling
    ahead, the decision, the write), and the write of that call and its answer
    (bytes, ms)."""
    clock = FakeClock()
    cfg = LivejamConfig(record=True, seed=0, answer_seconds=1.0, silence=0.3)
    rec = SessionRecorder(folder, clock)
    eng = Engine(cfg, model, NullOutput(), clock, rec)
    writes: list[tuple[int, float]] = []

    def write_now() -> None:  # the writer thread's work, done in the engine's step: the worst case
        t0 = time.perf_counter()
        if rec.flush() is not None:
            writes.append((rec.written, time.perf_counter() - t0))

    rec.request_flush = write_now
    rows, begin = [], clock.now()
    for i in range(int(hours * 3600 / every)):
        start, before = clock.now(), len(writes)
        for k, pitch in enumerate(CALLS[i % len(CALLS)]):
            t = start + 0.15 * k
            driver.advance(eng, clock, t)
            eng.played(mido.Message("note_on", note=pitch, velocity=80), t)
            eng.played(mido.Message("note_off", note=pitch), t + 0.12)
        driver.advance(eng, clock, clock.now() + 0.12)
        t0 = time.perf_counter()
        driver.advance(eng, clock, clock.now() + cfg.silence + 0.01)  # the phrase end and the first note
        onset = time.perf_counter() - t0
        driver.advance(eng, clock, clock.now() + 1.5)  # the answer to its end
        new = writes[before:]
        rows.append({"hour": (start - begin) / 3600, "phrase_end_work_ms": onset * 1000, "write_bytes": sum(b for b, _ in new),
                     "write_ms": sum(s for _, s in new) * 1000})
        clock.t = start + every
    eng.stop()
    return rows


def summary(rows: list[dict], n: int = 20) -> dict:
    """Hour 0 against the last hour: the first n calls and the last n, medians."""
    def med(part, key):
        return round(float(np.median([r[key] for r in part])), 3)

    first, last = rows[:n], rows[-n:]
    return {f"{name}_{key}": med(part, key) for name, part in (("hour0", first), ("last_hour", last))
            for key in ("phrase_end_work_ms", "write_ms", "write_bytes")} | {
        "calls": len(rows), "hours": round(rows[-1]["hour"], 2)}


def bench_long_session(model) -> dict:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return summary(long_session(model, Path(folder)))
