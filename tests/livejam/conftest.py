"""Fixtures for the runtime: a small real ONNX model (random weights, exported by
our exporter) and an engine on a fake clock with a recording output."""
from __future__ import annotations

import mido
import pytest

from livejam.timing.wallclock import FakeClock
from livejam.settings.config import LivejamConfig
from livejam.offline import driver
from livejam.conversation.engine import Engine
from livejam.conversation.events import Planned, StateChanged
from livejam.midi.outputs import RecordingOutput
from livejam.model.onnx_model import OnnxModel


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    import torch

    from training.export import export
    from training.model import ModelConfig, PerformanceGRU

    tmp = tmp_path_factory.mktemp("tiny_model")
    torch.manual_seed(0)
    model = PerformanceGRU(ModelConfig(embedding=16, hidden=32, layers=2)).eval()
    torch.save({"model": model.state_dict(), "config": {"model": model.cfg.to_dict()}, "metrics": {}}, tmp / "best.pt")
    export(tmp, tmp / "tiny.onnx", summary="tiny random test model")
    return tmp / "tiny.onnx"


class Rig:
    """An engine on a fake clock: play() enqueues like the input thread would,
    run() moves time doing what the engine and scheduler threads would (driver.advance)."""

    def __init__(self, model_path, **cfg) -> None:
        self.clock = FakeClock()
        self.out = RecordingOutput(self.clock)
        self.cfg = LivejamConfig.from_dict({"seed": 7, "record": False, **cfg})
        self.engine = Engine(self.cfg, OnnxModel(model_path), self.out, clock=self.clock)
        self.said: list = []
        self.engine.subscribe(self.said.append)

    def play(self, kind, **kw) -> None:
        self.engine.feed_midi(mido.Message(kind, **kw), self.clock.now())
        self.run(0)

    def run(self, seconds: float) -> None:
        driver.advance(self.engine, self.clock, self.clock.now() + seconds)

    def phrase(self, pitches=(60, 62, 64, 65), each=0.25) -> None:
        """Legato notes; returns with the last key just released."""
        for i, p in enumerate(pitches):
            self.play("note_on", note=p, velocity=80)
            if i:
                self.play("note_off", note=pitches[i - 1], velocity=0)
            self.run(each)
        self.play("note_off", note=pitches[-1], velocity=0)

    def events(self) -> list[tuple[str, dict]]:
        """(kind, data) of what the engine said since the last call, state changes and plans left out."""
        out = [(e.kind, e.as_dict()) for e in self.said if not isinstance(e, (StateChanged, Planned))]
        self.said.clear()
        return out

    @property
    def conv(self):
        return self.engine.conversation


@pytest.fixture
def rig(tiny_model):
    return lambda **cfg: Rig(tiny_model, **cfg)
