"""`bin/train judge`: how answers relate to their calls, measured.

Plays every call of judge_calls.py through the offline `respond` path (the live
engine on a fake clock, with the runtime's default settings unless told) with
several seeds, and measures each answer against its call:

- in_key: share of answer notes in the call's key (livejam.conversation.call.estimate_key:
  Krumhansl-Schmuckler, the scale plus pitch classes the call dwells on);
- register: answer mean pitch minus the call's, semitones (duration-weighted);
- density: answer notes per second over the call's;
- copy: share of the answer's 4-note pitch runs found verbatim in the call;
- pc_distance: total variation distance of the pitch-class duration histograms (0 same .. 1 disjoint);
- rhythm: 1 - total variation distance of the inter-onset-interval histograms (1 same).
"""
from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import mido
import numpy as np

from livejam.model import vocab
from livejam.conversation.call import pitch_class_weights, profile_of
from livejam.settings.config import LivejamConfig, coerce
from livejam.offline.respond import respond
from livejam.model.onnx_model import OnnxModel

from .judge_calls import CALLS, call_notes

IOI_BINS = np.array([0.0, 0.07, 0.14, 0.28, 0.56, 1.12, np.inf])  # seconds: 32nds .. whole notes at 120 bpm
METRICS = ("in_key", "register", "density", "copy", "pc_distance", "rhythm")


def as_messages(notes) -> list[tuple[float, mido.Message]]:
    msgs = []
    for s, e, p, v in notes:
        msgs.append((e, 0, mido.Message("note_off", note=p)))
        msgs.append((s, 1, mido.Message("note_on", note=p, velocity=v)))
    return [(t, m) for t, _, m in sorted(msgs, key=lambda x: (x[0], x[1]))]


def as_notes(messages) -> list[tuple[float, float, int, int]]:
    open_, out = {}, []
    for t, m in messages:
        if m.type == "note_on" and m.velocity > 0:
            open_[m.note] = (t, m.velocity)
        elif m.type in ("note_on", "note_off") and m.note in open_:
            s, v = open_.pop(m.note)
            out.append((s, t, m.note, v))
    return sorted(out)


def _runs(pitches, k=4) -> list[tuple[int, ...]]:
    return [tuple(pitches[i : i + k]) for i in range(len(pitches) - k + 1)]


def _ioi_histogram(onsets) -> np.ndarray:
    t = np.unique(np.round(np.asarray(onsets, float), 3))
    h = np.histogram(np.diff(t), IOI_BINS)[0].astype(float) if len(t) > 1 else np.zeros(len(IOI_BINS) - 1)
    return h / h.sum() if h.sum() else h


def measure(call, answer) -> dict:
    """One answer against its call (both lists of (start, end, pitch, velocity)).
    The call is measured as the model heard it (on the 10 ms grid), as steering does."""
    call = [tuple(n) for n in vocab.quantize(call)]
    c, a = profile_of(call), profile_of(answer)
    if not answer:
        return {"notes": 0, **{m: None for m in METRICS}}
    in_key = float(np.mean([c.key.contains(p) for p in a.pitches])) if c.key else None
    runs = _runs(a.pitches)
    call_runs = set(_runs(c.pitches))
    wc, wa = pitch_class_weights(call), pitch_class_weights(answer)
    hc, ha = _ioi_histogram(c.onsets), _ioi_histogram(a.onsets)
    return {
        "notes": len(answer),
        "in_key": in_key,
        "register": a.center - c.center,
        "density": a.rate / c.rate if c.rate else None,
        "copy": float(np.mean([r in call_runs for r in runs])) if runs else 0.0,
        "pc_distance": 0.5 * float(np.abs(wc / wc.sum() - wa / wa.sum()).sum()),
        "rhythm": 1 - 0.5 * float(np.abs(hc - ha).sum()) if ha.sum() and hc.sum() else None,
    }


def judge(model: Path, seeds: int = 3, overrides: dict | None = None) -> dict:
    """Every call x every seed; per call (means over seeds) and overall."""
    onnx_model = OnnxModel(model)
    base = LivejamConfig.from_dict({"record": False, **(overrides or {})})
    per_call, answers = {}, []
    t0 = time.perf_counter()
    for name, (bpm, events) in CALLS.items():
        call = call_notes(bpm, events)
        rows = []
        for seed in range(seeds):
            cfg = replace(base, seed=seed)
            answer = as_notes(respond(as_messages(call), cfg, onnx_model))
            row = measure(call, answer)
            rows.append(row)
            answers.append({"call": name, "seed": seed, **row})
        per_call[name] = {"key": profile_of(call).key.name, **_means(rows)}
    overall = _means(answers)
    keys = [a["in_key"] for a in answers if a["in_key"] is not None]
    overall["in_key_min"] = min(keys) if keys else None
    overall["register_abs"] = float(np.mean([abs(a["register"]) for a in answers if a["register"] is not None]))
    return {"model": str(model), "seeds": seeds, "calls": len(CALLS), "answers": len(answers),
            "settings": {k: getattr(base, k) for k in ("key_adherence", "register", "density", "echo", "adapt",
                                                         "temperature", "top_p")},
            "seconds": round(time.perf_counter() - t0, 1), "overall": overall, "per_call": per_call,
            "answers_detail": answers}


def _means(rows) -> dict:
    out = {"notes": float(np.mean([r["notes"] for r in rows]))}
    for m in METRICS:
        vals = [r[m] for r in rows if r[m] is not None]
        out[m] = float(np.mean(vals)) if vals else None
    return out


def parse_overrides(pairs: list[str]) -> dict:
    """['key_adherence=0', 'echo=0.5'] -> typed settings (the runtime's own checks)."""
    out = {}
    for pair in pairs or []:
        name, _, value = pair.partition("=")
        name = name.strip().replace("-", "_")
        out[name] = coerce(name, float(value) if "." in value else int(value))
    return out


def report(result: dict) -> str:
    def f(v, fmt="{:.2f}"):
        return "-" if v is None else fmt.format(v)

    o = result["overall"]
    lines = [
        f"model {result['model']}: {result['calls']} calls x {result['seeds']} seeds = {result['answers']} answers "
        f"in {result['seconds']} s; settings {json.dumps(result['settings'])}",
        "",
        "| call | key | notes | in key | register | density | copy | pc dist | rhythm |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["per_call"].items():
        lines.append(f"| {name} | {r['key']} | {f(r['notes'], '{:.1f}')} | {f(r['in_key'], '{:.0%}')} | "
                     f"{f(r['register'], '{:+.1f}')} | {f(r['density'])} | {f(r['copy'])} | {f(r['pc_distance'])} | "
                     f"{f(r['rhythm'])} |")
    lines.append(f"| **all** | | {f(o['notes'], '{:.1f}')} | **{f(o['in_key'], '{:.1%}')}** (lowest "
                 f"{f(o['in_key_min'], '{:.0%}')}) | {f(o['register'], '{:+.1f}')} (mean abs "
                 f"{f(o['register_abs'], '{:.1f}')}) | {f(o['density'])} | {f(o['copy'])} | {f(o['pc_distance'])} | "
                 f"{f(o['rhythm'])} |")
    return "\n".join(lines)
