"""Export a trained run to ONNX under the contract of DESIGN.md, and prove it.

tokens int64 [batch, time], state float32 [layers, batch, hidden] ->
logits float32 [batch, time, vocab], state_out; batch and time are dynamic so the
runtime can feed one token or many. Metadata rides inside the file.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from livejam.model import vocab
from livejam.model.onnx_model import OnnxModel

from .model import ModelConfig, PerformanceGRU

PARITY_LIMIT = 1e-4


def load_run(run: Path) -> tuple[PerformanceGRU, dict]:
    """The best weights of a run (a run folder or a .pt file)."""
    run = Path(run)
    path = run / "best.pt" if run.is_dir() else run
    if not path.exists():
        raise SystemExit(f"{path} not found: train first with `bin/train fit --out {run}`")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = PerformanceGRU(ModelConfig.from_dict(saved["config"]["model"]))
    model.load_state_dict(saved["model"])
    model.eval()
    return model, saved


def content_hash(model: PerformanceGRU) -> str:
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def export(run: Path, out: Path, summary: str = "", extra: dict | None = None, more: dict | None = None) -> dict:
    """Write out (an .onnx) from the run; return the parity report. extra: more
    metrics; more: more metadata entries (e.g. a personal model's "personal")."""
    import onnx

    model, saved = load_run(run)
    cfg = model.cfg
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tokens = torch.zeros(1, 4, dtype=torch.long)
    state = model.initial_state(1)
    tmp = out.with_suffix(".tmp.onnx")
    torch.onnx.export(
        model, (tokens, state), str(tmp), dynamo=False, opset_version=17,
        input_names=["tokens", "state"], output_names=["logits", "state_out"],
        dynamic_axes={"tokens": {0: "batch", 1: "time"}, "state": {1: "batch"},
                      "logits": {0: "batch", 1: "time"}, "state_out": {1: "batch"}},
    )
    m = onnx.load(str(tmp))
    data = saved.get("data", {})
    licence = data_licence(Path(data["root"])) if data.get("root") else None
    best = Path(run) / "best.pt" if Path(run).is_dir() else Path(run)
    meta = {
        "vocab": vocab.VOCAB_ID,
        "model_config": json.dumps({"layers": cfg.layers, "hidden": cfg.hidden, "embedding": cfg.embedding,
                                    "vocab_size": cfg.vocab_size, "parameters": model.num_parameters()}),
        "training_data": json.dumps({k: data.get(k) for k in ("root", "pieces", "tokens", "hours", "split_pieces", "seed")}),
        "metrics": json.dumps({"valid_nll": saved["metrics"].get("valid_nll"),
                               "valid_accuracy": saved["metrics"].get("valid_accuracy"),
                               "step": saved["metrics"].get("step"), **(extra or {})}),
        "content_hash": content_hash(model),
        # When its weights were made (the checkpoint's time), not when this file was written or copied.
        "trained": time.strftime("%Y-%m-%d %H:%M", time.localtime(best.stat().st_mtime)),
        **({"licence": licence["licence"]} if licence else {}),
        "summary": summary or f"GRU {cfg.layers}x{cfg.hidden} over {vocab.VOCAB_ID}",
        **{k: json.dumps(v) for k, v in (more or {}).items()},
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(m)
    onnx.save(m, str(tmp))
    tmp.replace(out)
    report = parity(model, out)
    if report["max_abs_diff"] > PARITY_LIMIT:
        out.unlink()
        raise SystemExit(f"export failed parity: ONNX Runtime differs from PyTorch by {report['max_abs_diff']:.2e}")
    if licence and licence["attribution"].is_file():
        # The credits the data's licences ask for travel with the weights.
        shutil.copy(licence["attribution"], out.parent / "ATTRIBUTION.md")
        report["attribution"] = str(out.parent / "ATTRIBUTION.md")
    if licence:
        report["licence"] = licence["licence"]
    return report


def data_licence(root: Path) -> dict | None:
    """The licence a model trained on a rendered corpus (training/keyboard.py) carries:
    CC BY-SA 4.0 when any piece is share-alike, else CC BY 4.0 when any asks for
    credit, else CC0; None for data without a manifest (your own recordings)."""
    summary = root / "summary.json"
    if not summary.is_file():
        return None
    s = json.loads(summary.read_text())
    names = {k for c in s["by_collection"].values() for k in c["licences"]}
    if s.get("share_alike"):
        name = "CC BY-SA 4.0"
    elif any(n.startswith("CC BY") for n in names):
        name = "CC BY 4.0"
    else:
        name = "CC0 1.0"
    return {"licence": name, "attribution": root / "ATTRIBUTION.md"}


@torch.no_grad()
def parity(model: PerformanceGRU, onnx_path: Path, seed: int = 0) -> dict:
    """Max abs difference ONNX Runtime vs PyTorch, for single steps and for many
    steps with the state carried across calls, on random tokens."""
    onnx_model = OnnxModel(onnx_path)
    rng = np.random.default_rng(seed)
    worst = {"one_step": 0.0, "many_steps": 0.0}
    for batch in (1, 3):
        toks = rng.integers(0, vocab.VOCAB_SIZE, size=(batch, 60))
        st_t = model.initial_state(batch)
        st_o = onnx_model.initial_state(batch)
        # One step at a time for 10 steps, then chunks of 25 with the state carried.
        chunks = [(i, i + 1, "one_step") for i in range(10)] + [(10, 35, "many_steps"), (35, 60, "many_steps")]
        for a, b, kind in chunks:
            lt, st_t = model(torch.from_numpy(toks[:, a:b]), st_t)
            lo, st_o = onnx_model.run(toks[:, a:b].astype(np.int64), st_o)
            diff = max(float(np.abs(lt.numpy() - lo).max()), float(np.abs(st_t.numpy() - st_o).max()))
            worst[kind] = max(worst[kind], diff)
    return {**worst, "max_abs_diff": max(worst.values())}
