"""The ONNX model: an exported GRU under ONNX Runtime, one step at a time.

The only module that imports onnxruntime. It checks the model against the
vocabulary and the I/O contract of DESIGN.md before anything plays through it.
"""
from __future__ import annotations

import json
import time
from collections import deque
from pathlib import Path

import numpy as np

from . import vocab
from ..errors import LivejamError

# An installed wheel carries a copy of the shipped model (setup.py); a checkout reads exported/.
_PACKAGED = Path(__file__).resolve().parent / "shipped" / "default.onnx"
DEFAULT_MODEL = _PACKAGED if _PACKAGED.is_file() else Path(__file__).resolve().parents[2] / "exported" / "default.onnx"
INPUTS = ("tokens", "state")
OUTPUTS = ("logits", "state_out")


class OnnxModel:
    def __init__(self, path: str | Path = DEFAULT_MODEL, threads: int = 1) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise LivejamError(f"model file {self.path} not found; give --model a path to an .onnx file made by `bin/train export`")
        opts = ort.SessionOptions()
        # One thread, no spinning: a step is tiny and the other threads need the cores.
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 4  # fatal only: livejam says what went wrong in its own one line
        try:
            self.runtime = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise LivejamError(f"{self.path.name} is not a usable ONNX model ({str(exc).splitlines()[0][:100]}); re-export it with `bin/train export`")
        self.step_seconds: deque[float] = deque(maxlen=4096)  # recent run() times, for the live figures
        self.runs = 0  # how many run() calls so far
        meta = self.runtime.get_modelmeta().custom_metadata_map
        self.metadata = {k: _maybe_json(v) for k, v in meta.items()}
        self._check()

    def _check(self) -> None:
        name = self.path.name
        found = self.metadata.get("vocab")
        if found != vocab.VOCAB_ID:
            raise LivejamError(f"{name} was trained for vocabulary {found!r}, this livejam speaks {vocab.VOCAB_ID!r}; use a model exported by this version")
        ins = {i.name: i for i in self.runtime.get_inputs()}
        outs = {o.name: o for o in self.runtime.get_outputs()}
        if set(ins) != set(INPUTS) or set(outs) != set(OUTPUTS):
            raise LivejamError(f"{name} has inputs {sorted(ins)} and outputs {sorted(outs)}; expected {list(INPUTS)} -> {list(OUTPUTS)}")
        cfg = self.metadata.get("model_config") or {}
        self.layers, self.hidden = int(cfg.get("layers", 0)), int(cfg.get("hidden", 0))
        shape = ins["state"].shape
        if len(shape) != 3 or shape[0] != self.layers or shape[2] != self.hidden:
            raise LivejamError(f"{name}: state shape {shape} does not match its config (layers {self.layers}, hidden {self.hidden}); re-export it")
        if outs["logits"].shape[-1] != vocab.VOCAB_SIZE:
            raise LivejamError(f"{name} predicts {outs['logits'].shape[-1]} tokens, the vocabulary has {vocab.VOCAB_SIZE}")

    def initial_state(self, batch: int = 1) -> np.ndarray:
        return np.zeros((self.layers, batch, self.hidden), np.float32)

    def run(self, tokens: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """tokens int64 [batch, time], state [layers, batch, hidden] -> (logits, state)."""
        t0 = time.perf_counter()
        logits, state_out = self.runtime.run(OUTPUTS, {"tokens": tokens, "state": state})
        self.step_seconds.append(time.perf_counter() - t0)
        self.runs += 1
        return logits, state_out

    def step(self, token: int, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One token -> (logits [vocab], new state)."""
        logits, state = self.run(np.array([[token]], np.int64), state)
        return logits[0, -1], state


def _maybe_json(v: str):
    try:
        return json.loads(v)
    except ValueError:
        return v
