"""Wiring for a live run: ports, engine, recorder and port watcher from a config,
and an orderly shutdown. The headless loop and the TUI both start from here."""
from __future__ import annotations

from . import ports
from .clock import RealClock
from .config import LivejamConfig
from .engine import Engine
from .errors import LivejamError
from .events import PortBack, PortLost, PortsChanged, Problem, SettingChanged
from .recorder import SessionRecorder
from .session import DEFAULT_MODEL, ModelSession
from .watchdog import Watchdog


class LiveRig:
    def __init__(self, cfg: LivejamConfig) -> None:
        self.cfg = cfg
        self.clock = RealClock()
        self.notes: list[str] = []  # things worth telling the player at start
        self.session = ModelSession(cfg.model or DEFAULT_MODEL)
        self.api, ins, outs = ports.find_system(cfg.api)
        can_virtual = ports.virtual_supported(self.api)
        if cfg.virtual and not can_virtual:
            raise LivejamError("Windows MIDI (WinMM) has no virtual ports; install a loopback driver such as loopMIDI and pass --in/--out")
        # A side not named gets a virtual port (a DAW connects to it), or where the
        # system has none, its first hardware port; either way we say which.
        for name in cfg.inputs:
            ports.resolve(name, ins, "input")  # fail early, with the list of ports
        in_names: list[str | None] = list(cfg.inputs)
        if cfg.virtual or not in_names:
            in_names.append(None if can_virtual else self._first(ins, "input", "plug in a keyboard"))
        if cfg.output:
            ports.resolve(cfg.output, outs, "output")
        out_name = cfg.output or (None if can_virtual else self._first(outs, "output", "connect a synth"))
        self.recorder = SessionRecorder(cfg.record_dir or None, self.clock) if cfg.record else None
        self.output = ports.OutputPort(self.api, out_name)
        self.engine = Engine(cfg, self.session, self.output, self.clock, self.recorder)
        self.inputs = [ports.InputPort(self.api, name, self.engine.feed_midi, self.clock) for name in in_names]
        self.clock_in = None  # --clock: the port MIDI clock comes from (a DAW, a drum machine)
        if cfg.clock:
            ports.resolve(cfg.clock, ins, "input")
            self.clock_in = ports.InputPort(self.api, cfg.clock, self.engine.feed_clock, self.clock, timing=True)
        self.watcher = ports.PortWatcher(self.api, self._watched(), self._port_event)
        self.watchdog: Watchdog | None = None
        self.channels = {cfg.channel - 1}  # every answer channel used: notes may sound on each

    def _first(self, available: list[str], what: str, hint: str) -> str:
        if not available:
            raise LivejamError(f"no MIDI {what} found and this MIDI system has no virtual ports; {hint}")
        self.notes.append(f"no {what} named: using the first one, {available[0]}")
        return available[0]

    def port_names(self) -> tuple[list[str], list[str]]:
        """Ports others offer (ours left out), for the device screen."""
        ins, outs = ports.list_ports(self.api)
        return [p for p in ins if ports.CLIENT not in p.split(":")[0]], [p for p in outs if ports.CLIENT not in p.split(":")[0]]

    def set_ports(self, inputs: list[str], output: str | None) -> None:
        """Switch ports while running: no note left sounding on the old output."""
        self.watcher.stop()
        wanted = list(inputs) or [None]  # none named: the virtual input
        if [p.wanted for p in self.inputs] != wanted:  # unchanged inputs keep their connections
            for p in self.inputs:
                p.close()
            self.inputs = [ports.InputPort(self.api, n, self.engine.feed_midi, self.clock) for n in wanted]
        if output != self.output.wanted:
            new = ports.OutputPort(self.api, output)
            old, self.output = self.engine.scheduler.replace_output(new, sorted(self.channels)), new
            old.close()
        self.cfg.inputs, self.cfg.output = list(inputs), output or ""
        self.watcher = ports.PortWatcher(self.api, self._watched(), self._port_event)
        self.watcher.start()
        self.engine.emit(PortsChanged, inputs=[p.name for p in self.inputs], output=self.output.name)

    def _watched(self) -> list:
        return [*self.inputs, self.output, *([self.clock_in] if self.clock_in else [])]

    def _port_event(self, kind: str, name: str) -> None:
        if kind == "port_lost":
            self.engine.command("panic")  # whatever was sounding there is cut off now
        if kind == "error":
            self.engine.emit(Problem, message=name)
        else:
            self.engine.emit(PortLost if kind == "port_lost" else PortBack, port=name)

    def describe(self) -> dict:
        return {"model": str(self.session.path), "api": ports.api_name(self.api),
                "inputs": [p.name for p in self.inputs], "output": self.output.name,
                "recording": str(self.recorder.path) if self.recorder else None,
                "tempo": self.engine.tempo.source if self.engine.tempo else None}

    def start(self) -> None:
        # Started first, so that from the first note something outside this process
        # can release what it leaves sounding if it dies without a goodbye.
        if Watchdog.supported():
            self.watchdog = Watchdog(ports.api_name(self.api), sorted(self.channels), self.output.port_name,
                                     self.output.name if self.output.wanted else None)
            self.engine.subscribe(self._tell_watchdog)
        else:
            self.notes.append("no watchdog on this system: if livejam is killed, `livejam panic` releases the synth")
        self.engine.start()
        self.watcher.start()

    def _tell_watchdog(self, event) -> None:
        # On the engine thread: a few bytes into a pipe, nothing that blocks.
        if isinstance(event, SettingChanged) and event.name == "channel":
            self.channels.add(event.value - 1)  # notes may still sound on the old one too
            self.watchdog.tell(f"channels {' '.join(map(str, sorted(self.channels)))}")
        elif isinstance(event, PortsChanged) and self.output.wanted:
            self.watchdog.tell(f"to {self.output.name}")

    def stop(self) -> None:
        """Release every note, send the panic CCs, save the recording, close ports."""
        self.watcher.stop()
        for p in self.inputs:
            p.close()
        if self.clock_in:
            self.clock_in.close()
        self.engine.stop()
        self.output.close()
        if self.watchdog is not None:
            self.watchdog.dismiss()  # everything is released: it may go home



class OfflineRig:
    """No MIDI system at all: the engine still runs, fed by the TUI's computer-keyboard
    piano; answers go nowhere audible but are drawn on the piano roll."""

    def __init__(self, cfg: LivejamConfig, reason: str, clock=None, session=None, output=None) -> None:
        from .output import NullOutput

        self.cfg, self.clock = cfg, clock or RealClock()
        self.session = session or ModelSession(cfg.model or DEFAULT_MODEL)
        self.api = None
        self.inputs: list = []
        self.output = output or NullOutput()
        self.recorder = SessionRecorder(cfg.record_dir or None, self.clock) if cfg.record else None
        self.engine = Engine(cfg, self.session, self.output, self.clock, self.recorder)
        self.notes = [reason]

    def describe(self) -> dict:
        return {"model": str(self.session.path), "api": "none", "inputs": ["computer keyboard"],
                "output": "none (no MIDI system)", "recording": str(self.recorder.path) if self.recorder else None,
                "tempo": self.engine.tempo.source if self.engine.tempo else None}

    def port_names(self) -> tuple[list[str], list[str]]:
        return [], []

    def start(self) -> None:
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()
