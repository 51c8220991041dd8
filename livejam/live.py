"""Wiring for a live run: ports, engine, recorder and port watcher from a config,
and an orderly shutdown. The headless loop and the TUI both start from here."""
from __future__ import annotations

import sys

from . import ports
from .clock import RealClock
from .config import LivejamConfig
from .engine import Engine
from .errors import LivejamError
from .recorder import SessionRecorder
from .session import DEFAULT_MODEL, ModelSession


class LiveRig:
    def __init__(self, cfg: LivejamConfig) -> None:
        self.cfg = cfg
        self.clock = RealClock()
        self.notes: list[str] = []  # things worth telling the player at start
        self.session = ModelSession(cfg.model or DEFAULT_MODEL)
        self.api = ports.api_id(cfg.api)
        ins, outs = ports.list_ports(self.api)
        virtual = cfg.virtual or not (cfg.inputs or cfg.output)
        if virtual and not ports.virtual_supported(self.api):
            if cfg.virtual:
                raise LivejamError("Windows MIDI (WinMM) has no virtual ports; install a loopback driver such as loopMIDI and pass --in/--out")
            virtual = False
            self.notes.append("WinMM has no virtual ports: using hardware ports (a loopback driver such as loopMIDI gives a DAW one)")
        in_names = list(cfg.inputs)
        out_name = cfg.output or None
        if not virtual:
            if not in_names:
                if not ins:
                    raise LivejamError("no MIDI input found; plug in a keyboard, or use --virtual")
                in_names = [ins[0]]
                self.notes.append(f"no --in given: using the first input, {ins[0]}")
            if out_name is None:
                if not outs:
                    raise LivejamError("no MIDI output found; connect a synth, or use --virtual")
                out_name = outs[0]
                self.notes.append(f"no --out given: using the first output, {outs[0]}")
        self.recorder = SessionRecorder(cfg.record_dir or None, self.clock) if cfg.record else None
        self.output = ports.OutputPort(self.api, out_name)
        self.engine = Engine(cfg, self.session, self.output, self.clock, self.recorder)
        sink = self.engine.feed_midi
        self.inputs = [ports.InputPort(self.api, name, sink, self.clock) for name in in_names]
        if not self.inputs:
            self.inputs.append(ports.InputPort(self.api, None, sink, self.clock))
        self.watcher = ports.PortWatcher(self.api, [*self.inputs, self.output], self._port_event)

    def _port_event(self, kind: str, name: str) -> None:
        if kind == "port_lost":
            self.engine.command("panic")  # whatever was sounding there is cut off now
        self.engine.emit(kind, port=name)

    def describe(self) -> dict:
        return {"model": str(self.session.path), "api": ports.api_name(self.api),
                "inputs": [p.name for p in self.inputs], "output": self.output.name,
                "recording": str(self.recorder.path) if self.recorder else None}

    def start(self) -> None:
        self.engine.start()
        self.watcher.start()

    def stop(self) -> None:
        """Release every note, send the panic CCs, save the recording, close ports."""
        self.watcher.stop()
        for p in self.inputs:
            p.close()
        self.engine.stop()
        self.output.close()


def fail(exc: LivejamError) -> None:
    print(f"livejam: {exc}", file=sys.stderr)
    sys.exit(2)
