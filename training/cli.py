"""`bin/train`: corpus, fit, export, eval, sample, judge, personal, phrase-end, bench."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DIR = ROOT / "data" / "bundled"
KEYBOARD_DIR = ROOT / "data" / "keyboard"  # the default model's corpus, rendered (never committed)
PHRASES_DIR = ROOT / "data" / "phrases"  # the Lieder's phrase ends, read from the scores (never committed)


def _corpus(a) -> None:
    from .data import ingest

    if not a.bundled and not a.folder:
        from .keyboard import build_keyboard, default_sources

        src = Path(a.sources) if a.sources else default_sources(ROOT)
        out = Path(a.out or KEYBOARD_DIR)
        s = build_keyboard(src, out, workers=a.workers, limit=a.limit, collections=tuple(a.only))
        print(f"rendered {s['pieces']} pieces ({s['files']} files) to {out} in {s['seconds']} s, "
              f"{len(s['failed'])} failed (reasons in {out / 'SOURCES.md'}); credits in {out / 'ATTRIBUTION.md'}")
        folder = out
    elif a.bundled:
        from .bundled import build_bundled

        out = Path(a.out or BUNDLED_DIR)
        s = build_bundled(out, workers=a.workers, limit=a.limit)
        print(f"wrote {s['pieces']} pieces to {out} in {s['seconds']} s ({len(s['skipped'])} skipped); sources and licences in {out / 'SOURCES.md'}")
        folder = out
    else:
        folder = Path(a.folder)
    c = ingest(folder)
    print(json.dumps({k: v for k, v in c.summary.items() if k != "skipped_reasons"}, indent=2))


def _fit(a) -> None:
    from .train import TrainConfig, fit

    d: dict = {}
    if a.config:
        d = json.loads(Path(a.config).read_text())
    cfg = TrainConfig.from_dict(d)
    cfg.data = a.data or cfg.data or str(KEYBOARD_DIR)
    cfg.out = a.out or cfg.out
    for f in fields(cfg):
        v = getattr(a, f.name, None)
        if v is not None and f.name not in ("data", "out"):
            setattr(cfg, f.name, v)
    for name in ("embedding", "hidden", "layers", "dropout"):
        v = getattr(a, name)
        if v is not None:
            setattr(cfg.model, name, v)
    if a.human is not None:
        cfg.augment.human = a.human
    if a.no_augment:
        cfg.augment.enabled = False
    if not Path(cfg.data).is_dir():
        sys.exit(f"{cfg.data} is not a folder; run `bin/train corpus` first or give --data DIR")
    print(json.dumps(fit(cfg), indent=2))


def _export(a) -> None:
    from .export import export

    report = export(Path(a.run), Path(a.out), summary=a.summary or "")
    print(json.dumps({"model": a.out, **report}, indent=2))


def _eval(a) -> None:
    from .data import ingest
    from .evaluate import evaluate_model, evaluate_ngram

    corpus = ingest(Path(a.data or KEYBOARD_DIR), quiet=True)
    splits = tuple(a.split)
    if a.baseline == "ngram":
        result = {"baseline": "ngram (interpolated Witten-Bell)", **evaluate_ngram(corpus, splits)}
    else:
        if not a.model:
            sys.exit("give --model FILE.onnx, or --baseline ngram")
        result = {"model": a.model, **evaluate_model(Path(a.model), corpus, splits)}
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        for s in splits:
            r = result[s]
            extra = f" (best order {r['best_order']})" if "best_order" in r else f", accuracy {r['accuracy']:.3f}"
            print(f"{s}: {r['nll']:.4f} nats/event{extra}")


def _sample(a) -> None:
    from .sample import sample_model

    report = sample_model(Path(a.model), Path(a.out), seconds=a.seconds, temperature=a.temperature,
                          top_p=a.top_p, seed=a.seed, takes=a.takes)
    for r in report:
        print(json.dumps(r))


def _personal(a) -> None:
    from .personal import personal

    personal(Path(a.data) if a.data else None, include_answers=a.include_answers, from_scratch=a.from_scratch,
             name=a.name, steps=a.steps, threads=a.threads or 0, base=Path(a.base) if a.base else None)


def _phrase_end(a) -> None:
    from .data import piece_groups
    from .keyboard import default_sources
    from .phrase_end import fit_head, write_head
    from .phrase_labels import label_lieder

    src = Path(a.sources) if a.sources else default_sources(ROOT)
    labels = label_lieder(src, PHRASES_DIR / "lieder.json", workers=a.workers)
    data = Path(a.data or KEYBOARD_DIR)
    groups = piece_groups(data)
    if not groups:  # a model not trained on the rendered corpus: the songs split among themselves
        print(f"no PIECES.json in {data}: the songs are split by piece among themselves")
        groups = {p: {"piece": p, "composer": p.split("/")[1].split(",")[0]} for p in labels}
    from livejam.model.onnx_model import OnnxModel

    seed = (OnnxModel(a.model).metadata.get("training_data") or {}).get("seed", 0)
    fitted = fit_head(Path(a.model), labels, groups, seed=seed)
    print(json.dumps(fitted["report"], indent=2))
    if a.out:
        write_head(Path(a.model), Path(a.out), fitted["spec"])
        print(f"wrote {a.out} with its phrase head (threshold {fitted['spec']['threshold']})")


def _judge(a) -> None:
    from livejam.model.onnx_model import OnnxModel
    from livejam.settings.config import DEFAULTS

    from .judge import judge, parse_overrides, report
    from .judge_live import judge_adaptation, judge_phrase_end, judge_prime, report_live

    if a.part == "keyboard":
        from .judge_keyboard import judge_keyboard, report_keyboard

        others = dict(x.split("=", 1) for x in a.compare or [])
        result = judge_keyboard(Path(a.model), Path(a.data or KEYBOARD_DIR), others, per_piece=a.per_piece,
                                overrides=parse_overrides(a.set), max_calls=a.max_calls)
        if a.out:
            Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2) if a.json else report_keyboard(result))
        return
    parts = {"answers", "adaptation", "phrase-end"} if a.part == "all" else {a.part}
    if a.mode == "accompany":
        parts = {"accompany"}
    overrides = parse_overrides(a.set)
    result: dict = {}
    if "answers" in parts:
        result = judge(Path(a.model), seeds=a.seeds, overrides=overrides)
    model = OnnxModel(Path(a.model))
    if "adaptation" in parts:
        result["adaptation"] = [judge_adaptation(model, x, seeds=a.seeds, overrides=overrides)
                                for x in (a.adapt or [DEFAULTS["adapt"]])]
        result["prime"] = judge_prime(model, seeds=a.seeds, overrides=overrides)
    if "phrase-end" in parts:
        result["phrase_end"] = [judge_phrase_end(model, {**overrides, "phrase_rule": "silence"})] + [
            judge_phrase_end(model, {**overrides, "phrase_rule": "model"}, t) for t in (a.threshold or [None])]
    if "harmony" in parts:
        from .judge_harmony import judge_harmony, report_harmony

        result["harmony"] = judge_harmony(model, seeds=a.seeds, overrides=overrides)
    if "plan" in parts:
        from .judge_plan import judge_plan, report_plan

        result["plan"] = judge_plan(model, seeds=a.seeds)
    if "accompany" in parts:
        from .judge_accompany import judge_accompany, report_accompany

        result["accompany"] = judge_accompany(model, roles=tuple(a.role or ("bass", "chords", "counter")),
                                              seeds=a.seeds, overrides=overrides)
    if a.out:
        Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    if a.json:
        print(json.dumps({k: v for k, v in result.items() if k != "answers_detail"}, indent=2))
        return
    if "answers" in parts:
        print(report(result))
    if "accompany" in parts:
        print(report_accompany(result["accompany"]))
        return
    if "harmony" in parts:
        print(report_harmony(result["harmony"]))
        return
    if "plan" in parts:
        print(report_plan(result["plan"]))
        return
    print(report_live(result.get("adaptation", []), result.get("phrase_end", []), result.get("prime")))


def _bench(a) -> None:
    from .bench import run_bench

    print(json.dumps(run_bench(Path(a.data or KEYBOARD_DIR), Path(a.model), files=a.files), indent=2))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bin/train", description="Train, export and evaluate livejam models.")
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("corpus", help="render the keyboard corpus (default), or ingest a folder of MIDI files")
    c.add_argument("folder", nargs="?", help="folder of .mid/.midi files to ingest instead")
    c.add_argument("--sources", help="folder holding mutopia/, lieder/, pianomidi/ (default ../shared/corpus)")
    c.add_argument("--only", nargs="+", default=["mutopia", "lieder", "pianomidi"],
                   choices=["mutopia", "lieder", "pianomidi"], help="render only these collections")
    c.add_argument("--bundled", action="store_true", help="render music21's score corpus instead (the old default)")
    c.add_argument("--out", help=f"where the render goes (default {KEYBOARD_DIR.relative_to(ROOT)}, "
                                 f"or {BUNDLED_DIR.relative_to(ROOT)} with --bundled)")
    c.add_argument("--workers", type=int)
    c.add_argument("--limit", type=int, help="only the N smallest source files (for a quick try)")
    c.set_defaults(func=_corpus)

    f = sub.add_parser("fit", help="train a model")
    f.add_argument("--data", help="folder of MIDI files (default: the keyboard corpus, data/keyboard)")
    f.add_argument("--out", help="run folder (resumes if it holds a checkpoint)")
    f.add_argument("--config", help="JSON file of TrainConfig settings")
    for name, typ in (("seq_len", int), ("batch", int), ("lr", float), ("warmup", int), ("max_steps", int),
                      ("max_minutes", float), ("stop_after", int), ("eval_every", int), ("eval_tokens", int),
                      ("patience", int), ("seed", int), ("threads", int), ("weight_decay", float), ("clip", float),
                      ("embedding", int), ("hidden", int), ("layers", int), ("dropout", float)):
        f.add_argument("--" + name.replace("_", "-"), dest=name, type=typ)
    f.add_argument("--init", help="start from these weights (an exported .onnx or a run's best.pt) of the same shape; "
                   "ignored when --out already holds a checkpoint")
    f.add_argument("--human", type=float, help="share of training windows with human tempo, timing and velocity (0..1)")
    f.add_argument("--no-augment", action="store_true")
    f.set_defaults(func=_fit)

    e = sub.add_parser("export", help="export a run to ONNX (checked against PyTorch)")
    e.add_argument("run")
    e.add_argument("--out", required=True)
    e.add_argument("--summary", help="one line describing the model, stored inside it")
    e.set_defaults(func=_export)

    v = sub.add_parser("eval", help="held-out NLL of a model or of the n-gram baseline")
    v.add_argument("--model")
    v.add_argument("--baseline", choices=["ngram"])
    v.add_argument("--data")
    v.add_argument("--split", nargs="+", default=["valid", "test"], choices=["train", "valid", "test"])
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_eval)

    s = sub.add_parser("sample", help="write call + answer MIDI files to listen to")
    s.add_argument("--model", default=str(ROOT / "exported" / "default.onnx"))
    s.add_argument("--out", default="samples")
    s.add_argument("--seconds", type=float, default=8.0)
    s.add_argument("--temperature", type=float, default=0.9)
    s.add_argument("--top-p", dest="top_p", type=float, default=0.95)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--takes", type=int, default=2)
    s.set_defaults(func=_sample)

    pe = sub.add_parser("personal", help="fine-tune a personal model from your recordings, in one command")
    pe.add_argument("--data", help="a folder of MIDI files (default: your livejam recordings)")
    pe.add_argument("--include-answers", action="store_true", help="also learn from livejam's answers")
    pe.add_argument("--from-scratch", action="store_true",
                    help="start again from the shipped default, not your last personal model")
    pe.add_argument("--name", help="the new model's name (default personal-DATE-TIME)")
    pe.add_argument("--steps", type=int, help="training steps (default: about six passes over your playing)")
    pe.add_argument("--threads", type=int)
    pe.add_argument("--base", help="start from this .onnx model (default: your newest personal model that "
                                   "beat the default, else the default)")
    pe.set_defaults(func=_personal)

    j = sub.add_parser("judge", help="answer quality: the judge's calls through `respond`, measured against each call")
    j.add_argument("--model", default=str(ROOT / "exported" / "default.onnx"))
    j.add_argument("--seeds", type=int, default=3)
    j.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="a runtime setting for every answer, e.g. key_adherence=0 (repeatable)")
    j.add_argument("--part", choices=["all", "answers", "adaptation", "phrase-end", "accompany", "harmony", "plan",
                                            "keyboard"],
                   default="all",
                   help="answers: each call alone; adaptation: 20-call styled sessions with adapt on and off; "
                        "keyboard: NLL and answers on held-out pieces of the keyboard corpus (--data); "
                        "phrase-end: the wait after a call's true end and answers inside its rests; accompany: "
                        "accompany mode along written melodies (the same as --mode accompany); harmony: --split, the "
                        "left hand's chords under accompany mode and answers, along written two-hand tunes; plan: "
                        "the notes shown ahead against those then played")
    j.add_argument("--mode", choices=["answer", "accompany"], default="answer",
                   help="accompany: judge accompany mode (every role, with a tempo and in free time)")
    j.add_argument("--role", action="append", choices=["bass", "chords", "counter"],
                   help="accompany roles to judge (repeatable; default: all three)")
    j.add_argument("--adapt", type=float, action="append", help="adapt values to judge (repeatable; default: "
                                                               "the runtime's default)")
    j.add_argument("--threshold", type=float, action="append",
                   help="model phrase-end thresholds to judge (repeatable; default: the runtime's)")
    j.add_argument("--out", help="also write the full result (every answer) as JSON here")
    j.add_argument("--data", help=f"keyboard part: the rendered corpus (default {KEYBOARD_DIR.relative_to(ROOT)})")
    j.add_argument("--compare", action="append", metavar="NAME=MODEL.onnx",
                   help="keyboard part: judge this model too, beside --model (repeatable)")
    j.add_argument("--per-piece", dest="per_piece", type=int, default=2, help="keyboard part: calls cut per piece")
    j.add_argument("--max-calls", dest="max_calls", type=int, default=160, help="keyboard part: at most this many calls")
    j.add_argument("--json", action="store_true")
    j.set_defaults(func=_judge)

    ph = sub.add_parser("phrase-end", help="fit the model's phrase-end head on the Lieder's marked phrase ends")
    ph.add_argument("--model", default=str(ROOT / "exported" / "default.onnx"))
    ph.add_argument("--out", help="write the model with its head here (may be --model itself)")
    ph.add_argument("--sources", help="folder holding lieder/ (default ../shared/corpus)")
    ph.add_argument("--data", help=f"the rendered corpus the model learned from, for its split "
                                   f"(default {KEYBOARD_DIR.relative_to(ROOT)})")
    ph.add_argument("--workers", type=int)
    ph.set_defaults(func=_phrase_end)

    b = sub.add_parser("bench", help="ingest files/s vs mido, training tokens/s, step latency ORT vs PyTorch")
    b.add_argument("--data")
    b.add_argument("--model", default=str(ROOT / "exported" / "default.onnx"))
    b.add_argument("--files", type=int, default=300)
    b.set_defaults(func=_bench)

    a = p.parse_args(argv)
    try:
        a.func(a)
    except ValueError as exc:
        sys.exit(f"bin/train {a.cmd}: {exc}")
    except ModuleNotFoundError as exc:
        if exc.name not in ("torch", "onnx", "music21", "tqdm", "matplotlib"):
            raise
        # livejam installed as a program (a wheel) has the runtime only.
        sys.exit(f"bin/train {a.cmd}: needs {exc.name}, from the train extra: run bin/train from a checkout, "
                 f"or install livejam[train]")


if __name__ == "__main__":
    main()
