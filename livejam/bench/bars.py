"""`livejam bench --bars`: answers on the bar line, measured from outside through
a running JACK server, with livejam in its own process following MIDI clock.

This process plays the DAW: its transport sends MIDI clock (Start, 24 ticks a
beat at a steady tempo or a ramp) from a port of its own, its keyboard plays a
one-bar call every other bar, and it listens both to livejam's answers and to
its own clock. livejam runs `--clock <that port> --answer-bars 1`.

Error = (arrival of the answer's first note) - (arrival of the clock tick on that
bar line), both heard by the same client. A JACK client's messages go out at the
start of the next server period, so two events sent within a millisecond of each
other can land one period apart at the receiver: each error is a whole number of
periods, and the mean of the errors' sizes estimates the mean error before that
rounding (which of the two is rounded up is a matter of chance proportional to
how far apart they were sent). Run the server with short periods for a finer
figure (`jackd -d dummy -p 32`).
"""
from __future__ import annotations

import contextlib
import json
import sys
import threading
import time

import mido
import numpy as np

from ..midi import system
from .live import _jack_period, _pct
from .loopback import Loopback
from ..timing.tempo import PPQN

POLL = 0.0005  # seconds between looks at a port with nothing in it (finer costs CPU the server needs)
SOURCE = "livejam-test-daw"  # the test DAW's MIDI client: its clock port is SOURCE:clock
CALL = [(0.0, 62), (1.0, 65), (2.0, 69), (2.5, 67)]  # beats into a bar, pitches: a one-bar call
NOTE_BEATS = 0.4


def steady(bpm: float):
    return lambda beat: bpm


def ramp(frm: float, to: float, over_beats: float, after: float = 4.0):
    return lambda beat: frm + (to - frm) * min(1.0, max(0.0, (beat - after) / over_beats))


def tick_times(t0: float, bpm_at, beats: int) -> list[float]:
    t = [t0]
    for k in range(beats * PPQN):
        t.append(t[-1] + 60.0 / bpm_at(k / PPQN) / PPQN)
    return t


class ClockSource:
    """A DAW's transport and keyboard: clock from its own port, and ears on it; the
    keyboard into livejam and the ears on its output are a Loopback (loopback.py)."""

    def __init__(self, api: int) -> None:
        self.api = api
        self.clock = system.client("out", api, SOURCE)
        self.clock.open_virtual_port("clock")  # first: livejam's --clock names it
        self.clock_ears = system.client("in", api, SOURCE + "-clock-ears")
        self.clock_ears.ignore_types(sysex=True, timing=False, active_sense=True)
        self.clock_ears.open_port(system.resolve(f"{SOURCE}:clock", self.clock_ears.get_ports(), "input"), "clock")
        self.daw: Loopback | None = None
        self.since = 0.0  # what was heard before this (clear()) is not the current performance's
        self.ticks: list[float] = []  # arrivals of our own clock ticks since the last Start
        self.sent: list[float] = []  # when the last performance sent its ticks
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def connect(self, into: str = system.VIRTUAL_IN, listen: str = system.VIRTUAL_OUT) -> None:
        """The keyboard into livejam and the ears on its output, once its ports exist."""
        self.daw = Loopback(self.api, into, listen, name=SOURCE, poll=POLL)

    @property
    def heard(self) -> list[tuple[float, mido.Message]]:
        """livejam's output since the last clear(), with the wall clock at receipt."""
        return self.daw.messages(self.since)

    def _listen(self) -> None:
        while self.running:
            ev = self.clock_ears.get_message()
            if ev is None:
                time.sleep(POLL)
                continue
            t, msg = time.perf_counter(), mido.Message.from_bytes(ev[0])
            with self.lock:
                if msg.type == "start":
                    self.ticks = []
                elif msg.type == "clock":
                    self.ticks.append(t)

    def perform(self, bpm_at, bars: int, calls_every: int = 2, stop: bool = True, lead: float = 0.3,
                until_beat: float | None = None, calls: bool = True, ticks_before: int = 0,
                relocate_at_beat: int | None = None) -> list[float]:
        """Start, then the clock for `bars` bars (or up to `until_beat`) with a call in
        bar 2, 4, ...; Stop at the end (or just stop sending: a lost clock).
        Returns the tick send times. calls=False: the clock alone, nothing played.
        ticks_before: the clock runs that many ticks before its Start, as some DAWs
        and sequencers send it all the time. relocate_at_beat: there the DAW jumps back
        to bar 1 without Stop (a loop: Song Position 0 just before that beat's tick)."""
        t0 = time.perf_counter() + lead + ticks_before * 60.0 / bpm_at(0.0) / PPQN
        ticks = tick_times(t0, bpm_at, bars * 4)
        if until_beat is not None:
            ticks = ticks[: int(until_beat * PPQN) + 1]
        spt = 60.0 / bpm_at(0.0) / PPQN
        timed = [(t0 - (k + 1) * spt, 1, mido.Message("clock"), self.clock) for k in range(ticks_before)]
        timed += [(t0 - 0.005, 0, mido.Message("start"), self.clock)]
        timed += [(t, 1, mido.Message("clock"), self.clock) for t in ticks[:-1]]
        for bar in range(1, bars - 1 if calls else 1, calls_every):
            if (bar + 1) * 4 * PPQN >= len(ticks):
                break
            for beat, pitch in CALL:
                on = ticks[int((bar * 4 + beat) * PPQN)]
                off = ticks[int((bar * 4 + beat + NOTE_BEATS) * PPQN)]
                timed += [(on, 2, mido.Message("note_on", note=pitch, velocity=80), self.daw.keys),
                          (off, 2, mido.Message("note_off", note=pitch), self.daw.keys)]
        if relocate_at_beat is not None:
            self.relocated = ticks[relocate_at_beat * PPQN]
            timed.append((self.relocated, 0, mido.Message("songpos", pos=0), self.clock))
        if stop:
            timed.append((ticks[-1], 3, mido.Message("stop"), self.clock))
        self.sent = ticks[:-1]
        for t, _, msg, port in sorted(timed, key=lambda x: (x[0], x[1])):
            _sleep_until(t)
            port.send_message(msg.bytes())
        return ticks

    def answer_errors(self, bars: int, calls_every: int = 2) -> list[float]:
        """Seconds from each answer bar's clock tick to the first answer note, both as
        heard here. The bar's tick is found by when it was sent (the first tick heard
        after that, within a few periods), not by counting: a server that drops a
        period drops ticks on the way here too."""
        heard = self.heard
        out = []
        for bar in range(2, bars, calls_every):  # answers on bar lines 3, 5, ... (0-based bars 2, 4, ...)
            k = bar * 4 * PPQN
            if k >= len(self.sent) - 1:
                break
            line = self.arrival_of(k)
            if line is None:
                continue  # that tick was lost on its way here
            beat = self.sent[min(k + PPQN, len(self.sent) - 1)] - self.sent[k]
            first = [t for t, m in heard
                     if m.type == "note_on" and m.velocity > 0 and line - beat / 2 <= t < line + beat]
            if first:
                out.append(first[0] - line)
        return out

    def arrival_of(self, k: int) -> float | None:
        """When the k-th tick of the last performance was heard here (None: lost on the way)."""
        with self.lock:
            arrived = np.array(self.ticks)
        s = self.sent[k]
        gap = (self.sent[k + 1] - s) if k + 1 < len(self.sent) else 0.02
        after = arrived[(arrived >= s) & (arrived < s + gap)] if len(arrived) else arrived  # before the next is sent
        return float(after[0]) if len(after) else None

    def clear(self) -> None:
        self.since = time.perf_counter()
        with self.lock:
            self.ticks = []

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=1)
        if self.daw is not None:
            self.daw.close()
        for m in (self.clock, self.clock_ears):
            system.close_client(m, self.api)


def _sleep_until(t: float) -> None:
    while True:
        left = t - time.perf_counter()
        if left <= 0:
            return
        time.sleep(left - 0.001 if left > 0.002 else 0)  # the last millisecond spinning: sent on time


def summary(errors: list[float]) -> dict:
    a = np.abs(np.asarray(errors, float))
    if not len(a):
        return {"answers": 0}
    return {"answers": len(a), "mean_abs_ms": round(float(a.mean()) * 1000, 3), **_pct(a, 50, 95, 99),
            "max_ms": round(float(a.max()) * 1000, 3)}


def livejam_argv(model: str, *more: str) -> list[str]:
    return [sys.executable, "-m", "livejam.app.cli", "play", "--headless", "--json", "--api", "jack", "--virtual",
            "--no-record", "--seed", "0", "--clock", f"{SOURCE}:clock", "--answer-bars", "1", "--quantize", "1",
            *(["--model", model] if model else []), *more]


# 60-180 BPM, the range a DAW user plays in (DESIGN.md), and a ramp.
TEMPI = {"60 BPM": steady(60), "90 BPM": steady(90), "120 BPM": steady(120), "180 BPM": steady(180),
         "ramp 100-140 BPM": ramp(100, 140, 24)}


@contextlib.contextmanager
def following(model: str):
    """livejam in its own process following this process's clock: (its process, the clock source)."""
    import os
    import subprocess
    import tempfile

    source = ClockSource(system.api_id("jack"))
    settings = tempfile.NamedTemporaryFile(suffix=".toml", delete=False)  # never the user's own
    proc = subprocess.Popen(livejam_argv(model), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "LIVEJAM_SETTINGS": settings.name})
    try:
        if '"ready"' not in proc.stdout.readline():
            raise RuntimeError("livejam did not start")
        source.connect()
        yield proc, source
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        source.close()
        os.unlink(settings.name)


def bench_bars(model: str = "", bars: int = 16) -> dict:
    """Each tempo in turn (Start ... Stop) into one livejam process; the errors per tempo and pooled."""
    with following(model) as (_, source):
        out, pooled = {}, []
        for name, bpm_at in TEMPI.items():
            source.clear()
            source.perform(bpm_at, bars)
            time.sleep(0.5)
            errors = source.answer_errors(bars)
            pooled += errors
            out[name] = summary(errors)
        return {"jack": _jack_period(), "bars_per_tempo": bars, "per_tempo": out, "all": summary(pooled)}


def bench_clock_cost(model: str = "", seconds: float = 15.0) -> dict:
    """livejam's process CPU following a 120 BPM clock with nothing played, against the
    same process with its clock port open and no clock, in one run (the issue's budget:
    following costs what an idle livejam does plus a little, <= 3 % of a core)."""
    from .live import _cpu_percent

    with following(model) as (proc, source):
        time.sleep(2.0)  # settled
        idle = _cpu_percent(proc.pid, seconds)
        bars = int(seconds * 120 / 60 / 4) + 2
        clocked = _cpu_percent(proc.pid, 0, during=lambda: source.perform(steady(120), bars, calls=False))
        return {"jack": _jack_period(), "idle_no_clock": idle, "following_120_bpm": clocked,
                "following_minus_idle_percent": round(clocked["percent"] - idle["percent"], 2)}


if __name__ == "__main__":  # python -m livejam.bench_bars [model]
    print(json.dumps(bench_bars(sys.argv[1] if len(sys.argv) > 1 else ""), indent=2))
