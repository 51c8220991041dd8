"""A keyboard and a DAW on the MIDI server, for end-to-end tests and the bench:
plays into livejam's input port, records livejam's output port with the wall
clock at the receiving client (rtmidi's own timestamps come from the server's
frame counter, which drifts from wall time on the dummy driver)."""
from __future__ import annotations

import threading
import time

import mido

from ..midi import system


class Loopback:
    def __init__(self, api: int, into: str, listen: str, name: str = "tester", poll: float = 0.001,
                 timing: bool = False) -> None:
        self.poll = poll  # the bench polls every 0.2 ms to time answers; the tests need less and load the machine less
        self.keys = system.client("out", api, name + "-keys")
        self.daw = system.client("in", api, name + "-daw")
        self.daw.ignore_types(sysex=False, timing=not timing, active_sense=True)  # timing: hear MIDI clock too
        try:
            self.keys.open_port(system.resolve(into, self.keys.get_ports(), "output"), "keys")
            self.daw.open_port(system.resolve(listen, self.daw.get_ports(), "input"), "daw")
        except Exception:
            # livejam's ports not there yet: a caller that tries again must not leave
            # these two clients in the server's graph (each one more thread per cycle).
            self.keys.delete()
            self.daw.delete()
            raise
        self.received: list[tuple[float, mido.Message]] = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while self.running:
            ev = self.daw.get_message()
            if ev is None:
                time.sleep(self.poll)
                continue
            t = time.perf_counter()
            with self.lock:
                self.received.append((t, mido.Message.from_bytes(ev[0])))

    def send(self, msg: mido.Message) -> float:
        self.keys.send_message(msg.bytes())
        return time.perf_counter()

    def play(self, pitches, each: float = 0.2, velocity: int = 80, channel: int = 0) -> float:
        """Play a line of notes; returns the time of the last release."""
        t = time.perf_counter()
        for p in pitches:
            self.send(mido.Message("note_on", note=p, velocity=velocity, channel=channel))
            time.sleep(each)
            t = self.send(mido.Message("note_off", note=p, channel=channel))
        return t

    def perform(self, timed: list[tuple[float, mido.Message]]) -> float:
        """Play (seconds from now, message) pairs at their times, as a player would;
        returns when the last went out."""
        start = sent = time.perf_counter()
        for t, msg in timed:
            delay = start + t - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = self.send(msg)
        return sent

    def messages(self, since: float = 0.0) -> list[tuple[float, mido.Message]]:
        with self.lock:
            return [(t, m) for t, m in self.received if t >= since]

    def wait_for(self, pred, timeout: float) -> bool:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if pred():
                return True
            time.sleep(0.01)
        return pred()

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=1)
        for m in (self.keys, self.daw):
            m.close_port()
            m.delete()
