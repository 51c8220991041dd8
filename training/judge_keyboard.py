"""`bin/train judge --part keyboard`: the default model judged on keyboard music it never heard.

Two measures, both on the test split of the rendered keyboard corpus (pieces held
out by piece, and composers held out whole: training/data.py split_keyboard):

- NLL per event of the model, of the best n-gram trained on the same train split,
  and of any other model given (today's default), over the same held-out pieces;
- calls cut from held-out pieces (CALL_SECONDS of the piece), each answered through
  the offline `respond` path, and the answers' features against what the piece
  really played next, as overlapping areas of their distributions (Yang & Lerch
  2020, "On the evaluation of generative models in music"). The ceiling is the
  continuations against themselves: one half of the calls' continuations against
  the other half, the same number of phrases on each side; the answers are
  compared the same way (half A's answers against half B's continuations and the
  other way round), so both figures carry the same sampling noise.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from livejam.conversation.call import chord_groups, estimate_key
from livejam.model import vocab
from livejam.offline.respond import respond
from livejam.settings.config import LivejamConfig

from .data import Corpus, composer_key, piece_groups
from .judge import as_messages, as_notes

CALL_SECONDS = 6.0  # a call as long as the external check's
MIN_NOTES = 8  # a window with fewer notes says too little to judge
FEATURES = ("polyphony", "chords", "range", "pc_entropy", "ioi", "length", "rate", "in_key")


def features(notes, key=None) -> dict:
    """The eight features of one phrase: notes sounding together (mean, while any
    sound), share of onsets that are chords, range (semitones), pitch-class entropy
    (bits), median inter-onset interval (s, between chords), median note length (s),
    notes per second, share of notes in `key` (the call's)."""
    n = np.asarray([tuple(x)[:4] for x in notes], np.float64).reshape(-1, 4)
    n = n[np.argsort(n[:, 0], kind="stable")]
    start, end = n[:, 0].min(), n[:, 1].max()
    grid = np.arange(start, end, 0.01)
    sounding = ((n[:, 0][None, :] <= grid[:, None]) & (grid[:, None] < n[:, 1][None, :])).sum(1)
    onsets = n[:, 0]
    groups = chord_groups(onsets)
    sizes = np.bincount(groups)
    firsts = onsets[np.concatenate([[0], np.nonzero(np.diff(groups))[0] + 1])]
    pc = np.bincount(n[:, 2].astype(int) % 12, minlength=12) / len(n)
    nz = pc[pc > 0]
    return {
        "polyphony": float(sounding[sounding > 0].mean()) if (sounding > 0).any() else 0.0,
        "chords": float((sizes >= 2).mean()),
        "range": float(n[:, 2].max() - n[:, 2].min()),
        "pc_entropy": float(-(nz * np.log2(nz)).sum()),
        "ioi": float(np.median(np.diff(firsts))) if len(firsts) > 1 else float(end - start),
        "length": float(np.median(n[:, 1] - n[:, 0])),
        "rate": float(len(n) / max(end - start, 0.01)),
        "in_key": float(np.mean([key.contains(int(p)) for p in n[:, 2]])) if key else 1.0,
    }


def _kde(x: np.ndarray, grid: np.ndarray, bw: float) -> np.ndarray:
    z = (grid[:, None] - x[None, :]) / bw
    return np.exp(-0.5 * z * z).sum(1) / (len(x) * bw * np.sqrt(2 * np.pi))


def overlap_area(a, b, points: int = 1024) -> float:
    """Overlapping area of two samples' Gaussian kernel density estimates (Scott's
    bandwidth, each its own): 1 for one distribution, 0 for disjoint ones."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    span = max(np.ptp(np.concatenate([a, b])), 1e-6)

    def bw(x):
        s = x.std(ddof=1) if len(x) > 1 else 0.0
        return max(s * len(x) ** -0.2, span * 0.01)

    ba, bb = bw(a), bw(b)
    lo = min(a.min() - 4 * ba, b.min() - 4 * bb)
    hi = max(a.max() + 4 * ba, b.max() + 4 * bb)
    grid = np.linspace(lo, hi, points)
    return float(np.trapezoid(np.minimum(_kde(a, grid, ba), _kde(b, grid, bb)), grid))


def mean_overlap(rows_a: list[dict], rows_b: list[dict]) -> dict:
    per = {f: overlap_area([r[f] for r in rows_a], [r[f] for r in rows_b]) for f in FEATURES}
    return {"mean": float(np.mean(list(per.values()))), **per}


def cut_calls(corpus: Corpus, ids: list[int], per_piece: int, seed: int) -> list[dict]:
    """Up to per_piece (call, continuation) pairs from each piece: the notes that
    start within CALL_SECONDS (released by its end at the latest, as a player who
    stops), and the notes the piece played in the CALL_SECONDS after."""
    rng = np.random.default_rng(seed)
    out = []
    for i in ids:
        notes = corpus.piece_notes(i).astype(np.float64)
        if len(notes) == 0:
            continue
        dur = float(notes[:, 1].max())
        starts = np.arange(0.0, dur - 2 * CALL_SECONDS, CALL_SECONDS)
        taken = 0
        for t0 in rng.permutation(starts):
            call = notes[(notes[:, 0] >= t0) & (notes[:, 0] < t0 + CALL_SECONDS)].copy()
            cont = notes[(notes[:, 0] >= t0 + CALL_SECONDS) & (notes[:, 0] < t0 + 2 * CALL_SECONDS)].copy()
            if len(call) < MIN_NOTES or len(cont) < MIN_NOTES:
                continue
            call[:, 1] = np.minimum(call[:, 1], t0 + CALL_SECONDS)
            call[:, :2] -= t0
            cont[:, :2] -= t0 + CALL_SECONDS
            out.append({"piece": corpus.pieces[i].name, "call": call, "continuation": cont})
            taken += 1
            if taken == per_piece:
                break
    return out


def answer_calls(model, calls: list[dict], overrides: dict | None = None, seed: int = 0) -> list[dict]:
    base = LivejamConfig.from_dict({"record": False, **(overrides or {})})
    rows = []
    for k, c in enumerate(calls):
        call = [(float(s), float(e), int(p), int(v)) for s, e, p, v in c["call"]]
        answer = as_notes(respond(as_messages(call), replace(base, seed=seed + k), model))
        key = estimate_key(call)
        rows.append({
            "piece": c["piece"],
            "call": features(call, key),
            "continuation": features(c["continuation"], key),
            "answer": features(answer, key) if len(answer) >= 2 else None,
            "answer_notes": len(answer),
        })
    return rows


def feature_report(rows: list[dict]) -> dict:
    """Overlapping areas (answers vs continuations, crossed halves; the ceiling,
    continuations half vs half; the calls vs continuations) and each feature's
    median for the answers and the continuations, with the continuations' spread."""
    rows = [r for r in rows if r["answer"] is not None]
    half = len(rows) // 2
    a, b = rows[:half], rows[half : 2 * half]
    cont = lambda rs: [r["continuation"] for r in rs]  # noqa: E731
    ans = lambda rs: [r["answer"] for r in rs]  # noqa: E731
    crossed = [mean_overlap(ans(a), cont(b)), mean_overlap(ans(b), cont(a))]
    answers_vs = {f: float(np.mean([c[f] for c in crossed])) for f in ["mean", *FEATURES]}
    medians = {}
    for f in FEATURES:
        cv = np.array([r["continuation"][f] for r in rows])
        av = np.array([r["answer"][f] for r in rows])
        medians[f] = {"answers": float(np.median(av)), "continuations": float(np.median(cv)),
                      "continuations_iqr": [float(np.percentile(cv, 25)), float(np.percentile(cv, 75))]}
    return {
        "phrases": 2 * half,
        "answers_vs_continuations": answers_vs,
        "ceiling": mean_overlap(cont(a), cont(b)),
        "calls_vs_continuations": mean_overlap([r["call"] for r in a], cont(b)),
        "medians": medians,
    }


def nll_report(corpus: Corpus, models: dict, orders=range(3, 8)) -> dict:
    """NLL per event on the test split, pieces held out and composers held out
    apart, for each model (name -> OnnxModel path) and the best n-gram."""
    from .evaluate import onnx_nll
    from .ngram import NGram

    groups = piece_groups(Path(corpus.summary["root"]))
    composer = lambda i: composer_key(groups.get(corpus.pieces[i].name, {}).get("composer", "?"))  # noqa: E731
    trained = {composer(i) for i in corpus.ids("train")}
    test = corpus.ids("test")
    sets = {"pieces held out": [i for i in test if composer(i) in trained],
            "composers held out": [i for i in test if composer(i) not in trained]}
    train_tokens = corpus.split_tokens("train")
    held = {name: [corpus.piece_tokens(i) for i in ids] for name, ids in sets.items()}
    by_order: dict[str, dict[int, float]] = {name: {} for name in sets}
    for n in orders:  # each order fitted once, scored on both sets
        gram = NGram(n).fit(train_tokens)
        for name, toks in held.items():
            by_order[name][n] = gram.nll(toks) if toks else float("nan")
    out = {}
    for name, ids in sets.items():
        toks = held[name]
        best = min(by_order[name], key=by_order[name].get)
        row = {"pieces": len(ids), "composers": len({composer(i) for i in ids}), "tokens": int(sum(map(len, toks))),
               "ngram": by_order[name][best], "ngram_order": best}
        for label, path in models.items():
            row[label] = onnx_nll(Path(path), toks)["nll"]
        out[name] = row
    return out


def judge_keyboard(model_path: Path, data: Path, others: dict | None = None, per_piece: int = 2, seed: int = 0,
                   overrides: dict | None = None, max_calls: int = 160) -> dict:
    from livejam.model.onnx_model import OnnxModel

    from .data import ingest

    t0 = time.perf_counter()
    corpus = ingest(Path(data), quiet=True)
    calls = cut_calls(corpus, corpus.ids("test"), per_piece, seed)
    np.random.default_rng(seed).shuffle(calls)  # halves A and B mix pieces and collections
    calls = calls[:max_calls]
    result = {"model": str(model_path), "calls": len(calls),
              "nll": nll_report(corpus, {"model": model_path, **(others or {})})}
    for label, path in {"model": model_path, **(others or {})}.items():
        rows = answer_calls(OnnxModel(Path(path)), calls, overrides, seed)
        result.setdefault("features", {})[label] = feature_report(rows)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def report_keyboard(r: dict) -> str:
    lines = [f"keyboard judge: {r['calls']} calls cut from held-out pieces, {r['seconds']} s", "",
             "| held out | pieces | composers | tokens | best n-gram | " + " | ".join(
                 k for k in next(iter(r["nll"].values())) if k not in ("pieces", "composers", "tokens", "ngram",
                                                                        "ngram_order")) + " |"]
    lines.append("|" + "---|" * (lines[-1].count("|") - 1))
    for name, row in r["nll"].items():
        models = [f"{v:.3f} ({(v / row['ngram'] - 1):+.1%})" for k, v in row.items()
                  if k not in ("pieces", "composers", "tokens", "ngram", "ngram_order")]
        lines.append(f"| {name} | {row['pieces']} | {row['composers']} | {row['tokens']} | "
                     f"{row['ngram']:.3f} (order {row['ngram_order']}) | " + " | ".join(models) + " |")
    lines += ["", "| overlapping area | mean | " + " | ".join(FEATURES) + " |", "|---|" + "---|" * (len(FEATURES) + 1)]
    first = next(iter(r["features"].values()))
    for label, rows in [("ceiling: continuations half vs half", first["ceiling"]),
                        ("calls vs continuations", first["calls_vs_continuations"])] + [
            (f"answers ({k}) vs continuations", v["answers_vs_continuations"]) for k, v in r["features"].items()]:
        lines.append(f"| {label} | **{rows['mean']:.3f}** | " + " | ".join(f"{rows[f]:.2f}" for f in FEATURES) + " |")
    lines += ["", "| median | " + " | ".join(FEATURES) + " |", "|---|" + "---|" * len(FEATURES)]
    m = first["medians"]
    lines.append("| continuations (IQR) | " + " | ".join(
        f"{m[f]['continuations']:.2f} ({m[f]['continuations_iqr'][0]:.2f}-{m[f]['continuations_iqr'][1]:.2f})"
        for f in FEATURES) + " |")
    for k, v in r["features"].items():
        lines.append(f"| answers ({k}) | " + " | ".join(f"{v['medians'][f]['answers']:.2f}" for f in FEATURES) + " |")
    return "\n".join(lines)
