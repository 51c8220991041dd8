"""Wiring for a live run: ports (the output through the watchdog), engine,
recorder and port watcher from a config, and an orderly shutdown. The headless
loop and the TUI both start from here (port_switch.py changes the ports of a
running rig; nomidi.py is the rig with no MIDI system at all)."""
from __future__ import annotations

import shlex
import threading

from ..midi import ports, system, watcher
from ..timing.wallclock import WallClock
from ..settings.config import LivejamConfig
from ..conversation.engine import Engine
from ..conversation.controls import starting_lines
from ..errors import LivejamError
from ..conversation.events import Notice, PortBack, PortLost, Problem, SettingChanged
from ..recording.recorder import SessionRecorder
from ..model.onnx_model import DEFAULT_MODEL, OnnxModel
from ..midi.watchdog import WatchedOutput
from . import synth_switch


def offer_in_background(rig) -> None:
    """Run the rig's `offer_later` (cli.py: a personal model worth trying) on a
    thread, and say what it finds: reading each model's card takes a moment, which
    neither the start nor the screen waits for."""
    find = getattr(rig, "offer_later", None)
    if find is None:
        return

    def run() -> None:
        line = find()
        if line:
            rig.engine.emit(Notice, message=line)

    threading.Thread(target=run, name="livejam-offer", daemon=True).start()


class LiveRig:
    offer_later = None  # what finds a line to offer once playing (cli.py), or None
    offer_synth = False  # offer the built-in synth if nobody listens (the TUI, when the player never chose)
    # The program ends with stop() (cli.py): its JACK input ports go with the process
    # rather than being unregistered (system.close_client). A rig in a test stays False.
    process_ends_on_stop = False

    def __init__(self, cfg: LivejamConfig) -> None:
        self.cfg = cfg
        self.clock = WallClock()
        self.notices: list[str] = []  # things worth telling the player at start
        self.model = OnnxModel(cfg.model or DEFAULT_MODEL)
        self.api, ins, outs = system.find_system(cfg.api)
        can_virtual = system.virtual_supported(self.api)
        if cfg.virtual and not can_virtual:
            raise LivejamError("Windows MIDI (WinMM) has no virtual ports; install a loopback driver such as loopMIDI and pass --in/--out")
        # A side not named gets a virtual port (a DAW connects to it), or where the
        # system has none, its first hardware port; either way we say which.
        for name in cfg.inputs:
            system.resolve(name, ins, "input")  # fail early, with the list of ports
        in_names: list[str | None] = list(cfg.inputs)
        if cfg.virtual or not in_names:
            in_names.append(None if can_virtual else self._first(ins, "input", "plug in a keyboard"))
        if cfg.output:
            system.resolve(cfg.output, outs, "output")
        out_name = cfg.output or (None if can_virtual else self._first(outs, "output", "connect a synth"))
        self.recorder = SessionRecorder(cfg.record_dir or None, self.clock) if cfg.record else None
        self.output = self.open_output(out_name)
        self.engine = Engine(cfg, self.model, self.output, self.clock, self.recorder)
        self.notices += starting_lines(self.engine)  # --prime, --split
        self.inputs = [ports.InputPort(self.api, name, self.engine.keyboard_sink(name), self.clock) for name in in_names]
        self.clock_port = None  # --clock: the port MIDI clock comes from (a DAW, a drum machine)
        if cfg.clock_port:
            system.resolve(cfg.clock_port, ins, "input")
            self.clock_port = ports.InputPort(self.api, cfg.clock_port, self.engine.feed_midi_clock, self.clock, timing=True)
        self.watcher = watcher.PortWatcher(self.api, self._watched(), self._port_event)
        synth_switch.attach(self)
        if not cfg.watchdog:
            self.notices.append("no watchdog (--no-watchdog): if livejam is killed, `livejam panic` releases the synth")
        self.channels = {cfg.channel - 1}  # every answer channel used: notes may sound on each

    def open_output(self, name: str | None):
        """The answer output: through the watchdog's process (which releases what
        sounds if livejam dies), or straight to the port with --no-watchdog."""
        if not self.cfg.watchdog:
            return ports.OutputPort(self.api, name)
        return WatchedOutput(self.api, name, on_restart=self._watchdog_restarted, on_lost=self._output_failed)

    def _watchdog_restarted(self, line: str) -> None:
        self.engine.emit(Problem, message=line)
        self.engine.command("panic")  # what the dead one left sounding, through the new one

    def _output_failed(self, why: str, back: bool) -> None:
        """The watchdog's port failed a send (said once), or sends again."""
        name = self.output.name
        if back:
            self.engine.emit(Problem, message=f"MIDI output {name} works again; everything released")
            self.engine.command("panic")  # what the failed sends left sounding
        else:
            self.engine.emit(Problem, message=f"MIDI output {name} failed a send ({why}); "
                                              "livejam keeps sending and says when it works again")

    def _first(self, available: list[str], what: str, hint: str) -> str:
        if not available:
            raise LivejamError(f"no MIDI {what} found and this MIDI system has no virtual ports; {hint}")
        self.notices.append(f"no {what} named: using the first one, {available[0]}")
        return available[0]

    def port_names(self) -> tuple[list[str], list[str]]:
        """Ports others offer (ours left out), for the device screen."""
        ins, outs = system.list_ports(self.api)
        return [p for p in ins if system.CLIENT not in p.split(":")[0]], [p for p in outs if system.CLIENT not in p.split(":")[0]]

    def watch_ports(self) -> None:
        """(Re)start the watcher over the ports open now."""
        self.watcher = watcher.PortWatcher(self.api, self._watched(), self._port_event)
        self.watcher.start()

    def _watched(self) -> list:
        return [*self.inputs, self.output, *([self.clock_port] if self.clock_port else [])]

    def _port_event(self, kind: str, name: str) -> None:
        if kind == "port_lost":
            self.engine.command("panic")  # whatever was sounding there is cut off now
        if kind == "error":
            self.engine.emit(Problem, message=name)
        else:
            self.engine.emit(PortLost if kind == "port_lost" else PortBack, port=name)

    def describe(self) -> dict:
        return {"model": str(self.model.path), "api": system.api_name(self.api), "midi": system.in_words(self.api),
                "inputs": [p.name for p in self.inputs], "output": self.output.name,
                "recording": str(self.recorder.path) if self.recorder else None,
                "tempo": self.engine.tempo.source if self.engine.tempo else None}

    def start(self) -> None:
        self.engine.subscribe(self._note_channel)
        self.engine.start()
        self.watcher.start()
        offer_in_background(self)
        if self.offer_synth:
            synth_switch.offer_in_background(self)

    def _note_channel(self, event) -> None:
        if isinstance(event, SettingChanged) and event.name == "channel":
            self.channels.add(event.value - 1)  # notes may still sound on the old one too: a switch panics both

    def toggle_synth(self) -> None:
        synth_switch.toggle(self)  # the TUI's S, on a thread of its own

    def stop(self) -> None:
        """Release every note, send the panic CCs, save the recording, close ports."""
        synth_switch.detach(self)
        self.watcher.stop()
        for p in self.inputs:
            p.close(self.process_ends_on_stop)
        if self.clock_port:
            self.clock_port.close(self.process_ends_on_stop)
        self.engine.stop()
        handed = self.output.close()  # everything is released: the watchdog goes home quietly
        # False: the watchdog did not take or send them all (stuck, or its port failing)
        self.released = self.engine.released and handed is not False

    released = True  # after stop(): did every last release reach the output?

    def stopped_line(self) -> str:
        """What is said on the way out: "every note released" only when it was."""
        if self.released:
            return "stopped: every note released"
        panic = "livejam panic" + (f" --out {shlex.quote(self.cfg.output)}" if self.cfg.output else "")
        return (f"stopped, but the last releases did not all reach {self.output.name}; if a synth still sounds, "
                f"run `{panic}`")
