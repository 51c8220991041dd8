"""`bin/train phrase-end`: teach a model where a call ends.

1. Label: the Lieder's voice lines, each rest an ending, a comma or a breath
   (phrase_labels.py; cached in data/phrases/).
2. Listen: each song's line through the model as livejam hears a call (rests over
   2 s heard as 2 s, as the listener caps them), stopping at every rest to take
   what the head reads there (phrase.call_features).
3. Fit: a logistic head, ending against breath, judged at each moment of the
   silence (every STEP from the floor to the silence threshold: a discrete-time
   hazard), on the model's training songs (the split the model was trained with);
   its L2 weight and its threshold chosen on the validation songs (the threshold:
   the lowest P(end) that ends at most MAX_FALSE of the breaths inside them);
   figures on the test songs.
4. Write it into the model's metadata ("phrase_head"), where the runtime finds it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from livejam.conversation.phrase import (CALL_FEATURES, ELAPSED_FEATURES, FLOOR, STEP, call_features,
                                         elapsed_features, model_gap_due)
from livejam.model import vocab

from .data import split_keyboard

HEARD_REST = 2.0  # seconds: the longest rest the live listener tells the model (listener.MAX_HEARD_REST_STEPS)
SILENCE = 0.8  # the default silence threshold: a longer rest ends a call whatever the head says
MAX_FALSE = 0.05  # the share of rests inside phrases the head may call an ending (validation songs)
# The GRU layers the head reads. None: on the validation songs the state added nothing
# to the gap odds and the call's shape (mean wait 0.691 s with both layers against
# 0.627 s without, at the same 5 % of breaths cut), and a head without it stays true
# for a personal model fine-tuned from this one.
LAYERS: tuple[int, ...] = ()
ENDINGS = ("end",)  # the classes the head learns to call endings (phrase_labels.CLASSES)
# A rest after a comma ends a verse line as often as it is a breath inside one: left
# out of fitting and of the figures, rather than taught as either.
LEFT_OUT = ("comma",)
L2 = (0.1, 1.0, 10.0, 100.0)


def heard_line(notes: list) -> np.ndarray:
    """The line with every rest over HEARD_REST shortened to it, as the listener hears it."""
    out, shift, prev_end = [], 0.0, None
    for s, e, p, v in notes:
        if prev_end is not None and s - prev_end > HEARD_REST:
            shift += s - prev_end - HEARD_REST
        out.append((s - shift, e - shift, p, v))
        prev_end = e if prev_end is None else max(prev_end, e)
    return np.array(out, np.float64).reshape(-1, 4)


def listen(model, notes: list, gaps: list, layers=LAYERS) -> list[tuple[np.ndarray, str, float, float]]:
    """(the features fixed at the release, the rest's class, its seconds, when the
    gap-odds rule would end the call) at each labelled rest of one song; the
    features end with the call's median IOI."""
    line = heard_line(notes)
    tokens = vocab.encode(line)
    label_at = {int(round(line[i, 1] * vocab.STEPS_PER_SECOND)): (cls, i) for i, cls in gaps}
    state = model.initial_state(1)
    logits, state = model.step(vocab.time_shift(1), state)
    rows, start, step, call_from = [], 0, 0, 0
    for j, tok in enumerate(tokens):
        kind, value = vocab.describe(int(tok))
        if kind == "TIME_SHIFT":
            step += value
            continue
        at = next((k for k in (step, step - 1, step + 1) if k in label_at), None)  # the score's end, quantised
        if kind != "NOTE_OFF" or at is None:
            continue
        nxt = int(tokens[j + 1]) if j + 1 < len(tokens) else None
        if nxt is not None and vocab.describe(nxt)[0] != "TIME_SHIFT":
            continue  # more tokens of this instant: the release is complete at the last of them
        out, state = model.run(np.array([tokens[start:j + 1]], np.int64), state)
        logits, start = out[0, -1], j + 1
        cls, i = label_at.pop(at)
        rest = float(line[i + 1, 0] - line[i, 1]) if i + 1 < len(line) else HEARD_REST
        call = [tuple(n) for n in line[call_from:i + 1]]
        x = np.concatenate([np.asarray(state, np.float64)[list(layers), 0].ravel(), call_features(logits, call)])
        rows.append((x, cls, rest, model_gap_due(logits, SILENCE)))
        if cls == "end" or rest >= SILENCE:
            call_from = i + 1  # the next call starts after this one was answered
    return rows


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, iters: int = 15) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (a few hundred features)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        delta = np.linalg.solve(hess, grad)
        w -= delta
        if np.abs(delta).max() < 1e-6:
            break
    return w[:-1], float(w[-1])


def _auc(p: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(p)
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    pos = y == 1
    return float((ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum()))


def moments() -> np.ndarray:
    return np.arange(FLOOR, SILENCE - 1e-9, STEP)


def expand(x: np.ndarray, y: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each rest judged at each moment of its silence: an inner rest until it ends
    (then the player plays on), an ending until the silence threshold."""
    t = moments()
    xs, ys = [], []
    for xi, yi, ri in zip(x, y, rest):
        d = t if yi else t[t < ri]
        if len(d):
            xs.append(np.hstack([np.broadcast_to(xi[:-1], (len(d), len(xi) - 1)), elapsed_features(d, xi[-1])]))
            ys.append(np.full(len(d), yi))
    return np.vstack(xs), np.concatenate(ys)


def first_end(p: np.ndarray, threshold: float) -> np.ndarray:
    """p: [rests, moments] -> seconds after the release each call is judged over."""
    t = moments()
    hit = p >= threshold
    return np.where(hit.any(1), t[np.argmax(hit, 1)], SILENCE)


def figures(at: np.ndarray, y: np.ndarray, rest: np.ndarray) -> dict:
    """Given when each call is judged over: the wait after an ending, and the share
    of rests inside a phrase (shorter than the silence threshold, which waits
    through them) the call is ended inside."""
    inner = (y == 0) & (rest < SILENCE)
    return {"endings": int(y.sum()), "inner_rests": int(inner.sum()),
            "mean_wait": round(float(at[y == 1].mean()), 3),
            "endings_within_0.35s": round(float((at[y == 1] <= 0.35 + 1e-9).mean()), 3),
            "inner_rests_ended_inside": round(float((at[inner] < rest[inner]).mean()), 3)}


def fit_head(model_path: Path, labels: dict, groups: dict, seed: int = 0, layers=LAYERS, endings=ENDINGS,
             left_out=LEFT_OUT, say=print) -> dict:
    from livejam.model.onnx_model import OnnxModel

    model = OnnxModel(model_path)
    # The split the model was trained with: over every file of its corpus (a composer
    # is held out by how many pieces it has in all collections, not in the Lieder alone).
    splits = {g["piece"]: s for g, s in zip(groups.values(), split_keyboard(list(groups.values()), seed))}
    known = [p for p in labels if p in splits and "gaps" in labels[p]]
    t0 = time.perf_counter()
    data = {s: ([], [], [], []) for s in ("train", "valid", "test")}
    for name in known:
        for x, cls, rest, odds in listen(model, labels[name]["notes"], labels[name]["gaps"], layers):
            if cls in left_out:
                continue
            xs, ys, rs, os_ = data[splits[name]]
            xs.append(x), ys.append(int(cls in endings)), rs.append(rest), os_.append(odds)
    arr = {s: tuple(np.array(v) for v in d[:3]) for s, d in data.items()}
    odds_at = {s: np.array(d[3]) for s, d in data.items()}
    say(f"listened to {len(known)} songs in {time.perf_counter() - t0:.0f} s: "
        + ", ".join(f"{s} {len(v[1])} rests ({int(v[1].sum())} endings)" for s, v in arr.items()))
    xt, yt = expand(*arr["train"])
    mean, scale = xt.mean(0), xt.std(0) + 1e-6
    xt = (xt - mean) / scale
    t = moments()

    def probs(w, b, s):
        """[rests, moments] of P(end) on a split."""
        x = arr[s][0]
        fixed = ((x[:, :-1] - mean[:-len(ELAPSED_FEATURES)]) / scale[:-len(ELAPSED_FEATURES)]) @ w[:-len(ELAPSED_FEATURES)]
        el = np.stack([((elapsed_features(t, ioi) - mean[-len(ELAPSED_FEATURES):]) / scale[-len(ELAPSED_FEATURES):])
                       @ w[-len(ELAPSED_FEATURES):] for ioi in x[:, -1]])
        return 1 / (1 + np.exp(-(fixed[:, None] + el + b)))

    def tuned(p, y, rest):
        """The lowest threshold that ends at most MAX_FALSE of the inner rests inside them."""
        for threshold in np.arange(0.3, 0.99, 0.01):
            if figures(first_end(p, threshold), y, rest)["inner_rests_ended_inside"] <= MAX_FALSE:
                return float(threshold)
        return 0.99

    best = None
    for l2 in L2:
        w, b = _fit_logistic(xt, yt, l2)
        p = probs(w, b, "valid")
        threshold = tuned(p, *arr["valid"][1:])
        f = figures(first_end(p, threshold), *arr["valid"][1:])
        say(f"  L2 {l2:g}: threshold {threshold:.2f}, validation {f}")
        if best is None or f["mean_wait"] < best[0]:
            best = (f["mean_wait"], l2, w, b, threshold)
    _, l2, w, b, threshold = best
    report = {"l2": l2, "threshold": round(threshold, 2), "max_false": MAX_FALSE,
              **{s: figures(first_end(probs(w, b, s), threshold), *arr[s][1:]) for s in ("train", "valid", "test")},
              # The same rests under the rule a model without a head keeps (phrase.model_gap_due).
              "gap_odds": {s: figures(odds_at[s], *arr[s][1:]) for s in ("valid", "test")}}
    # The head set to wait as little as the gap-odds rule does, on the test songs:
    # what its ranking is worth at the same speed.
    pt, want = probs(w, b, "test"), report["gap_odds"]["test"]["mean_wait"]
    same = min((figures(first_end(pt, th), *arr["test"][1:]) for th in np.arange(0.05, 0.99, 0.01)),
               key=lambda f: abs(f["mean_wait"] - want))
    report["head_at_gap_odds_wait"] = {"test": same}
    report["test_curve"] = {f"{th:.2f}": figures(first_end(pt, th), *arr["test"][1:])
                            for th in (0.5, 0.6, 0.7, 0.8, 0.9, threshold)}
    spec = {"features": list(CALL_FEATURES + ELAPSED_FEATURES), "layers": list(layers),
            "weights": [round(float(v), 6) for v in w], "bias": round(b, 6),
            "mean": [round(float(v), 6) for v in mean], "scale": [round(float(v), 6) for v in scale],
            "threshold": round(threshold, 2),
            "fitted_on": f"{len(known)} OpenScore Lieder voice lines (CC0), the model's own split (seed {seed})",
            "figures": {k: v for k, v in report.items() if k in ("train", "valid", "test")}}
    return {"spec": spec, "report": report}


def write_head(model_path: Path, out: Path, spec: dict) -> None:
    """The model with its phrase head in its metadata (everything else unchanged)."""
    import onnx

    m = onnx.load(str(model_path))
    kept = [(p.key, p.value) for p in m.metadata_props if p.key != "phrase_head"]
    del m.metadata_props[:]
    for k, v in kept + [("phrase_head", json.dumps(spec))]:
        m.metadata_props.add(key=k, value=v)
    tmp = Path(out).with_suffix(".tmp.onnx")
    onnx.save(m, str(tmp))
    tmp.replace(out)
