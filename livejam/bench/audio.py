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
- idle: two livejam processes, nothing played, one with the synth and one
  without, measured over the same windows (what the machine does meanwhile falls
  on both alike); the difference, each window and its median.
- xruns: livejam with --synth through a conversation of the given length; a
  counter in a process of its own (xrun_counter.py) listens to the synth and counts
  the cycles it missed; with --jack-log (jackd's output), each cycle jackd says
  missed its deadline is put down to the client it names running (blame()).
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
from .xrun_counter import QUIET, XrunCounter
from .live import _jack_period, _pct, _thread_cpu

LATE_CLIENT = re.compile(r"client = (\S+) was not finished, state = (\w+)")  # jackd's line for a client late in its cycle
FINISHED_LATE = re.compile(r"client (\S+) finished after current callback")  # jackd: done, but after the deadline
SERVER_LATE = re.compile(r"Process XRun = (\d+) usec")  # jackd's timer woke late (its dummy and timed drivers)
CYCLE_END = "Process error"  # jackd's line closing a cycle that missed its deadline


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


def missed_cycles(lines: list[str]) -> list[dict]:
    """jackd's log, grouped by the cycle that missed its deadline: for each, the
    clients it names as not finished with their state ("late"), and how late jackd's
    own timer woke that cycle, if it says ("server_late_us"). jackd writes one line
    per such client (or one saying it finished after the deadline), then one
    ending the cycle ("Process error")."""
    cycles, late, server = [], {}, 0
    for line in lines:
        if m := LATE_CLIENT.search(line):
            late[m.group(1)] = m.group(2)
        elif m := FINISHED_LATE.search(line):
            late[m.group(1)] = "Finished late"
        elif m := SERVER_LATE.search(line):
            server = max(server, int(m.group(1)))  # it says so just before the clients it made late
        elif CYCLE_END in line:
            if late:
                cycles.append({"late": late, "server_late_us": server})
            late, server = {}, 0
        elif not late:
            server = 0  # a late wake-up that made no client late
    if late:
        cycles.append({"late": late, "server_late_us": server})
    return cycles


def blame(cycles: list[dict]) -> dict:
    """Who a missed cycle is down to, by what jackd's log can tell. A client
    "Running" at the deadline had been woken and had not finished: its own work, or
    the machine stalling it mid-cycle (on a VM the host takes a virtual CPU away
    with no trace inside); one "Triggered" was woken and had not yet run. A cycle
    with a livejam client running counts as livejam's, so "livejam_running" is an
    upper bound on the cycles livejam caused; one with no client running is the
    whole graph waiting for a CPU: the machine. "server_woke_late": cycles in
    which jackd's own timer says it woke late, a stall of the machine's."""
    out = {"missed_cycles": len(cycles), "livejam_running": 0, "another_client_running": 0,
           "whole_graph_waiting": 0, "server_woke_late": 0, "cycles": []}
    for cycle in cycles:
        late = cycle["late"]
        running = [c for c, state in late.items() if state == "Running"]
        if any(system.LIVEJAM_CLIENT.match(c) for c in running):
            out["livejam_running"] += 1
        elif running:
            out["another_client_running"] += 1
        else:
            out["whole_graph_waiting"] += 1
        out["server_woke_late"] += cycle["server_late_us"] > 0
        named = " ".join(f"{c}:{state}" for c, state in late.items()
                         if state == "Running" or system.LIVEJAM_CLIENT.match(c))
        server = f", jackd's timer {cycle['server_late_us']} us late" if cycle["server_late_us"] else ""
        out["cycles"].append(f"{named} ({len(late)} late{server})")
    return out


def _cpu_side_by_side(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Percent of one core for each process over the same window (its whole tree)."""
    c0, w0 = {k: sum(_thread_cpu(p).values()) for k, p in pids.items()}, time.perf_counter()
    time.sleep(seconds)
    c1, wall = {k: sum(_thread_cpu(p).values()) for k, p in pids.items()}, time.perf_counter() - w0
    return {k: round(100 * (c1[k] - c0[k]) / wall, 2) for k in pids}


def _wait_for_inputs(count: int, timeout: float = 60.0) -> None:
    """Until `count` livejam processes have their MIDI input port open."""
    end = time.perf_counter() + timeout
    api = system.api_id("jack")
    ending = ":" + system.VIRTUAL_IN
    while sum(p.endswith(ending) for p in system.list_ports(api)[1]) < count:
        if time.perf_counter() > end:
            raise RuntimeError(f"{count} livejam processes did not open their ports in {timeout:.0f} s")
        time.sleep(0.2)


def xruns_and_idle(model: str, minutes: float = 10.0, jack_log: str | None = None, idle_seconds: float = 30.0,
                   windows: int = 3) -> dict:
    """livejam's idle cost with the synth on against off: two livejam processes,
    measured over the same windows, so what the machine does meanwhile falls on both.
    Then xruns over a conversation with the synth on, from jackd's log, each missed
    cycle put down to whom it names running."""
    from .live import LivejamProcess, _conversation

    on = LivejamProcess(model, tui=False, extra=["--synth"])
    off = lb = None
    try:
        lb = on.connect()  # the keyboard and the DAW: on this livejam's ports, the only ones yet
        off = LivejamProcess(model, tui=False)
        _wait_for_inputs(2)
        time.sleep(3.0)  # both past start-up (model load, the synth's SoundFont)
        readings = [_cpu_side_by_side({"on": on.proc.pid, "off": off.proc.pid}, idle_seconds / windows)
                    for _ in range(windows)]
        off.stop()
        off = None
        differences = [r["on"] - r["off"] for r in readings]
        out = {"idle": {"windows_s": round(idle_seconds / windows, 1), "synth_on": [r["on"] for r in readings],
                        "synth_off": [r["off"] for r in readings],
                        "on_minus_off_percent": [round(d, 2) for d in differences],
                        "on_minus_off_median_percent": round(float(np.median(differences)), 2),
                        "budget_percent": 1.0}}
        counter = XrunCounter("livejam-synth:synth out L")
        log_before = _log_lines(jack_log)
        start = time.perf_counter()
        phrases = int(minutes * 60 / 3.0)
        _conversation(lb, phrases, 3.0)
        heard = counter.result()
        out["conversation"] = {"minutes": round((time.perf_counter() - start) / 60, 2), "calls": phrases, **heard}
        if jack_log:
            out["conversation"]["jack_log"] = blame(missed_cycles(_log_lines(jack_log)[len(log_before):]))
    finally:
        if lb is not None:
            lb.close()
        on.stop()
        if off is not None:
            off.stop()
    return out


def _log_lines(path: str | None) -> list[str]:
    if not path:
        return []
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def bench_audio(model: str, minutes: float = 10.0, jack_log: str | None = None) -> dict:
    system.list_ports(system.api_id("jack"))  # no server: one line saying so, before anything starts
    return {"jack": _jack_period(), "onset": onsets(), **xruns_and_idle(model, minutes, jack_log)}
