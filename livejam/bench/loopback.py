"""A keyboard and a DAW on the MIDI server, for end-to-end tests and the bench:
plays into livejam's input port, records livejam's output port with the wall
clock at the receiving client (rtmidi's own timestamps come from the server's
frame counter, which drifts from wall time on the dummy driver).

On JACK the two ports are opened once per process and patched to each livejam in
turn (with JACK-Client, from a client that holds no ports), never unregistered
between uses: closing them just after livejam left the graph is when libjack can
crash (midi/jack_settle.py), and a quitting livejam leaves the graph after its
process ends, when no settling on our side can see it coming."""
from __future__ import annotations

import re
import threading
import time

import mido

from ..midi import system
from ..midi.jack_settle import settle


class _JackPorts:
    """One process's keyboard and DAW ports on JACK, under one client name, kept
    for the process's life; `patch` connects them by full name."""

    _pool: dict[tuple[str, bool], "_JackPorts"] = {}
    _lock = threading.Lock()

    @classmethod
    def take(cls, api: int, name: str, timing: bool) -> "_JackPorts":
        with cls._lock:
            ports = cls._pool.pop((name, timing), None)
        return ports or cls(api, name, timing)

    def give_back(self) -> None:
        import jack

        for port in (self.keys_name, self.daw_name):
            for other in self.patch.get_all_connections(port):
                try:
                    self.patch.disconnect(*((port, other) if port == self.keys_name else (other, port)))
                except jack.JackError:
                    pass  # the other end has just left the graph, and its connection with it
        settle()  # the server has switched to the unpatched graph: nothing more arrives from the last peer
        self._drain()
        with self._lock:
            self._pool.setdefault((self.name, self.timing), self)

    def __init__(self, api: int, name: str, timing: bool) -> None:
        import jack

        self.name, self.timing = name, timing
        self.patch = jack.Client(name + "-patch", no_start_server=True)  # never activated: no process thread
        before = set(self._all())
        self.keys = system.client("out", api, name + "-keys")
        self.keys.open_virtual_port("keys")
        self.daw = system.client("in", api, name + "-daw")
        self.daw.ignore_types(sysex=False, timing=not timing, active_sense=True)
        self.daw.open_virtual_port("daw")
        mine = [p for p in self._all() if p not in before]
        # JACK renames a client whose name is taken ("tester-keys-01").
        self.keys_name = self._one(mine, name + "-keys", "keys")
        self.daw_name = self._one(mine, name + "-daw", "daw")

    def _drain(self) -> None:
        while self.daw.get_message() is not None:
            pass  # what the last peer sent before it was unpatched: not the next user's

    def _all(self) -> list[str]:
        return [p.name for p in self.patch.get_ports(is_midi=True)]

    @staticmethod
    def _one(names: list[str], client: str, port: str) -> str:
        pattern = re.compile(rf"^{re.escape(client)}(-\d+)?:{re.escape(port)}$")
        (found,) = [n for n in names if pattern.match(n)]
        return found

    def connect(self, into: str, listen: str) -> None:
        """Our keys into `into`, `listen` into our DAW; a LivejamError (the ports
        are not there yet) leaves nothing connected."""
        targets = [p.name for p in self.patch.get_ports(is_midi=True, is_input=True) if p.name != self.daw_name]
        sources = [p.name for p in self.patch.get_ports(is_midi=True, is_output=True) if p.name != self.keys_name]
        dst = targets[system.resolve(into, targets, "output")]
        src = sources[system.resolve(listen, sources, "input")]
        self.patch.connect(self.keys_name, dst)
        self.patch.connect(src, self.daw_name)
        settle()  # the server carries MIDI over them from now on: the first note played is not lost


class Loopback:
    def __init__(self, api: int, into: str, listen: str, name: str = "tester", poll: float = 0.001,
                 timing: bool = False) -> None:
        self.api = api
        self.poll = poll  # the bench polls every 0.2 ms to time answers; the tests need less and load the machine less
        self.jack = None
        if system.api_name(api) == "jack":
            self.jack = _JackPorts.take(api, name, timing)  # drained when it was given back
            self.keys, self.daw = self.jack.keys, self.jack.daw
        else:
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
        self.thread.start()  # before connecting: what arrives is timed as it arrives, not when a late reader starts
        if self.jack is not None:
            try:
                self.jack.connect(into, listen)
            except Exception:
                self.close()
                raise

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
        if self.jack is not None:
            self.jack.give_back()  # unpatched, kept: see the module's docstring
            return
        for m in (self.keys, self.daw):
            system.close_client(m, self.api)
