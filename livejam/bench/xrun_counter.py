"""The bench's ear on a long conversation through the built-in synth, in a process
of its own (`python -m livejam.bench.xrun_counter PORT`): the cycles it missed and
the seconds of sound it heard."""
from __future__ import annotations

import gc
import json
import subprocess
import sys
import time

import numpy as np

QUIET = 1e-6  # sound: a note's first sample is above this (its attack starts at once)


class XrunCounter:
    """A JACK client on one audio port, in a process of its own: counts the cycles
    it missed (JACK's frame clock) and the seconds of sound it heard, keeping no
    audio. In the bench's own process, its Python callback waited for the
    interpreter lock the keyboard, the DAW and the bench hold, and its list of
    blocks grew for ten minutes: it missed cycles of its own, which jackd counted
    with the rest."""

    def __init__(self, source: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "livejam.bench.xrun_counter", source],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self.proc.stdout.readline().strip()
        if ready != "ready":
            self.proc.kill()
            raise RuntimeError(f"the bench's xrun counter did not start ({ready or 'it said nothing'})")

    def result(self) -> dict:
        """Stops listening: {"cycles_it_missed": n, "heard_s": seconds}."""
        self.proc.stdin.close()
        line = self.proc.stdout.readline()
        self.proc.wait(timeout=20)
        return json.loads(line)


def _count(source: str) -> None:
    import jack

    client = jack.Client("bench-xrun-count", no_start_server=True)
    port = client.inports.register("in")
    seen = {"frame": None, "missed": 0, "loud": 0}

    def process(frames: int) -> None:
        frame = client.last_frame_time
        if seen["frame"] is not None and frame - seen["frame"] > frames:
            seen["missed"] += 1
        seen["frame"] = frame
        seen["loud"] += int(np.count_nonzero(np.abs(port.get_array()) > QUIET))

    client.set_process_callback(process)
    end = time.perf_counter() + 60
    while not client.get_ports(source) and time.perf_counter() < end:
        time.sleep(0.2)  # the synth's port may be a moment behind livejam's MIDI ports
    gc.collect()
    gc.freeze()  # as the synth's process does: no full collection inside the callback
    client.activate()
    client.connect(source, port.name)
    print("ready", flush=True)
    sys.stdin.read()  # until the bench closes it
    rate = client.samplerate  # 0 once closed
    client.deactivate()
    client.close()
    print(json.dumps({"cycles_it_missed": seen["missed"], "heard_s": round(seen["loud"] / rate, 1)}), flush=True)


if __name__ == "__main__":
    _count(sys.argv[1])
