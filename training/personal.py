"""`bin/train personal`: a personal model from your own playing, in one command.

recordings -> your track of each session -> the same ingest as any corpus ->
fine-tune from the model you play with now (the shipped default, or your last
personal model that beat it) -> validate on held-out *sessions* (the newest ones,
never windows cut from a session that was also trained on) -> export into your
models folder with its own card -> the command that plays with it.

Honest with little data: half the learning rate of training from scratch, early stopping on the held-out
sessions, the usual augmentation; and when the personal model does not predict the
held-out sessions better than the model it started from, it says so, and livejam
never offers it.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from livejam.recording import recordings
from livejam.midi.files import write_messages
from livejam.model.registry import list_models, models_dir
from livejam.model.onnx_model import DEFAULT_MODEL

from .data import ingest
from .evaluate import onnx_nll
from .export import export
from .train import TrainConfig, dist_setup, fit

HOLDOUT_SHARE = 0.2  # of the notes: the newest sessions up to this share are held out
MIN_SESSIONS = 2  # one to learn from, one to check on


def work_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("livejam")) / "personal"


def gather(folder: Path, include_answers: bool = False, say=print) -> list[dict]:
    """Each usable session: its name, your messages (and livejam's if asked), notes, minutes.
    Files not made by livejam are used whole; damaged ones are skipped with a reason."""
    sessions = []
    for rec in recordings.list_recordings(folder):
        if rec.problem:
            say(f"skipped {rec.name}: {rec.problem}")
            continue
        found = recordings.tracks(rec.path)
        msgs = list(found[recordings.PLAYER])
        if include_answers:
            msgs = sorted(msgs + found.get(recordings.ANSWERS, []), key=lambda x: x[0])
        sessions.append({"name": rec.name, "messages": msgs, "notes": rec.played, "minutes": rec.seconds / 60,
                         "started": rec.started})
    return sessions


def choose_holdout(sessions: list[dict]) -> list[str]:
    """The newest sessions, up to HOLDOUT_SHARE of the notes (at least one, never all)."""
    total = sum(s["notes"] for s in sessions)
    held, notes = [], 0
    for s in sorted(sessions, key=lambda s: (s["started"], s["name"]), reverse=True)[: len(sessions) - 1]:
        if held and notes + s["notes"] > HOLDOUT_SHARE * total:
            break
        held.append(s["name"])
        notes += s["notes"]
    return held


def base_model(from_scratch: bool, folder: Path) -> Path:
    """Where to start: your newest personal model that beat its base, else the default."""
    if not from_scratch:
        for m in list_models(folder):
            if m.kind == "personal" and not m.problem and m.beats_base:
                return m.path
    return DEFAULT_MODEL


def personal(data: Path | None = None, include_answers: bool = False, from_scratch: bool = False,
             name: str | None = None, steps: int | None = None, threads: int = 0, models: Path | None = None,
             work: Path | None = None, base: Path | None = None, stop_after: int = 0, lr: float = 1e-3,
             say=print) -> dict:
    import torch

    # Under torchrun every process runs this: rank 0 writes the corpus and the model,
    # the others train their share of each batch and leave when training is done.
    rank, world, device = dist_setup()
    if world > 1:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        return _personal(data, include_answers, from_scratch, name, steps, threads, models, work, base,
                         stop_after, lr, say if rank == 0 else (lambda *a, **k: None), rank, world)
    finally:
        if world > 1:
            torch.distributed.destroy_process_group()


def _personal(data, include_answers, from_scratch, name, steps, threads, models, work, base, stop_after, lr,
              say, rank: int, world: int) -> dict:
    import torch

    from livejam.settings import settings_file

    folder = Path(data) if data else recordings.folder_of(settings_file.load().get("record_dir", ""))
    models = Path(models) if models else models_dir()
    work = Path(work) if work else work_dir()
    sessions = gather(folder, include_answers, say)
    if len(sessions) < MIN_SESSIONS:
        raise SystemExit(f"bin/train personal: {len(sessions)} usable session(s) in {folder}; record at least "
                         f"{MIN_SESSIONS} (about 10 minutes of playing in all is a good start), or give --data DIR")
    base = Path(base) if base else base_model(from_scratch, models)

    # Your track of each session as its own file: the same ingest as any corpus.
    corpus_dir = work / "corpus"
    if rank == 0:
        if corpus_dir.exists():
            shutil.rmtree(corpus_dir)
        corpus_dir.mkdir(parents=True)
        for s in sessions:
            write_messages(corpus_dir / f"{s['name']}.mid", [("player", s["messages"])])
        corpus = ingest(corpus_dir, quiet=True)
    if world > 1:
        torch.distributed.barrier()  # the corpus and its cache are written
    if rank != 0:
        corpus = ingest(corpus_dir, quiet=True)
    holdout = [n for n in choose_holdout(sessions) if f"{n}.mid" in {p.name for p in corpus.pieces}]
    tokens = corpus.summary["tokens"]
    # About six passes over your playing, within 60..600 steps of 16 x 256 tokens.
    steps = steps or int(min(600, max(60, 6 * tokens / (16 * 256))))
    key = hashlib.sha256(json.dumps([str(base), base.stat().st_mtime_ns, corpus.summary["fingerprint"], steps,
                                     include_answers]).encode()).hexdigest()[:12]
    run = work / "runs" / key  # the same data and start: an interrupted run resumes
    from .from_onnx import load_onnx

    start, _ = load_onnx(base)
    cfg = TrainConfig(data=str(corpus_dir), out=str(run), lr=lr, warmup=10, batch=16, seq_len=256,
                      max_steps=steps, eval_every=max(10, steps // 12), eval_tokens=10**9, patience=4,
                      threads=threads, init=str(base), holdout=[f"{n}.mid" for n in holdout],
                      stop_after=stop_after)
    cfg.model.embedding, cfg.model.hidden, cfg.model.layers = start.cfg.embedding, start.cfg.hidden, start.cfg.layers
    say(f"{len(sessions)} sessions ({sum(s['notes'] for s in sessions)} notes, "
        f"{sum(s['minutes'] for s in sessions):.1f} min); holding out the newest {len(holdout)}: {', '.join(holdout)}")
    say(f"fine-tuning {base.name} for up to {steps} steps in {run}")
    started = time.perf_counter()
    summary = fit(cfg, progress=False)
    if rank != 0:
        return {"rank": rank, **summary}
    if summary["stopped"] == "stop_after":
        return {"stopped": "stop_after", "run": str(run)}

    name = name or time.strftime("personal-%Y%m%d-%H%M")
    out = models / f"{name}.onnx"
    held_rows = [corpus.piece_tokens(i) for i, p in enumerate(corpus.pieces) if p.name in cfg.holdout]
    base_nll = onnx_nll(base, held_rows)["nll"]
    info = {
        "created": time.strftime("%Y-%m-%d %H:%M"), "base": base.name, "sources": str(folder),
        "sessions": len(sessions), "notes": sum(s["notes"] for s in sessions),
        "minutes": round(sum(s["minutes"] for s in sessions), 1), "held_out_sessions": holdout,
        "include_answers": include_answers, "steps": summary["step"], "stopped": summary["stopped"],
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    export(run, out, summary=f"personal model from {len(sessions)} sessions, fine-tuned from {base.name}",
           more={"personal": info})
    mine_nll = onnx_nll(out, held_rows)["nll"]
    info["heldout_nll"] = {"base": round(base_nll, 4), "personal": round(mine_nll, 4)}
    export(run, out, summary=f"personal model from {len(sessions)} sessions, fine-tuned from {base.name}",
           more={"personal": info})  # again, now with its held-out figures inside
    card = _card(name, info)
    out.with_suffix(".md").write_text(card)
    better = mine_nll < base_nll
    say(card.split("\n## ")[1].split("\n", 1)[1].strip())
    if better:
        say(f"play with it: bin/livejam --model {name}")
    else:
        say(f"it does not predict your held-out sessions better than {base.name}; livejam keeps playing "
            f"{base.name} (record more, then run bin/train personal again)")
    return {"model": str(out), "better": better, **info}


def _card(name: str, info: dict) -> str:
    h = info["heldout_nll"]
    verdict = "better" if h["personal"] < h["base"] else "not better"
    return f"""# Personal model `{name}`

Fine-tuned by `bin/train personal` on {info['created']} from `{info['base']}`.

## How it does

On your {len(info['held_out_sessions'])} newest session(s), held out from training
({', '.join(info['held_out_sessions'])}): {h['personal']:.4f} nats/event, against
{h['base']:.4f} for `{info['base']}`: **{verdict}** at predicting your playing.

## Data

{info['sessions']} sessions from `{info['sources']}`: {info['notes']} notes, {info['minutes']} minutes of
playing; {'your track and livejam' + "'" + 's answers' if info['include_answers'] else 'your track only (not the answers)'}.
Sessions are split whole (training / held out), never cut into windows on both
sides. Trained {info['steps']} steps ({info['stopped']}) in {info.get('train_seconds', '?')} s.

## How it answers

Like every livejam model it generates from a seed sequence: your call, heard event
by event as you play, is the seed; the answer is sampled from the model's state
after it. `bin/train judge --model {name}` measures its answers to 15 written calls.

Play with it: `bin/livejam --model {name}`; `bin/livejam models` lists every model.
"""
