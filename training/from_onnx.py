"""An exported model back into PyTorch, to fine-tune it: the shipped default (or a
personal model) is its own starting point, with no second copy of its weights.

The export (export.py) writes one ONNX GRU node per layer with gates in ONNX's
order (z, r, h); PyTorch keeps (r, z, n). This undoes that and checks the result
against ONNX Runtime before anyone trains on it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .export import PARITY_LIMIT, parity
from .model import ModelConfig, PerformanceGRU


def _torch_gates(w: np.ndarray, hidden: int) -> np.ndarray:
    z, r, h = w[:hidden], w[hidden : 2 * hidden], w[2 * hidden :]
    return np.concatenate([r, z, h])


def load_onnx(path: Path, dropout: float = 0.1) -> tuple[PerformanceGRU, dict]:
    """(model, metadata) of an .onnx file written by `bin/train export`."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(path))
    meta = {p.key: p.value for p in m.metadata_props}
    shape = json.loads(meta.get("model_config", "{}"))
    cfg = ModelConfig(embedding=int(shape["embedding"]), hidden=int(shape["hidden"]), layers=int(shape["layers"]),
                      dropout=dropout)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    grus = [n for n in m.graph.node if n.op_type == "GRU"]
    matmul = next(n for n in m.graph.node if n.op_type == "MatMul")
    if len(grus) != cfg.layers:
        raise SystemExit(f"{path}: {len(grus)} GRU nodes for {cfg.layers} layers; not an export of `bin/train export`")
    h = cfg.hidden
    state = {"embed.weight": inits["embed.weight"], "head.weight": inits[matmul.input[1]].T,
             "head.bias": inits["head.bias"]}
    for k, node in enumerate(grus):
        w, r, b = (inits[name][0] for name in node.input[1:4])
        state[f"gru.weight_ih_l{k}"] = _torch_gates(w, h)
        state[f"gru.weight_hh_l{k}"] = _torch_gates(r, h)
        state[f"gru.bias_ih_l{k}"] = _torch_gates(b[: 3 * h], h)
        state[f"gru.bias_hh_l{k}"] = _torch_gates(b[3 * h :], h)
    model = PerformanceGRU(cfg)
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()})
    model.eval()
    report = parity(model, Path(path))
    if report["max_abs_diff"] > PARITY_LIMIT:
        raise SystemExit(f"{path}: read back into PyTorch it differs from ONNX Runtime by {report['max_abs_diff']:.2e}")
    return model, {k: _json(v) for k, v in meta.items()}


def _json(v: str):
    try:
        return json.loads(v)
    except ValueError:
        return v
