"""Training loop: AdamW, warmup + cosine schedule, clipping, validation, early
stopping, checkpoints that resume exactly, DDP when launched by torchrun.

Exact resume without saving iterator state: every step's batch and dropout masks
come from RNGs seeded by (seed, rank, step), so the data position is the step.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from livejam.settings.config import refuse_unknown

from .batches import Augment, eval_rows, sample_rows
from .data import Corpus, ingest
from .model import ModelConfig, PerformanceGRU


@dataclass
class TrainConfig:
    data: str = ""
    out: str = "runs/default"
    seq_len: int = 256
    batch: int = 32
    lr: float = 2e-3
    min_lr_frac: float = 0.1
    warmup: int = 200
    weight_decay: float = 0.01
    clip: float = 1.0
    max_steps: int = 3000
    max_minutes: float = 0.0  # 0 = no time limit
    stop_after: int = 0  # stop (checkpointed) at this step, to resume later; 0 = run to the end
    eval_every: int = 250
    eval_tokens: int = 200_000
    patience: int = 6  # evaluations without improvement before stopping early
    seed: int = 1234
    threads: int = 0  # torch intra-op threads; 0 = torch's default
    init: str = ""  # start from these weights (an .onnx from `export`, or a run's .pt), not at random
    holdout: list[str] = field(default_factory=list)  # validate on these pieces, train on the rest (not the hash split)
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: Augment = field(default_factory=Augment)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        refuse_unknown(cls, d, "training setting")
        model = ModelConfig.from_dict(d.pop("model", {}))
        aug = d.pop("augment", {})
        refuse_unknown(Augment, aug, "augment setting")
        return cls(model=model, augment=Augment(**aug), **d)

    def to_dict(self) -> dict:
        return asdict(self)


def lr_at(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = min(1.0, (step - cfg.warmup) / max(1, cfg.max_steps - cfg.warmup))
    return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))


@torch.no_grad()
def evaluate(model: PerformanceGRU, pieces: list[np.ndarray], device, batch: int = 16) -> dict:
    """NLL (nats/event) and accuracy of next-token prediction over whole pieces,
    each from a zero state, every token after the first."""
    model.eval()
    total_nll, total_right, total_n = 0.0, 0, 0
    for b in range(0, len(pieces), batch):
        group = pieces[b : b + batch]
        width = max(len(p) for p in group)
        x = np.zeros((len(group), width), np.int64)
        mask = np.zeros((len(group), width - 1), bool)
        for r, p in enumerate(group):
            x[r, : len(p)] = p
            mask[r, : len(p) - 1] = True
        x_t = torch.from_numpy(x).to(device)
        logits, _ = model(x_t[:, :-1])
        target = x_t[:, 1:]
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), reduction="none")
        m = torch.from_numpy(mask.reshape(-1)).to(device)
        total_nll += float(nll[m].sum())
        total_right += int((logits.argmax(-1).reshape(-1) == target.reshape(-1))[m].sum())
        total_n += int(m.sum())
    model.train()
    return {"nll": total_nll / max(total_n, 1), "accuracy": total_right / max(total_n, 1), "tokens": total_n}


def _checkpoint(path: Path, **state) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # a crash mid-save never leaves a broken checkpoint


def fit(cfg: TrainConfig, progress: bool = True) -> dict:
    """Train (or resume the run in cfg.out). Returns the final summary."""
    rank, world, device = dist_setup()
    owns_group = world > 1 and not torch.distributed.is_initialized()
    if owns_group:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    corpus = _load_corpus(cfg, rank, world)
    train_ids = corpus.ids("train")
    if not train_ids:
        raise SystemExit(f"no training pieces in {cfg.data}: give a folder with MIDI files")
    valid = eval_rows(corpus, "valid", cfg.eval_tokens) or eval_rows(corpus, "train", cfg.eval_tokens)

    torch.manual_seed(cfg.seed)
    model = PerformanceGRU(cfg.model)
    if cfg.init and not (out / "ckpt.pt").exists():
        model.load_state_dict(_start_weights(Path(cfg.init), cfg.model))
    model = model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = {"step": 0, "best_nll": float("inf"), "stale": 0, "history": []}
    ckpt = out / "ckpt.pt"
    if ckpt.exists():
        saved = torch.load(ckpt, map_location=device, weights_only=True)
        if saved["config"]["model"] != cfg.model.to_dict():
            raise SystemExit(f"{ckpt} holds a different model shape; use another --out or the same settings")
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        state = saved["state"]
        if rank == 0:
            print(f"resuming {out} at step {state['step']}", file=sys.stderr)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model

    metrics_file = out / "metrics.jsonl"
    start_time, tokens_seen = time.perf_counter(), 0
    bar = _progress(cfg, state["step"]) if (progress and rank == 0) else None
    stopped = "max_steps"
    loss_sum, loss_n = 0.0, 0
    model.train()
    while state["step"] < cfg.max_steps:
        step = state["step"]
        rng = np.random.default_rng([cfg.seed, rank, step])
        torch.manual_seed(cfg.seed * 1_000_003 + rank * 7919 + step)
        rows = torch.from_numpy(sample_rows(corpus, train_ids, cfg.batch, cfg.seq_len + 1, rng, cfg.augment)).to(device)
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, step)
        logits, _ = net(rows[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip))
        opt.step()
        state["step"] = step = step + 1
        loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
        tokens_seen += rows[:, 1:].numel() * world
        rate = tokens_seen / (time.perf_counter() - start_time)
        if bar is not None:
            bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{rate:,.0f}")
            bar.update(1)
        last = step == cfg.max_steps or step == cfg.stop_after
        timed_out = cfg.max_minutes and (time.perf_counter() - start_time) / 60 >= cfg.max_minutes
        if step % cfg.eval_every == 0 or last or timed_out:
            # train_loss: the mean since the last evaluation (one batch is too noisy to plot).
            row = {"step": step, "train_loss": loss_sum / loss_n, "lr": lr_at(cfg, step - 1), "grad_norm": grad_norm,
                   "tokens_per_s": round(rate), "elapsed_s": round(time.perf_counter() - start_time, 1)}
            if rank == 0:
                row.update({f"valid_{k}": v for k, v in evaluate(model, valid, device).items()})
                if row["valid_nll"] < state["best_nll"]:
                    state["best_nll"], state["stale"] = row["valid_nll"], 0
                    _checkpoint(out / "best.pt", model=model.state_dict(), config=cfg.to_dict(), metrics=row,
                                data=corpus.summary)
                else:
                    state["stale"] += 1
                state["history"].append(row)
                with open(metrics_file, "a") as f:
                    f.write(json.dumps(row) + "\n")
                _checkpoint(ckpt, model=model.state_dict(), optimizer=opt.state_dict(), state=state,
                            config=cfg.to_dict())
                if bar is not None:
                    bar.write(f"step {step}: valid NLL {row['valid_nll']:.4f} nats/event, "
                              f"accuracy {row['valid_accuracy']:.3f}, {rate:,.0f} tokens/s")
            loss_sum, loss_n = 0.0, 0
            stop = torch.tensor([1 if state["stale"] >= cfg.patience else 0])
            if world > 1:
                torch.distributed.broadcast(stop, 0)
            if stop.item():
                stopped = "early_stopping"
                break
        if cfg.stop_after and step >= cfg.stop_after:
            stopped = "stop_after"
            break
        if timed_out:
            stopped = "max_minutes"
            break
    if bar is not None:
        bar.close()
    summary = {"stopped": stopped, "step": state["step"], "best_valid_nll": state["best_nll"]}
    if rank == 0:
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        _plot(out, state["history"])
    if world > 1:
        # Everyone leaves together: a rank that tears gloo down while another still
        # writes the summary aborts ("terminate called without an active exception").
        torch.distributed.barrier()
        if owns_group:  # a caller that set the group up (bin/train personal) still needs it
            torch.distributed.destroy_process_group()
    return summary


def dist_setup() -> tuple[int, int, torch.device]:
    """This process's rank, the number of processes (torchrun sets both) and its device."""
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if torch.cuda.is_available() else torch.device("cpu")
    return rank, world, device


def _load_corpus(cfg: TrainConfig, rank: int, world: int) -> Corpus:
    # Rank 0 builds the cache; the others wait for it, then read it.
    if rank == 0:
        corpus = ingest(Path(cfg.data), quiet=False)
    if world > 1:
        torch.distributed.barrier()
    if rank != 0:
        corpus = ingest(Path(cfg.data), quiet=True)
    if cfg.holdout:  # held-out pieces chosen by the caller (whole sessions), never windows of one
        held = set(cfg.holdout)
        for p in corpus.pieces:
            p.split = "valid" if p.name in held else "train"
    return corpus


def _start_weights(path: Path, shape: ModelConfig) -> dict:
    """The weights to start from: an exported .onnx or a run's .pt, of this shape."""
    if path.suffix == ".onnx":
        from .from_onnx import load_onnx

        model, _ = load_onnx(path)
        weights, found = model.state_dict(), model.cfg
    else:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        weights, found = saved["model"], ModelConfig.from_dict(saved["config"]["model"])
    if (found.layers, found.hidden, found.embedding) != (shape.layers, shape.hidden, shape.embedding):
        raise SystemExit(f"{path} is a {found.layers}x{found.hidden} model; training asked for "
                         f"{shape.layers}x{shape.hidden}")
    return weights


def _progress(cfg: TrainConfig, initial: int):
    from tqdm import tqdm

    return tqdm(total=cfg.max_steps, initial=initial, unit="step", dynamic_ncols=True, file=sys.stderr)


def _plot(out: Path, history: list[dict]) -> None:
    if not history:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [h["train_loss"] for h in history], label="train loss (batch)")
    ax.plot(steps, [h["valid_nll"] for h in history], label="validation NLL")
    ax.set_xlabel("step")
    ax.set_ylabel("nats/event")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "loss.png", dpi=100)
    plt.close(fig)
