"""`bin/train personal`: a personal model from your own playing, in one command.

recordings -> your track of each session -> the same ingest as any corpus ->
fine-tune from the model you play with now (the shipped default, or your last
personal model that beat it) -> export into your models folder with its own card
-> the command that plays with it.

Sessions are split whole, three ways, by time: the newest give the verdict
(better than the base or not: what decides whether livejam offers the model),
the ones before them choose the early stop, the rest are trained on. A session
is never cut into windows on two sides, and the verdict is measured on playing
that neither trained the model nor chose when to stop (choosing the stop on the
verdict's own sessions would flatter it). Too little playing to judge on is a
clear refusal, not a verdict of 0.0 against 0.0.

Honest with little data: half the learning rate of training from scratch, early
stopping, the usual augmentation; when the personal model does not predict the
verdict sessions better than the model it started from, it says so, and livejam
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
from livejam.model.onnx_model import DEFAULT_MODEL, OnnxModel

from .data import ingest
from .evaluate import onnx_nll
from .export import export
from .train import TrainConfig, dist_setup, fit

HOLDOUT_SHARE = 0.2  # of the notes: the newest sessions up to this share give the verdict ...
VALID_SHARE = 0.15  # ... and the ones before them, up to this share, choose the early stop
MIN_SESSIONS = 3  # one to learn from, one to stop on, one to judge on
MIN_VERDICT_NOTES = 40  # fewer notes to judge on than this: no verdict is given


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


def choose_holdout(sessions: list[dict]) -> tuple[list[str], list[str]]:
    """(verdict, early stop): the newest sessions up to HOLDOUT_SHARE of the notes,
    then the ones before them up to VALID_SHARE; at least one each, and at least
    one session left to train on."""
    total = sum(s["notes"] for s in sessions)
    newest = [s for s in sorted(sessions, key=lambda s: (s["started"], s["name"]), reverse=True)]
    out: list[list[str]] = []
    for share in (HOLDOUT_SHARE, VALID_SHARE):
        room = len(newest) - (2 - len(out))  # leave one for the next set and one to train on
        taken, notes = [], 0
        while newest and len(taken) < room and (not taken or notes + newest[0]["notes"] <= share * total):
            s = newest.pop(0)
            taken.append(s["name"])
            notes += s["notes"]
        out.append(taken)
    return out[0], out[1]


def notes_in(sessions: list[dict]) -> int:
    """The notes ingest keeps of these sessions (the encoder's rules: drums out, and so on)."""
    from livejam.model.encoder import notes_from_messages

    return sum(len(notes_from_messages(s["messages"])[0]) for s in sessions)


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

    verdict_names, valid_names = choose_holdout(sessions)
    judged = [s for s in sessions if s["name"] in verdict_names]
    if notes_in(judged) < MIN_VERDICT_NOTES:
        raise SystemExit(f"bin/train personal: your newest session(s) ({', '.join(verdict_names)}) hold "
                         f"{notes_in(judged)} notes that can be judged on, fewer than {MIN_VERDICT_NOTES}: too little "
                         f"to say whether a personal model plays like you. Record a longer session, then run it again")

    # Your track of each session as its own file: the same ingest as any corpus. The
    # verdict's sessions go to a folder of their own: never trained on, never stopped on.
    corpus_dir, verdict_dir = work / "corpus", work / "verdict"
    if rank == 0:
        for folder_, chosen in ((corpus_dir, [s for s in sessions if s not in judged]), (verdict_dir, judged)):
            if folder_.exists():
                shutil.rmtree(folder_)
            folder_.mkdir(parents=True)
            for s in chosen:
                write_messages(folder_ / f"{s['name']}.mid", [("player", s["messages"])])
        corpus = ingest(corpus_dir, quiet=True)
    if world > 1:
        torch.distributed.barrier()  # the corpus and its cache are written
    if rank != 0:
        corpus = ingest(corpus_dir, quiet=True)
    holdout = [n for n in valid_names if f"{n}.mid" in {p.name for p in corpus.pieces}]
    if not holdout:
        raise SystemExit(f"bin/train personal: nothing of the session(s) chosen for the early stop "
                         f"({', '.join(valid_names)}) survived ingest; record more, then run it again")
    tokens = corpus.summary["tokens"]
    # About six passes over your playing, within 60..600 steps of 16 x 256 tokens.
    steps = steps or int(min(600, max(60, 6 * tokens / (16 * 256))))
    key = hashlib.sha256(json.dumps([str(base), base.stat().st_mtime_ns, corpus.summary["fingerprint"], steps,
                                     include_answers, lr]).encode()).hexdigest()[:12]
    run = work / "runs" / key  # the same data and start: an interrupted run resumes
    from .from_onnx import load_onnx

    start, _ = load_onnx(base)
    cfg = TrainConfig(data=str(corpus_dir), out=str(run), lr=lr, warmup=10, batch=16, seq_len=256,
                      max_steps=steps, eval_every=max(10, steps // 12), eval_tokens=10**9, patience=4,
                      threads=threads, init=str(base), holdout=[f"{n}.mid" for n in holdout],
                      stop_after=stop_after)
    cfg.model.embedding, cfg.model.hidden, cfg.model.layers = start.cfg.embedding, start.cfg.hidden, start.cfg.layers
    say(f"{len(sessions)} sessions ({sum(s['notes'] for s in sessions)} notes, "
        f"{sum(s['minutes'] for s in sessions):.1f} min); judged on the newest {len(judged)} "
        f"({', '.join(verdict_names)}), early stop on {', '.join(holdout)}")
    say(f"fine-tuning {base.name} for up to {steps} steps in {run}")
    started = time.perf_counter()
    summary = fit(cfg, progress=False)
    if rank != 0:
        return {"rank": rank, **summary}
    if summary["stopped"] == "stop_after":
        return {"stopped": "stop_after", "run": str(run)}

    name = name or time.strftime("personal-%Y%m%d-%H%M")
    out = models / f"{name}.onnx"
    judge = ingest(verdict_dir, quiet=True)
    held_rows = [judge.piece_tokens(i) for i in range(len(judge.pieces))]
    base_nll = onnx_nll(base, held_rows)["nll"]
    info = {
        "created": time.strftime("%Y-%m-%d %H:%M"), "base": base.name, "sources": str(folder),
        "sessions": len(sessions), "notes": sum(s["notes"] for s in sessions),
        "minutes": round(sum(s["minutes"] for s in sessions), 1), "held_out_sessions": verdict_names,
        "early_stop_sessions": holdout,
        "include_answers": include_answers, "steps": summary["step"], "stopped": summary["stopped"],
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    # The base's phrase head reads the model's gap odds and the call, not its state
    # (phrase_end.LAYERS): it stays true for the fine-tuned model, and goes with it.
    head = {"phrase_head": h} if (h := OnnxModel(base).metadata.get("phrase_head")) else {}
    export(run, out, summary=f"personal model from {len(sessions)} sessions, fine-tuned from {base.name}",
           more={"personal": info, **head})
    mine_nll = onnx_nll(out, held_rows)["nll"]
    info["heldout_nll"] = {"base": round(base_nll, 4), "personal": round(mine_nll, 4)}
    export(run, out, summary=f"personal model from {len(sessions)} sessions, fine-tuned from {base.name}",
           more={"personal": info, **head})  # again, now with its held-out figures inside
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

On your {len(info['held_out_sessions'])} newest session(s) ({', '.join(info['held_out_sessions'])}),
used neither for training nor for choosing when to stop (that was
{', '.join(info.get('early_stop_sessions', [])) or 'none'}): {h['personal']:.4f} nats/event, against
{h['base']:.4f} for `{info['base']}`: **{verdict}** at predicting your playing.

## Data

{info['sessions']} sessions from `{info['sources']}`: {info['notes']} notes, {info['minutes']} minutes of
playing; {'your track and livejam' + "'" + 's answers' if info['include_answers'] else 'your track only (not the answers)'}.
Sessions are split whole (training / early stop / verdict), never cut into windows on two
sides. Trained {info['steps']} steps ({info['stopped']}) in {info.get('train_seconds', '?')} s.

## How it answers

Like every livejam model it generates from a seed sequence: your call, heard event
by event as you play, is the seed; the answer is sampled from the model's state
after it. `bin/train judge --model {name}` measures its answers to 15 written calls.

Play with it: `bin/livejam --model {name}`; `bin/livejam models` lists every model.
"""
