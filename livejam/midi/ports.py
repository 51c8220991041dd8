"""MIDI ports opened by livejam: an input whose path only timestamps and enqueues,
an output, each opened by name (re-opened by name when it comes back) or virtual.

Input path: python-rtmidi 1.5.8's JACK input garbles ~2% of messages arriving in
one server period when a callback is set (a chord can arrive as one note three
times); polling MidiIn.get_message() from a thread garbled none, so JACK input
is polled (every 1 ms while playing, less often after a rest; the --clock port
every 8 ms, each message timed by when it reached the server: stamps.py). Other
backends use rtmidi's callback.

Closing a callback input: python-rtmidi 1.5.8 holds the interpreter lock through
close_port(), and RtMidi's close waits for its input thread (ALSA joins it; WinMM's
midiInReset returns buffers through the callback; CoreMIDI's port dispose is taken
to wait on its read proc as well), which may be inside our callback waiting for
that lock: a quit or port switch while a DAW's clock streams in would hang. So the
callback is cancelled first and the lock let go until none is in flight (`_drain`).
"""
from __future__ import annotations

import gc
import threading
import time
from typing import Callable

import mido

from ..errors import LivejamError
from ..threads import name_this_thread
from . import system
from .stamps import ArrivalStamps
from .system import VIRTUAL_IN, VIRTUAL_OUT, api_name, client, resolve

# JACK input poll interval by how long the input has been quiet: (quiet for at least, poll every).
POLL_STEPS = ((0.0, 0.001), (1.0, 0.004), (10.0, 0.008))
# The --clock port on JACK: its messages are timed from rtmidi's deltas (stamps.py), so
# it is read at the idle pace, ticks or not (at 1 ms, following a clock cost 4 % of a core).
CLOCK_POLL = 0.008
CLOCK_TYPES = frozenset({"clock", "start", "stop", "continue", "songpos"})  # MIDI clock and transport
# Before closing a callback input: the lock is let go this long at a time until a
# whole such wait saw no callback run (a callback waiting for the lock takes it at
# once), at most DRAIN_SECONDS.
DRAIN_QUIET, DRAIN_SECONDS = 0.01, 0.5


class ByName:
    """What the port watcher asks of a port: `wanted` (a name, or None: virtual),
    `name` (what it opened), `connected`, `kind` ("in" / "out")."""

    kind = ""

    def present(self, ports: list[str]) -> bool:
        """Open: is the very port we opened still listed (another device whose name
        also holds the wanted words must not hide its loss)? Lost: would the wanted
        name open one port again (ALSA may bring it back under a new client number)?"""
        if self.wanted is None:
            return True
        if self.connected:
            return self.name in ports
        try:
            resolve(self.wanted, ports, "input" if self.kind == "in" else "output")
        except LivejamError:
            return False
        return True


class _Port(ByName):
    """A port opened by name (re-opened by name when it comes back) or a virtual one."""

    def __init__(self, api: int, wanted: str | None, virtual_name: str) -> None:
        self.api, self.wanted = api, wanted
        # The watcher closes and re-opens the rtmidi port while the scheduler sends or
        # the input thread reads: one lock around every use of it.
        self.lock = threading.RLock()
        self.midi = client(self.kind, api)
        self.connected = False
        if wanted is None:
            self._guard(lambda: self.midi.open_virtual_port(virtual_name))
            self.name = virtual_name
            self.connected = True
        else:
            self.name = wanted
            self.reopen(raise_errors=True)

    def _guard(self, fn):
        rt = system.rtmidi_module()
        what = "input" if self.kind == "in" else "output"
        try:
            return fn()
        except rt.RtMidiError as exc:
            raise LivejamError(f"could not open MIDI {what} {self.wanted or ''}: {exc} (is another program holding it?)") from exc

    def reopen(self, raise_errors: bool = False) -> bool:
        with self.lock:
            return self._reopen(raise_errors)

    def _before_close(self) -> None:
        """What must happen before the rtmidi port closes (an input's callback drained)."""

    def _reopen(self, raise_errors: bool) -> bool:
        try:
            idx = resolve(self.wanted, self.midi.get_ports(), "input" if self.kind == "in" else "output")
            if self.midi.is_port_open():
                self._before_close()
                system.close_port(self.midi, self.api)
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
                self._before_close()
                system.close_port(self.midi, self.api)

    def close(self, process_ends: bool = False) -> None:
        """process_ends: this process is on its way out (system.close_client)."""
        with self.lock:
            self.connected = False
            self._before_close()
            system.close_client(self.midi, self.api, process_ends)


class InputPort(_Port):
    """One input. Calls sink(msg, time) from its own thread (or rtmidi's); sink
    must only enqueue."""

    kind = "in"

    def __init__(self, api: int, wanted: str | None, sink: Callable, clock, virtual_name: str = VIRTUAL_IN,
                 timing: bool = False) -> None:
        self.sink, self.clock = sink, clock
        self.poll = api_name(api) == "jack"
        self.calls, self.inside = 0, 0  # callbacks begun, and running now (for _drain)
        self.retired: list[tuple] = []
        # JACK's clock port: arrival times from rtmidi's deltas, which only hold when
        # rtmidi filters nothing (it counts a filtered event's time too); the port
        # passes on the clock's messages only.
        self.stamps = ArrivalStamps() if self.poll and timing else None
        super().__init__(api, wanted, virtual_name)
        if self.stamps is not None:
            self.midi.ignore_types(sysex=False, timing=False, active_sense=False)
        else:  # MIDI clock only from the --clock port (timing=True); elsewhere it is noise.
            self.midi.ignore_types(sysex=True, timing=not timing, active_sense=True)
        self.running = True
        if self.poll:
            self.thread = threading.Thread(target=self._poll, name="livejam-input", daemon=True)
            self.thread.start()
        else:
            self.midi.set_callback(self._callback)

    def _reopen(self, raise_errors: bool) -> bool:
        opened = super()._reopen(raise_errors)
        if opened and self.stamps is not None:
            self.stamps.reset()
        if opened and not self.poll:
            # python-rtmidi's close_port() cancels the callback: without this, a
            # keyboard that comes back on ALSA, CoreMIDI or WinMM would be deaf.
            self.midi.set_callback(self._callback)
        return opened

    def _deliver(self, data, t: float | None = None) -> None:
        try:
            msg = mido.Message.from_bytes(data)
        except (ValueError, TypeError):
            return  # malformed input is dropped here, never raised
        if self.stamps is not None and msg.type not in CLOCK_TYPES:
            return  # a sysex or active sensing the clock port let through for its timing
        self.sink(msg, self.clock.now() if t is None else t)

    def _callback(self, event, _data=None) -> None:
        self.calls += 1
        self.inside += 1
        try:
            self._deliver(event[0])
        finally:
            self.inside -= 1

    def _before_close(self) -> None:
        if not self.poll:
            # python-rtmidi frees the (function, data) tuple its C callback reads when it
            # cancels; one already dispatched would read it freed: the last few are kept.
            kept = [o for o in gc.get_referents(self.midi) if isinstance(o, tuple) and o[:1] == (self._callback,)]
            self.retired = (self.retired + kept)[-4:]
            self.midi.cancel_callback()  # no callback starts after this
            self._drain()

    def _drain(self) -> None:
        """Let the interpreter lock go until no callback is in flight (see the top)."""
        end = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < end:
            seen = self.calls
            time.sleep(DRAIN_QUIET)
            if self.inside == 0 and self.calls == seen:
                return

    def _poll(self) -> None:
        name_this_thread()
        last = 0.0
        while self.running:
            with self.lock:
                event = self.midi.get_message() if self.connected else None
                t = self.stamps.stamp(event[1], self.clock.now()) if event and self.stamps else None
            if event is None:
                # Every 1 ms while playing, 4 ms after a quiet second, 8 ms after ten: an
                # idle livejam costs next to nothing, and only the first note after a
                # long rest can wait a little (under one 10 ms step of the model's grid).
                quiet = time.perf_counter() - last
                time.sleep(CLOCK_POLL if self.stamps else next(s for q, s in reversed(POLL_STEPS) if quiet >= q))
                continue
            last = time.perf_counter()
            self._deliver(event[0], t)

    def close(self, process_ends: bool = False) -> None:
        self.running = False
        if self.poll:
            self.thread.join(timeout=1)
        super().close(process_ends)  # (a callback input is drained first: _before_close)


class OutputPort(_Port):
    """The answer output (the Output interface of outputs.py), hardware or virtual."""

    kind = "out"

    def __init__(self, api: int, wanted: str | None, virtual_name: str = VIRTUAL_OUT) -> None:
        super().__init__(api, wanted, virtual_name)  # only the default name differs

    def send(self, msg: mido.Message) -> None:
        with self.lock:
            if not self.connected:
                raise LivejamError(f"MIDI output {self.name} is gone")
            self.midi.send_message(msg.bytes())
