"""The rig with no MIDI system at all: the engine still runs, fed by the TUI's
computer-keyboard piano; answers go nowhere audible but are drawn on the piano roll."""
from __future__ import annotations

from ..conversation.controls import starting_lines
from ..conversation.engine import Engine
from ..midi.outputs import NullOutput
from ..model.onnx_model import DEFAULT_MODEL, OnnxModel
from ..recording.recorder import SessionRecorder
from ..settings.config import LivejamConfig
from ..timing.wallclock import WallClock
from . import synth_switch


class NoMidiRig:
    offer_later = None  # what finds a line to offer once playing (cli.py), or None
    offer_synth = False  # offer the built-in synth (the TUI, when the player never chose)

    def __init__(self, cfg: LivejamConfig, reason: str, clock=None, model=None, output=None) -> None:
        self.cfg, self.clock = cfg, clock or WallClock()
        self.model = model or OnnxModel(cfg.model or DEFAULT_MODEL)
        self.api = None
        self.inputs: list = []
        self.output = output or NullOutput()
        self.recorder = SessionRecorder(cfg.record_dir or None, self.clock) if cfg.record else None
        self.engine = Engine(cfg, self.model, self.output, self.clock, self.recorder)
        self.notices = [reason]
        self.notices += starting_lines(self.engine)  # --prime, --split
        synth_switch.attach(self)  # with no MIDI system at all, the built-in synth is how livejam is heard

    def describe(self) -> dict:
        return {"model": str(self.model.path), "api": "none", "inputs": ["computer keyboard"],
                "output": "none (no MIDI system)", "recording": str(self.recorder.path) if self.recorder else None,
                "tempo": self.engine.tempo.source if self.engine.tempo else None}

    def port_names(self) -> tuple[list[str], list[str]]:
        return [], []

    def start(self) -> None:
        from .rig import offer_in_background

        self.engine.start()
        offer_in_background(self)
        if self.offer_synth:
            synth_switch.offer_in_background(self)

    def toggle_synth(self) -> None:
        synth_switch.toggle(self)  # the TUI's S, on a thread of its own

    released = True

    def stopped_line(self) -> str:
        return "stopped: every note released"

    def stop(self) -> None:
        synth_switch.detach(self)
        self.engine.stop()
