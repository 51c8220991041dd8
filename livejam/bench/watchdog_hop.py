"""What the watchdog's pass-through costs (`livejam bench --jack`): the same notes
sent straight to a JACK port (python-rtmidi in this process) and through the
watchdog process (a pipe write here, its send there), alternately, in one run;
a listening client times each arrival against its send.

A JACK client's messages go out at the start of the next server period, so each
arrival is rounded up to a period boundary; sends at random phases make the mean
of (arrival - send) unbiased, and the difference of the two means is the hop's
own cost. p95 is given too, as the issue asks: it moves by whole periods when a
hop crosses a boundary, which the mean says how often."""
from __future__ import annotations

import random
import threading
import time

import mido
import numpy as np

from ..midi import system
from ..midi.ports import OutputPort
from ..midi.watchdog import WatchedOutput
from .live import _jack_period, _pct


def bench_watchdog_hop(notes: int = 600) -> dict:
    api = system.api_id("jack")
    direct = OutputPort(api, None, virtual_name="hop direct")
    watched = WatchedOutput(api, None, virtual_name="hop watched")
    lb_direct = _Ears(api, "hop direct")
    lb_watched = _Ears(api, "hop watched")
    try:
        sent = {"direct": [], "watched": []}
        rng = random.Random(0)
        for i in range(notes):
            for kind, out in (("direct", direct), ("watched", watched)):
                msg = mido.Message("note_on" if i % 2 == 0 else "note_off", note=60 + (i // 2) % 12, velocity=64)
                sent[kind].append(time.perf_counter())
                out.send(msg)
            time.sleep(0.002 + rng.random() * 0.004)  # a random phase against the server period
        for ears in (lb_direct, lb_watched):
            ears.wait(notes)
        heard = {"direct": lb_direct.times(), "watched": lb_watched.times()}
    finally:
        lb_direct.close()
        lb_watched.close()
        direct.close()
        watched.close()
    out = {"jack": _jack_period(), "notes": notes}
    means = {}
    for kind in ("direct", "watched"):
        if len(heard[kind]) != len(sent[kind]):  # the server dropped some: pairs would not line up
            out[kind] = {"arrived": len(heard[kind]), "sent": len(sent[kind])}
            return out
        lat = np.array(heard[kind]) - np.array(sent[kind])
        means[kind] = float(lat.mean()) * 1000
        out[kind] = {"arrived": len(heard[kind]), "mean_ms": round(means[kind], 3), **_pct(lat, 50, 95, 99)}
    out["hop_mean_ms"] = round(means["watched"] - means["direct"], 3)
    out["hop_p95_ms"] = round(out["watched"]["p95_ms"] - out["direct"]["p95_ms"], 3)
    return out


class _Ears:
    """A client listening to one of our ports, stamping arrivals with the wall clock."""

    def __init__(self, api: int, port: str) -> None:
        self.api = api
        self.midi = system.client("in", api, "hop-ears")
        self.midi.open_port(system.resolve(port, self.midi.get_ports(), "input"), "ears")
        self.arrivals: list[float] = []
        self.running = True
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while self.running:
            if self.midi.get_message() is None:
                time.sleep(0.0001)
            else:
                self.arrivals.append(time.perf_counter())

    def wait(self, n: int, timeout: float = 5.0) -> None:
        end = time.perf_counter() + timeout
        while len(self.arrivals) < n and time.perf_counter() < end:
            time.sleep(0.01)

    def times(self) -> list[float]:
        return list(self.arrivals)

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=1)
        system.close_client(self.midi, self.api)
