"""`livejam bench --jack`: livejam as a user runs it, in its own process, measured
from outside through a running JACK server, headless and with the TUI (in a
pseudo-terminal), in one run so the two compare directly.

For each: the process's CPU while idle (ports open, nothing played) and during a
conversation (by /proc, so Linux only), answer onset and answer timing as a DAW
sees them. This process is the keyboard and the DAW (loopback.py), timing by its
own wall clock at receipt.

- onset: from when the silence is up after the keyboard sent its last release
  (send time + the silence threshold) to the first answer note-on at the DAW
  client. It includes both trips through the server (keyboard -> livejam ->
  DAW), so it reads about one period more than livejam's own decision -> send.
- grid error: answer events are meant to lie on a 10 ms grid from the answer's
  first note; how far each arrives from that grid.
"""
from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from ..midi import system
from .loopback import Loopback

SILENCE = 0.3
ANSWER_SECONDS = 1.0


def _thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a process by thread group, from /proc (schedstat: nanoseconds
    on a CPU as the scheduler counts them, not tick samples): livejam's own threads
    (named by livejam/threads.py), the main thread (the TUI, or the headless printer), and
    the rest (JACK's client threads, Textual's input and output threads); and its
    child processes (the built-in synth's own process) in all."""
    out = {"livejam_threads": 0.0, "main_thread": 0.0, "other_threads": 0.0, "child_processes": 0.0}
    children = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                seconds = int(f.read().split()[0]) / 1e9
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children += [int(c) for c in f.read().split()]
        except (OSError, ValueError, IndexError):
            continue  # a thread that just ended
        group = "main_thread" if int(task) == pid else "livejam_threads" if comm.startswith("livejam-") else \
            "other_threads"
        out[group] += seconds
    for child in children:
        try:
            out["child_processes"] += sum(_thread_cpu(child).values())
        except OSError:
            pass  # it just ended
    return out


def _cpu_percent(pid: int, seconds: float, during=None) -> dict:
    """Percent of one core over `seconds` (or while `during` runs): in all and by thread group."""
    c0, w0 = _thread_cpu(pid), time.perf_counter()
    if during is None:
        time.sleep(seconds)
    else:
        during()
    c1, wall = _thread_cpu(pid), time.perf_counter() - w0
    by = {k: round(100 * (c1[k] - c0[k]) / wall, 2) for k in c0}
    return {"percent": round(sum(by.values()), 2), **by}


def jack_period() -> tuple[int, int] | None:
    """(frames per period, sample rate) of the running JACK server; None if unknown."""
    try:
        frames = int(subprocess.run(["jack_bufsize"], capture_output=True, text=True, timeout=10).stdout.split()[0])
        rate = int(subprocess.run(["jack_samplerate"], capture_output=True, text=True, timeout=10).stdout.split()[0])
        return frames, rate
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def _jack_period() -> str:
    found = jack_period()
    if found is None:
        return "unknown (jack_bufsize not found)"
    frames, rate = found
    return f"{frames} frames at {rate} Hz ({1000 * frames / rate:.2f} ms periods)"


def _pct(values, *ps) -> dict:
    a = np.asarray(values, dtype=float) * 1000
    if not len(a):
        return {f"p{p}_ms": None for p in ps}
    return {f"p{p}_ms": round(float(np.percentile(a, p)), 3) for p in ps}


class LivejamProcess:
    """`livejam play` in its own process: headless (stdout to a pipe) or the TUI
    (on a pseudo-terminal of a fixed size, drained so it never blocks)."""

    def __init__(self, model: str, tui: bool, size=(120, 36), extra: list[str] | None = None) -> None:
        self.settings = tempfile.NamedTemporaryFile(suffix=".toml", delete=False)  # never the user's own
        env = {**os.environ, "LIVEJAM_SETTINGS": self.settings.name, "TERM": "xterm-256color",
               "COLUMNS": str(size[0]), "LINES": str(size[1])}
        argv = [sys.executable, "-m", "livejam.app.cli", "play", "--api", "jack", "--virtual", "--model", model,
                "--seed", "0", "--silence", str(SILENCE), "--answer-seconds", str(ANSWER_SECONDS), "--no-record",
                *([] if tui else ["--json"]), *(extra or [])]
        if tui:
            if sys.platform == "win32":  # (a check mypy --platform win32 reads)
                raise RuntimeError("the TUI bench runs livejam on a pseudo-terminal: POSIX only")
            master, slave = pty.openpty()
            import fcntl
            import struct
            import termios

            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                         start_new_session=True)
            os.close(slave)
            self.fd = master
        else:
            r, w = os.pipe()
            self.proc = subprocess.Popen(argv + ["--headless"], stdout=w, stderr=w, env=env)
            os.close(w)
            self.fd = r
        self.output = bytearray()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def connect(self, timeout: float = 60.0) -> Loopback:
        """The keyboard and DAW, once livejam's ports exist."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"livejam exited: {bytes(self.output[-2000:]).decode(errors='replace')}")
            try:
                return Loopback(system.api_id("jack"), system.VIRTUAL_IN, system.VIRTUAL_OUT, name="bench", poll=0.0002)
            except Exception:
                time.sleep(0.2)
        raise RuntimeError("livejam's ports did not appear")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        finally:
            os.unlink(self.settings.name)


def _conversation(lb: Loopback, phrases: int, gap: float) -> list[tuple[float, float]]:
    """Play `phrases` calls, one every `gap` seconds; (call's last release, next call's start) each."""
    spans = []
    t0 = time.perf_counter() + 0.2
    for i in range(phrases):
        time.sleep(max(0.0, t0 + i * gap - time.perf_counter()))
        released = lb.play([60 + i % 12, 64, 67], each=0.08)
        spans.append((released, t0 + (i + 1) * gap))
    time.sleep(max(0.0, t0 + phrases * gap - time.perf_counter()))
    return spans


def _timings(lb: Loopback, spans) -> dict:
    onsets, grid, answered = [], [], 0
    got = [(t, m) for t, m in lb.messages() if m.type in ("note_on", "note_off")]
    for released, until in spans:
        mine = [(t, m) for t, m in got if released < t < until]
        ons = [t for t, m in mine if m.type == "note_on" and m.velocity > 0]
        if not ons:
            continue
        answered += 1
        first = ons[0]
        onsets.append(first - (released + SILENCE))
        for t, _ in mine:
            k = (t - first) / 0.01
            grid.append(abs(k - round(k)) * 0.01)
    return {"answered": answered, "onset": _pct(onsets, 50, 95), "grid_error": _pct(grid, 50, 99),
            "answer_events": len(grid)}


def bench_process(model: str, tui: bool, phrases: int, idle_seconds: float, gap: float = 2.0) -> dict:
    lj = LivejamProcess(model, tui)
    lb = None
    try:
        lb = lj.connect()
        time.sleep(2.0)  # let start-up (model load, first draw) finish before measuring idle
        idle = _cpu_percent(lj.proc.pid, idle_seconds)
        spans: list = []
        busy = _cpu_percent(lj.proc.pid, 0, during=lambda: spans.extend(_conversation(lb, phrases, gap)))
        timings = _timings(lb, spans)
    finally:
        if lb is not None:
            lb.close()
        rc = lj.stop()
    out = {"idle_cpu": idle, "conversation_cpu": busy, **timings, "exit_code": rc}
    if not tui:  # the headless run says its own figures as it stops (--json)
        for line in bytes(lj.output).decode(errors="replace").splitlines():
            if line.startswith('{"event": "stopped"'):
                f = json.loads(line)["figures"]
                out["livejam_own"] = {"onset_decision_to_send_p95_ms": f["onset_ms_p95"],
                                      "send_vs_deadline_p50_ms": f["send_late_ms_p50"],
                                      "send_vs_deadline_p99_ms": f["send_late_ms_p99"], "late_events": f["late"]}
    return out


def bench_live(model: str, phrases: int = 30, idle_seconds: float = 20.0) -> dict:
    """Headless and TUI, one after the other, the same calls into each."""
    system.list_ports(system.api_id("jack"))  # no server: one line saying so, before anything starts
    headless = bench_process(model, tui=False, phrases=phrases, idle_seconds=idle_seconds)
    with_tui = bench_process(model, tui=True, phrases=phrases, idle_seconds=idle_seconds)
    diff = None
    if headless["onset"]["p95_ms"] is not None and with_tui["onset"]["p95_ms"] is not None:
        diff = round(with_tui["onset"]["p95_ms"] - headless["onset"]["p95_ms"], 3)
    return {"jack": _jack_period(), "phrases": phrases, "silence_s": SILENCE, "answer_s": ANSWER_SECONDS,
            "headless": headless,
            "tui": with_tui, "tui_minus_headless_onset_p95_ms": diff}


if __name__ == "__main__":  # a quick look: python -m livejam.bench.live [phrases]
    from ..model.onnx_model import DEFAULT_MODEL

    print(json.dumps(bench_live(str(DEFAULT_MODEL), int(sys.argv[1]) if len(sys.argv) > 1 else 10), indent=2))
