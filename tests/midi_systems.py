"""Faithful fakes of the MIDI systems musicians run (ALSA, CoreMIDI, WinMM), as
python-rtmidi presents them, for the paths JACK cannot prove. Each stands in for
the `rtmidi` module (livejam reaches it only through midi/system.py's
`rtmidi_module`), over a fake MIDI graph the test plugs devices into.

What each mimics, and where python-rtmidi 1.5.8 or its bundled RtMidi does it:
- Port names. ALSA: "client:port client_no:port_no", the client number handed out
  by the sequencer at each plug, so a replugged keyboard comes back under a new
  name (RtMidi.cpp, portName() used by MidiInAlsa/MidiOutAlsa::getPortName).
  CoreMIDI: the endpoint's name, the same after a replug (RtMidi.cpp,
  CreateEndpointName). WinMM: the device name plus its index in the list, to keep
  names unique (RtMidi.cpp, MidiInWinMM/MidiOutWinMM::getPortName), so a name
  moves when the list changes.
- Virtual ports. ALSA and CoreMIDI have them (RtMidi.cpp openVirtualPort);
  WinMM has none: python-rtmidi raises NotImplementedError (src/_rtmidi.pyx,
  MidiBase.open_virtual_port). On CoreMIDI a virtual source cannot see who
  listens to it (MIDISourceCreate in MidiOutCore::openVirtualPort).
- Input callbacks run on the system's own thread (RtMidi.cpp: alsaMidiHandler,
  midiInputCallback, midiInputCallback for WinMM), and `close_port()` cancels the
  callback (src/_rtmidi.pyx, MidiIn.close_port calls cancel_callback; the
  set_callback docstring: "safely removed when the input port is closed").
  get_message() gives nothing while a callback is set (RtMidi.cpp,
  MidiInApi::getMessage warns and returns).
- A port that vanishes (a cable pulled) is gone from get_ports() and sending to it
  raises (as livejam's issue 18 takes it for every system).
- Closing an input while a callback is in flight hangs: python-rtmidi's
  MidiIn.close_port holds the interpreter lock (src/_rtmidi.pyx: cancel_callback,
  then RtMidi's closePort, no `nogil`), and RtMidi waits for the thread that runs
  the callback (ALSA: pthread_join in MidiInAlsa::closePort; WinMM: midiInReset in
  MidiInWinMM::closePort, which returns buffers through the callback; CoreMIDI:
  MIDIPortDispose, taken to wait on the read proc too), while that thread waits for
  the lock in `_cb_func ... with gil`. The fake holds no lock, so it cannot hang:
  it records the hang in `graph.hangs`, and every test on a fake fails on one.

The watchdog process (livejam/midi/watchdog_process.py) runs on a thread here, so
that it too opens its port on the fake; its pipes are real OS pipes, and livejam
dying is its pipe closing without a `bye`, as the kernel closes it after kill -9.
"""
from __future__ import annotations

import os
import queue
import subprocess
import threading
import time

from tests.waiting import until  # noqa: F401  (the reliability tests import it from here)

API_UNSPECIFIED, API_MACOSX_CORE, API_LINUX_ALSA, API_UNIX_JACK, API_WINDOWS_MM = 0, 1, 2, 3, 4
NAMES = {API_MACOSX_CORE: "coremidi", API_LINUX_ALSA: "alsa", API_UNIX_JACK: "jack", API_WINDOWS_MM: "winmm"}
APIS = {v: k for k, v in NAMES.items()}


class RtMidiError(Exception):
    pass


class Device:
    """Hardware on the system: a keyboard (a source livejam reads) and/or a synth
    (a destination livejam sends to)."""

    def __init__(self, graph: "Graph", name: str, source: bool, destination: bool) -> None:
        self.graph, self.name, self.source, self.destination = graph, name, source, destination
        self.client = graph.next_client()
        self.received: list[list[int]] = []  # what the synth heard

    def play(self, *messages: list[int]) -> None:
        """The keyboard sends: every input opened on it hears it, on the system's thread."""
        for m in messages:
            self.graph.deliver(self, list(m))


class Graph:
    """One MIDI system's state: plugged devices, open ports, the delivery thread."""

    def __init__(self, api_name: str) -> None:
        self.api = APIS[api_name]
        self.kind = api_name
        self.devices: list[Device] = []
        self.virtual: list[tuple[str, "_Base"]] = []  # (port name as others see it, owner)
        self.clients = 20  # ALSA hands out client numbers from here, one per plug
        self.inputs: list["MidiIn"] = []
        self.hangs: list[str] = []  # closes that would hang a real system (see the top)
        self.lock = threading.RLock()
        self.inbox: queue.Queue = queue.Queue()
        threading.Thread(target=self._deliver_loop, name="fake-midi-system", daemon=True).start()

    # -- the test's side: the rig of hardware ---------------------------------
    def plug(self, name: str, source: bool = True, destination: bool = True) -> Device:
        with self.lock:
            dev = Device(self, name, source, destination)
            self.devices.append(dev)
            return dev

    def unplug(self, dev: Device) -> None:
        with self.lock:
            # Ports opened on it stay open as far as rtmidi knows (RtMidi's connected_
            # flag only changes in openPort/closePort); nothing arrives from it now.
            self.devices.remove(dev)

    def next_client(self) -> int:
        self.clients += 1
        return self.clients

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until everything played has been delivered."""
        done = threading.Event()
        self.inbox.put(done)
        assert done.wait(timeout)

    # -- names, as each system writes them -----------------------------------
    def port_name(self, dev: Device, index: int) -> str:
        if self.kind == "alsa":
            return f"{dev.name}:{dev.name} MIDI 1 {dev.client}:0"
        if self.kind == "winmm":
            return f"{dev.name} {index}"
        return dev.name

    def listing(self, want_sources: bool, me: "_Base") -> list[tuple[str, object]]:
        with self.lock:
            devs = [d for d in self.devices if (d.source if want_sources else d.destination)]
            out = [(self.port_name(d, i), d) for i, d in enumerate(devs)]
            # Virtual ports of others: a virtual output is a source, a virtual input a destination.
            for name, owner in self.virtual:
                if owner is not me and isinstance(owner, MidiOut) == want_sources:
                    out.append((name, owner))
            return out

    def virtual_name(self, client: str, port: str, owner: "_Base") -> str:
        if self.kind == "alsa":
            return f"{client}:{port} {self.next_client()}:0"
        return port

    # -- delivery on the system's own thread ---------------------------------
    def deliver(self, src, message: list[int]) -> None:
        self.inbox.put((src, message))

    def _deliver_loop(self) -> None:
        while True:
            item = self.inbox.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            src, message = item
            with self.lock:
                listeners = [i for i in self.inputs if i.opened is src]
            for i in listeners:
                i._receive(message)


class _Base:
    kind = ""

    def __init__(self, graph: Graph, rtapi: int = API_UNSPECIFIED, name: str = "RtMidi client") -> None:
        if rtapi not in (API_UNSPECIFIED, graph.api):
            raise RtMidiError(f"{NAMES.get(rtapi)} is not compiled in")
        self.graph, self.client_name = graph, name
        self.opened = None  # the Device (or virtual owner) this port is connected to
        self.virtual_port: str | None = None
        self.deleted = False

    def _check(self) -> None:
        if self.deleted:
            raise RuntimeError("use of a deleted MidiIn/MidiOut: python-rtmidi documents this as a crash")

    def get_ports(self) -> list[str]:
        self._check()
        return [n for n, _ in self.graph.listing(self.kind == "in", self)]

    def open_port(self, port: int = 0, name: str | None = None) -> None:
        self._check()
        listed = self.graph.listing(self.kind == "in", self)
        if self.is_port_open():
            raise RtMidiError("port already open")
        if not 0 <= port < len(listed):
            raise RtMidiError(f"invalid port number {port}")
        self.opened = listed[port][1]

    def open_virtual_port(self, name: str | None = None) -> None:
        self._check()
        if self.graph.kind == "winmm":
            raise NotImplementedError("Virtual ports are not supported by the Windows MultiMedia API.")
        self.virtual_port = self.graph.virtual_name(self.client_name, name or "", self)
        with self.graph.lock:
            self.graph.virtual.append((self.virtual_port, self))

    def is_port_open(self) -> bool:
        return self.opened is not None or self.virtual_port is not None

    def close_port(self) -> None:
        self._check()
        self.opened = None
        with self.graph.lock:
            self.graph.virtual = [(n, o) for n, o in self.graph.virtual if o is not self]
        self.virtual_port = None

    def delete(self) -> None:
        if not self.deleted:
            self.close_port()
        self.deleted = True


class MidiIn(_Base):
    kind = "in"

    def __init__(self, graph: Graph, rtapi: int = API_UNSPECIFIED, name: str = "RtMidi client") -> None:
        super().__init__(graph, rtapi, name)
        self.callback = None
        self.dispatching = 0  # callbacks running on the system's thread now
        self.queue: queue.Queue = queue.Queue()
        with graph.lock:
            graph.inputs.append(self)

    def ignore_types(self, sysex: bool = True, timing: bool = True, active_sense: bool = True) -> None:
        self.ignoring = (sysex, timing, active_sense)

    def set_callback(self, func, data=None) -> None:
        self._check()
        self.callback = (func, data)

    def cancel_callback(self) -> None:
        self.callback = None

    def close_port(self) -> None:
        self.cancel_callback()  # python-rtmidi: MidiIn.close_port cancels the callback, then closes
        if self.dispatching:
            self.graph.hangs.append(f"{self.client_name}: close_port while a callback was in flight")
        super().close_port()

    def get_message(self):
        if self.callback is not None:
            return None  # RtMidi: no queue while a callback is set
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            return None

    def _receive(self, message: list[int]) -> None:
        cb = self.callback
        if cb is not None:
            self.dispatching += 1
            try:
                cb[0]((message, 0.0), cb[1])
            finally:
                self.dispatching -= 1
        else:
            self.queue.put((message, 0.0))


class MidiOut(_Base):
    kind = "out"

    def send_message(self, message) -> None:
        self._check()
        dest = self.opened
        if self.virtual_port is not None:
            # Whoever listens to our virtual output hears it (CoreMIDI cannot tell us who).
            self.graph.deliver(self, list(message))
            return
        with self.graph.lock:
            here = dest in self.graph.devices
        if dest is None or not here:
            raise RtMidiError("MidiOut::sendMessage: the port is gone")
        dest.received.append(list(message))


class FakeRtmidi:
    """Stands in for the `rtmidi` module, over one Graph."""

    RtMidiError = RtMidiError
    API_UNSPECIFIED, API_MACOSX_CORE, API_LINUX_ALSA = API_UNSPECIFIED, API_MACOSX_CORE, API_LINUX_ALSA
    API_UNIX_JACK, API_WINDOWS_MM = API_UNIX_JACK, API_WINDOWS_MM

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def get_compiled_api(self) -> list[int]:
        return [self.graph.api]

    def get_api_name(self, api: int) -> str:
        return NAMES[api]

    def MidiIn(self, rtapi: int = API_UNSPECIFIED, name: str = "RtMidi client") -> MidiIn:  # noqa: N802
        return MidiIn(self.graph, rtapi, name)

    def MidiOut(self, rtapi: int = API_UNSPECIFIED, name: str = "RtMidi client") -> MidiOut:  # noqa: N802
        return MidiOut(self.graph, rtapi, name)


class WatchdogThread:
    """What livejam.midi.watchdog.spawn_process gives (a Popen), as a thread of this
    process: stdin a pipe to the watchdog, stdout its replies."""

    def __init__(self, argv: list[str]) -> None:
        from livejam.midi import watchdog_process

        to_it, self.fd = os.pipe()
        replies, to_us = os.pipe()
        self.stdin = os.fdopen(self.fd, "wb", buffering=0)
        self.stdout = os.fdopen(replies, "rb")
        self.returncode = None
        out = os.fdopen(to_us, "w", buffering=1)

        def say(line: str) -> None:
            out.write(line + "\n")

        def run() -> None:
            try:
                self.returncode = watchdog_process.run(argv, to_it, say)
            finally:
                os.close(to_it)
                out.close()

        self.thread = threading.Thread(target=run, name="fake-watchdog", daemon=True)
        self.thread.start()

    def wait(self, timeout: float | None = None) -> int | None:
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise subprocess.TimeoutExpired("watchdog", timeout)
        return self.returncode

    def kill(self) -> None:
        pass  # a thread cannot be killed; wait() already failed


SYSTEMS = ("alsa", "coremidi", "winmm")


def livejam_dies(rig) -> None:
    """What the kernel does when livejam is killed: its end of the watchdog's pipe
    closes (the watchdog a thread here, or a real process through JACK)."""
    rig.output.closing = True  # and nothing of livejam is left to start another
    rig.output.stdin.close()
    rig.output.proc.wait(5)


def install(monkeypatch, kind: str) -> Graph:
    """livejam's MIDI system is now this fake; returns its graph to plug devices into."""
    from livejam.midi import system

    from livejam.midi import watchdog

    graph = Graph(kind)
    fake = FakeRtmidi(graph)
    monkeypatch.setattr(system, "rtmidi_module", lambda: fake)
    monkeypatch.setattr(watchdog, "spawn_process", WatchdogThread)
    installed.append(graph)
    return graph


installed: list[Graph] = []  # the graphs of the test running: tests/conftest.py fails it on a hang
