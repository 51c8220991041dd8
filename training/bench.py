"""`bin/train bench`: the training half's figures, each comparison measured in one run.

- corpus ingest, files/s: ours (mido parse + the live encoder + vectorised encode)
  vs a plain mido parse loop over the same files (what the parse alone costs);
- training tokens/s on this machine's CPU (the default model shape);
- one model step, 1 thread, warm, p50/p99: ONNX Runtime vs PyTorch eager on the
  same weights (a fresh model of the shipped shape, exported for the comparison),
  and the shipped model itself.
"""
from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def _machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def bench_ingest(folder: Path, files: int) -> dict:
    """Our ingest (in one process, and with the worker pool) vs a plain mido
    parse loop, on the same files, each timed from warm imports."""
    import mido

    from .data import CHUNK, _ingest_chunk, find_midi_files, ingest

    paths = find_midi_files(folder)
    paths = paths[:: max(1, len(paths) // files)][:files]
    jobs = [(str(folder), [str(p) for p in paths[i : i + CHUNK]]) for i in range(0, len(paths), CHUNK)]
    t0 = time.perf_counter()
    for job in jobs:
        _ingest_chunk(job)
    one = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        sub = Path(tmp) / "files"
        sub.mkdir()
        for i, p in enumerate(paths):
            (sub / f"{i:06d}.mid").symlink_to(p.resolve())
        t0 = time.perf_counter()
        ingest(sub, cache=Path(tmp) / "cache", quiet=True)
        pooled = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p in paths:
        for _ in mido.MidiFile(p):  # parse and walk the merged, timed messages
            pass
    plain = time.perf_counter() - t0
    n = len(paths)
    return {"files": n, "mido_files_per_s": round(n / plain, 1),
            "ours_one_process_files_per_s": round(n / one, 1), "ratio_one_process": round(plain / one, 1),
            "ours_ingest_all_cores_files_per_s": round(n / pooled, 1), "ratio_all_cores": round(plain / pooled, 1)}


def _percentiles(samples: list[float]) -> dict:
    a = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(a, 50)), 4), "p99_ms": round(float(np.percentile(a, 99)), 4)}


def bench_step(onnx_path: Path, n: int = 3000) -> dict:
    import torch

    from livejam.model.onnx_model import OnnxModel

    from .export import export
    from .model import ModelConfig, PerformanceGRU

    shipped = OnnxModel(onnx_path)
    cfg = ModelConfig(hidden=shipped.hidden, layers=shipped.layers,
                      embedding=int(shipped.metadata["model_config"]["embedding"]))
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = PerformanceGRU(cfg).eval()
    with tempfile.TemporaryDirectory() as tmp:
        torch.save({"model": model.state_dict(), "config": {"model": cfg.to_dict()}, "metrics": {}}, Path(tmp) / "best.pt")
        export(Path(tmp), Path(tmp) / "same.onnx")
        same = OnnxModel(Path(tmp) / "same.onnx")
        rng = np.random.default_rng(0)
        toks = rng.integers(0, 388, n)

        def time_ort(onnx_model):
            state = onnx_model.initial_state(1)
            out = []
            for i, t in enumerate(toks):
                t0 = time.perf_counter()
                _, state = onnx_model.step(int(t), state)
                if i >= 200:  # warm
                    out.append(time.perf_counter() - t0)
            return out

        ort_same = time_ort(same)
        ort_shipped = time_ort(shipped)
    state = model.initial_state(1)
    eager = []
    with torch.inference_mode():
        for i, t in enumerate(toks):
            t0 = time.perf_counter()
            _, state = model(torch.tensor([[int(t)]]), state)
            if i >= 200:
                eager.append(time.perf_counter() - t0)
    r_same, r_eager = _percentiles(ort_same), _percentiles(eager)
    return {"model_shape": f"{cfg.layers}x{cfg.hidden} (embedding {cfg.embedding})",
            "onnxruntime": r_same, "pytorch_eager": r_eager, "shipped_model_onnxruntime": _percentiles(ort_shipped),
            "eager_over_ort_p50": round(r_eager["p50_ms"] / r_same["p50_ms"], 2)}


def bench_training(folder: Path, onnx_path: Path, steps: int = 12) -> dict:
    import torch

    from livejam.model.onnx_model import OnnxModel

    from .train import TrainConfig, fit

    shipped = OnnxModel(onnx_path)
    cfg = TrainConfig(data=str(folder), max_steps=steps, eval_every=10_000, eval_tokens=2000, warmup=1)
    cfg.model.hidden, cfg.model.layers = shipped.hidden, shipped.layers
    cfg.model.embedding = int(shipped.metadata["model_config"]["embedding"])
    torch.set_num_threads(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as tmp:
        cfg.out = tmp
        t0 = time.perf_counter()
        fit(cfg, progress=False)
        seconds = time.perf_counter() - t0
    tokens = steps * cfg.batch * cfg.seq_len
    return {"steps": steps, "batch_x_seq": f"{cfg.batch}x{cfg.seq_len}", "tokens_per_s": round(tokens / seconds)}


def run_bench(folder: Path, onnx_path: Path, files: int = 300) -> dict:
    return {"machine": _machine(), "ingest": bench_ingest(folder, files), "step": bench_step(onnx_path),
            "training": bench_training(folder, onnx_path)}
