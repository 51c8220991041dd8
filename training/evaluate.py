"""Held-out NLL of an exported model (through ONNX Runtime, as the runtime runs
it) and of the n-gram baseline, on the same split of the same token cache."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .data import Corpus
from .ngram import evaluate_orders


def onnx_nll(model_path: Path, pieces: list[np.ndarray]) -> dict:
    """Mean NLL (nats/event) and accuracy over every token after each piece's first."""
    from livejam.model.onnx_model import OnnxModel

    model = OnnxModel(model_path)
    total, right, n = 0.0, 0, 0
    for p in pieces:
        if len(p) < 2:
            continue
        logits, _ = model.run(p[None, :-1].astype(np.int64), model.initial_state(1))
        z = logits[0].astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        target = p[1:]
        total -= float(logp[np.arange(len(target)), target].sum())
        right += int((z.argmax(1) == target).sum())
        n += len(target)
    return {"nll": total / max(n, 1), "accuracy": right / max(n, 1), "tokens": n}


def evaluate_model(model_path: Path, corpus: Corpus, splits=("valid", "test")) -> dict:
    return {s: onnx_nll(model_path, corpus.split_tokens(s)) for s in splits}


def evaluate_ngram(corpus: Corpus, splits=("valid", "test"), orders=range(3, 8)) -> dict:
    train = corpus.split_tokens("train")
    out = {}
    for s in splits:
        by_order = evaluate_orders(train, corpus.split_tokens(s), orders)
        best = min(by_order, key=by_order.get)
        out[s] = {"nll_by_order": by_order, "best_order": best, "nll": by_order[best]}
    return out
