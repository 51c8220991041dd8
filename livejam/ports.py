"""MIDI ports over python-rtmidi: list, open by name or unique substring, virtual
ports, an input path that only timestamps and enqueues, and re-opening a port
that vanished when it comes back. Every rtmidi error becomes one LivejamError line.

Input path: python-rtmidi 1.5.8's JACK input garbles ~2% of messages arriving in
one server period when a callback is set (a chord can arrive as one note three
times); polling MidiIn.get_message() from a thread garbled none, so JACK input
is polled (every 1 ms while playing, less often after a rest). Other backends use rtmidi's callback.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Callable

import mido

from .errors import LivejamError, NoMidiSystem
from .osthread import name_this_thread

CLIENT = "livejam"
VIRTUAL_IN, VIRTUAL_OUT = "livejam in", "livejam out"
# JACK input poll interval by how long the input has been quiet: (quiet for at least, poll every).
POLL_STEPS = ((0.0, 0.001), (1.0, 0.004), (10.0, 0.008))


def _rtmidi():
    import rtmidi

    return rtmidi


def api_id(name: str) -> int:
    rt = _rtmidi()
    table = {"alsa": rt.API_LINUX_ALSA, "jack": rt.API_UNIX_JACK, "coremidi": rt.API_MACOSX_CORE,
             "winmm": rt.API_WINDOWS_MM}
    if not name:
        name = "coremidi" if sys.platform == "darwin" else "winmm" if sys.platform.startswith("win") else "alsa"
    if name not in table:
        raise LivejamError(f"unknown MIDI API {name!r}; choose one of: {', '.join(table)}")
    if table[name] not in rt.get_compiled_api():
        have = ", ".join(rt.get_api_name(a) for a in rt.get_compiled_api()) or "none"
        raise LivejamError(f"this python-rtmidi was built without {name} (it has: {have}); use --api with one of those")
    return table[name]


def api_name(api: int) -> str:
    return _rtmidi().get_api_name(api)


@contextlib.contextmanager
def _quiet_stderr():
    """ALSA's and JACK's C libraries print their own lines when no server is
    there; we say it once, in our words, so hush file descriptor 2 meanwhile."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _client(kind: str, api: int, name: str = CLIENT):
    rt = _rtmidi()
    try:
        with _quiet_stderr():
            return (rt.MidiIn if kind == "in" else rt.MidiOut)(rtapi=api, name=name)
    except rt.RtMidiError as exc:
        raise NoMidiSystem(no_midi_system_message(api, exc)) from exc


def no_midi_system_message(api: int, exc: Exception | None = None) -> str:
    name = api_name(api)
    if name == "jack":
        return "no JACK server is running; start one (e.g. `jackd -d dummy` or QjackCtl) or use --api alsa"
    if name == "alsa":
        return "no ALSA sequencer (/dev/snd/seq is missing: `sudo modprobe snd-seq`, or in a container use --api jack with a JACK server)"
    return f"the {name} MIDI system is not available ({exc})"


def list_ports(api: int) -> tuple[list[str], list[str]]:
    i, o = _client("in", api, CLIENT + "-list"), _client("out", api, CLIENT + "-list")
    try:
        return i.get_ports(), o.get_ports()
    finally:
        i.delete()
        o.delete()


def find_system(name: str = "") -> tuple[int, list[str], list[str]]:
    """(api, input ports, output ports) of the MIDI system asked for by name; asked
    for none, the platform's own and then a running JACK server (on Linux a machine
    often has JACK without an ALSA sequencer). NoMidiSystem says why neither works."""
    api = api_id(name)
    try:
        return (api, *list_ports(api))
    except NoMidiSystem as first:
        if name or api_name(api) == "jack" or api_id("jack") not in _rtmidi().get_compiled_api():
            raise
        try:
            jack = api_id("jack")
            return (jack, *list_ports(jack))
        except (NoMidiSystem, LivejamError) as second:
            raise NoMidiSystem(f"{first}; and {second}") from None


def resolve(wanted: str, available: list[str], what: str) -> int:
    """Index of the port named `wanted`, or of the one port whose name contains it."""
    if wanted in available:
        return available.index(wanted)
    hits = [i for i, n in enumerate(available) if wanted.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    listed = "; ".join(available) or "none"
    if not hits:
        raise LivejamError(f"no MIDI {what} port matches {wanted!r} (ports: {listed}); see `livejam devices`")
    raise LivejamError(f"{wanted!r} matches several {what} ports ({'; '.join(available[i] for i in hits)}); give more of the name")


class _Port:
    """A port opened by name (re-opened by name when it comes back) or a virtual one."""

    kind = ""  # "in" / "out"

    def __init__(self, api: int, wanted: str | None, virtual_name: str) -> None:
        self.api, self.wanted = api, wanted
        # The watcher closes and re-opens the rtmidi port while the scheduler sends or
        # the input thread reads: one lock around every use of it.
        self.lock = threading.RLock()
        self.midi = _client(self.kind, api)
        self.connected = False
        # Our own port's name within our client (what JACK lists as "livejam:<this>").
        self.port_name = virtual_name if wanted is None else self.kind
        if wanted is None:
            self._guard(lambda: self.midi.open_virtual_port(virtual_name))
            self.name = virtual_name
            self.connected = True
        else:
            self.name = wanted
            self.reopen(raise_errors=True)

    def _guard(self, fn):
        rt = _rtmidi()
        what = "input" if self.kind == "in" else "output"
        try:
            return fn()
        except rt.RtMidiError as exc:
            raise LivejamError(f"could not open MIDI {what} {self.wanted or ''}: {exc} (is another program holding it?)") from exc

    def present(self, ports: list[str]) -> bool:
        return self.wanted is None or any(self.wanted.lower() in p.lower() for p in ports)

    def reopen(self, raise_errors: bool = False) -> bool:
        with self.lock:
            return self._reopen(raise_errors)

    def _reopen(self, raise_errors: bool) -> bool:
        try:
            idx = resolve(self.wanted, self.midi.get_ports(), "input" if self.kind == "in" else "output")
            if self.midi.is_port_open():
                self.midi.close_port()
            self._guard(lambda: self.midi.open_port(idx, self.kind))
            self.name = self.midi.get_ports()[idx]
            self.connected = True
        except LivejamError:
            if raise_errors:
                raise
            return False
        return True

    def lost(self) -> None:
        with self.lock:
            self.connected = False
            if self.midi.is_port_open():
                self.midi.close_port()

    def close(self) -> None:
        with self.lock:
            self.connected = False
            self.midi.close_port()
            self.midi.delete()


class InputPort(_Port):
    """One input. Calls sink(msg, time) from its own thread (or rtmidi's); sink
    must only enqueue."""

    kind = "in"

    def __init__(self, api: int, wanted: str | None, sink: Callable, clock, virtual_name: str = VIRTUAL_IN,
                 timing: bool = False) -> None:
        self.sink, self.clock = sink, clock
        super().__init__(api, wanted, virtual_name)
        # MIDI clock only from the --clock port (timing=True); elsewhere it is noise.
        self.midi.ignore_types(sysex=True, timing=not timing, active_sense=True)
        self.poll = api_name(api) == "jack"
        self.running = True
        if self.poll:
            self.thread = threading.Thread(target=self._poll, name="livejam-input", daemon=True)
            self.thread.start()
        else:
            self.midi.set_callback(self._callback)

    def _deliver(self, data) -> None:
        try:
            msg = mido.Message.from_bytes(data)
        except (ValueError, TypeError):
            return  # malformed input is dropped here, never raised
        self.sink(msg, self.clock.now())

    def _callback(self, event, _data=None) -> None:
        self._deliver(event[0])

    def _poll(self) -> None:
        name_this_thread()
        last = 0.0
        while self.running:
            with self.lock:
                event = self.midi.get_message() if self.connected else None
            if event is None:
                # Every 1 ms while playing, 4 ms after a quiet second, 8 ms after ten: an
                # idle livejam costs next to nothing, and only the first note after a
                # long rest can wait a little (under one 10 ms step of the model's grid).
                quiet = time.perf_counter() - last
                time.sleep(next(s for q, s in reversed(POLL_STEPS) if quiet >= q))
                continue
            last = time.perf_counter()
            self._deliver(event[0])

    def close(self) -> None:
        self.running = False
        if self.poll:
            self.thread.join(timeout=1)
        else:
            self.midi.cancel_callback()
        super().close()


class OutputPort(_Port):
    """The answer output (the Output interface of output.py), hardware or virtual."""

    kind = "out"

    def __init__(self, api: int, wanted: str | None, virtual_name: str = VIRTUAL_OUT) -> None:
        super().__init__(api, wanted, virtual_name)  # only the default name differs

    def send(self, msg: mido.Message) -> None:
        with self.lock:
            if not self.connected:
                raise LivejamError(f"MIDI output {self.name} is gone")
            self.midi.send_message(msg.bytes())


class PortWatcher:
    """Once a second: is every port opened by name still there? Report a loss,
    re-open it by name when it comes back. The app keeps running meanwhile."""

    def __init__(self, api: int, ports: list, report: Callable[[str, str], None], interval: float = 1.0) -> None:
        # Only ports opened by name can vanish and come back; virtual ones are ours.
        self.ports, self.report, self.interval = [p for p in ports if p.wanted is not None], report, interval
        self.probe_in = self.probe_out = None
        if self.ports:  # the probes are MIDI clients of their own: none when there is nothing to watch
            self.probe_in, self.probe_out = _client("in", api, CLIENT + "-watch"), _client("out", api, CLIENT + "-watch")
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="livejam-ports", daemon=True)

    def start(self) -> None:
        if self.ports:
            self.thread.start()

    def check(self) -> None:
        ins, outs = self.probe_in.get_ports(), self.probe_out.get_ports()
        for port in self.ports:
            here = port.present(ins if isinstance(port, InputPort) else outs)
            if port.connected and not here:
                port.lost()
                self.report("port_lost", port.name)
            elif not port.connected and here and port.reopen():
                self.report("port_back", port.name)

    def _run(self) -> None:
        name_this_thread()
        while not self.stop_event.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # the watcher must outlive a flaky MIDI system
                self.report("error", f"port check failed: {exc}")

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=2)
        for probe in (self.probe_in, self.probe_out):
            if probe is not None:
                probe.delete()


def virtual_supported(api: int) -> bool:
    return api_name(api) != "winmm"
