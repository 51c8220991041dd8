"""`livejam bench --audio`: the built-in synth's timing and cost through a running
JACK server (the issue-20 budgets), in one run:

- onset: the scheduler (on its own thread, as live) sends notes at deadlines that
  fall anywhere inside a period; the synth (its JACK client, livejam-synth) renders
  each at its sample one block later; a capture client, connected to the synth's
  port, finds each note's first sample. Onset = that sample's time - the note's
  deadline; both clocks are this machine's monotonic clock (a JACK cycle's start is
  read as now - frames since the cycle started). Sample-accurate means the onset
  does not depend on where in the block the deadline fell: the spread of the
  onsets about their median is the error inside the block.
- xruns: livejam with --synth in its own process through a conversation of the
  given length; the capture counts the cycles it missed meanwhile (from JACK's
  frame clock), and with --jack-log (jackd's output) the lines naming a livejam client are counted
  as the ones livejam caused.
- idle: the same livejam process, nothing played, with the synth on and off.
"""
from __future__ import annotations

import re
import threading
import time

import mido
import numpy as np

from ..midi import system
from ..sound.live import JackAudio, SynthOutput
from ..sound.synth import BlockSynth
from ..sound.synth_link import SynthProcess
from ..timing.scheduler import Scheduler
from ..timing.wallclock import WallClock
from ..midi.outputs import NullOutput
from .live import _cpu_percent, _jack_period, _pct

LATE_CLIENT = re.compile(r"client = (\S+) was not finished")  # jackd's line for a client late in its cycle
LIVEJAM_CLIENT = re.compile(r"livejam(-synth)?(-\d+)?$")  # livejam's MIDI clients (JACK numbers a second) and the synth
QUIET = 1e-6  # the first sample of a note is above this (its attack starts at once)


class Capture:
    """A JACK client recording one audio port, each block with its cycle's start time."""

    def __init__(self, source: str, name: str = "bench-capture") -> None:
        import jack

        self.client = jack.Client(name, no_start_server=True)
        self.port = self.client.inports.register("in")
        self.rate, self.blocks, self.lock = self.client.samplerate, [], threading.Lock()
        # Cycles this client missed, counted from the frame clock in the process
        # callback: no xrun callback, since a Python callback on libjack's notification
        # thread waits for the GIL, which rtmidi holds through its blocking server calls
        # (open, connect, close) in the same process; jackd writes notifications
        # without a time-out, so a notification thread that falls behind can stop the
        # whole server (the hang of a CI run).
        self.xruns, self.frame = 0, None
        self.client.set_process_callback(self._process)
        self.client.activate()
        self.client.connect(source, self.port.name)

    def _process(self, frames: int) -> None:
        start = time.perf_counter() - self.client.frames_since_cycle_start / self.rate
        frame = self.client.last_frame_time
        if self.frame is not None and frame - self.frame > frames:
            self.xruns += 1
        self.frame = frame
        data = self.port.get_array().copy()
        with self.lock:
            self.blocks.append((start, data))

    def audio(self, since: float = 0.0):
        """(time of each sample, the samples) heard so far (from blocks that start after `since`)."""
        with self.lock:
            blocks = [(s, b) for s, b in self.blocks if s >= since]
        if not blocks:
            return np.zeros(0), np.zeros(0, np.float32)
        times = np.concatenate([s + np.arange(len(b)) / self.rate for s, b in blocks])
        return times, np.concatenate([b for _, b in blocks])

    def heard_until(self) -> float:
        """The end of the latest block (0.0 before the first): cheap to poll."""
        with self.lock:
            if not self.blocks:
                return 0.0
            start, block = self.blocks[-1]
        return start + len(block) / self.rate

    def clear(self) -> None:
        with self.lock:
            self.blocks = []

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def onsets(notes: int = 60, gap: float = 0.25, own_process: bool = True) -> dict:
    """Notes scheduled at deadlines spread over the period, each heard at the capture
    client: through the synth in its own process (as livejam plays it on Linux and
    macOS), or in this one (as on Windows)."""
    clock = WallClock()
    scheduler = Scheduler(NullOutput(), clock)
    if own_process:
        audio = SynthProcess(None, clock, 1.0, name="livejam-synth-bench", audio="jack")
    else:
        audio = JackAudio(lambda rate: SynthOutput(BlockSynth(rate=rate), clock, 1.0), name="livejam-synth-bench")
    cap = Capture(audio.names[0])
    scheduler.taps.append(audio.output)
    scheduler.start()
    rng = np.random.default_rng(0)
    period = cap.client.blocksize / cap.rate
    try:
        time.sleep(0.3)
        t0 = clock.now() + 0.2
        deadlines = [t0 + k * gap + rng.random() * period for k in range(notes)]
        for d in deadlines:
            scheduler.schedule(d, mido.Message("note_on", note=72, velocity=100))
            scheduler.schedule(d + 0.05, mido.Message("note_off", note=72))
            scheduler.schedule(d + 0.1, mido.Message("control_change", control=120))  # silent before the next
        time.sleep(deadlines[-1] - clock.now() + 0.3)
        times, sig = cap.audio()
    finally:
        scheduler.stop()
        cap.close()
        audio.close()
    loud = np.abs(sig) > QUIET
    heard = []
    for d in deadlines:
        after = times[loud & (times >= d - period) & (times < d + gap * 0.8)]
        if len(after) and not (loud & (times >= d - gap * 0.15) & (times < d - period)).any():
            heard.append(after[0] - d)
    late = np.asarray(heard)
    spread = np.abs(late - np.median(late)) if len(late) else late
    return {"period_ms": round(period * 1000, 3), "notes": notes, "heard": len(heard),
            "onset": _pct(late, 50, 95, 99), "budget_p95_ms": round(period * 1000 + 1, 3),
            "error_inside_the_block": _pct(spread, 50, 95), "error_budget_p95_ms": 0.1,
            "late_notes": [[k, round(float(x) * 1000, 2)] for k, x in enumerate(late) if x > period + 0.001]}


def xruns_and_idle(model: str, minutes: float = 10.0, jack_log: str | None = None, idle_seconds: float = 20.0) -> dict:
    """livejam --synth in its own process: xruns over a conversation, and its idle
    cost with the synth on against off (the same process, the synth switched by flag)."""
    from .live import LivejamProcess, _conversation

    out = {}
    for synth in (False, True):
        lj = LivejamProcess(model, tui=False, extra=["--synth"] if synth else [])
        lb = cap = None
        try:
            lb = lj.connect()
            time.sleep(2.0)
            out[f"idle_synth_{'on' if synth else 'off'}"] = _cpu_percent(lj.proc.pid, idle_seconds)
            if synth:
                cap = Capture("livejam-synth:synth out L", name="bench-xrun-count")
                log_before = _log_lines(jack_log)
                start = time.perf_counter()
                phrases = int(minutes * 60 / 3.0)
                _conversation(lb, phrases, 3.0)
                out["conversation"] = {"minutes": round((time.perf_counter() - start) / 60, 2), "calls": phrases,
                                       "cycles_the_capture_missed": cap.xruns}
                if jack_log:
                    lines = _log_lines(jack_log)[len(log_before):]
                    named = [m.group(1) for line in lines if (m := LATE_CLIENT.search(line))]
                    out["conversation"]["late_clients_in_jack_log"] = {c: named.count(c) for c in sorted(set(named))}
                    out["conversation"]["xruns_naming_livejam"] = sum(1 for c in named if LIVEJAM_CLIENT.match(c))
                    out["conversation"]["jack_log_lines"] = lines[-5:]
                times, sig = cap.audio()
                out["conversation"]["audio_heard_s"] = round(float((np.abs(sig) > QUIET).sum() / cap.rate), 1)
        finally:
            if cap is not None:
                cap.close()
            if lb is not None:
                lb.close()
            lj.stop()
    on, off = out["idle_synth_on"]["percent"], out["idle_synth_off"]["percent"]
    out["idle_on_minus_off_percent"] = round(on - off, 2)
    return out


def _log_lines(path: str | None) -> list[str]:
    if not path:
        return []
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def bench_audio(model: str, minutes: float = 10.0, jack_log: str | None = None) -> dict:
    system.list_ports(system.api_id("jack"))  # no server: one line saying so, before anything starts
    return {"jack": _jack_period(), "onset": onsets(), **xruns_and_idle(model, minutes, jack_log)}
