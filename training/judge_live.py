"""`bin/train judge`'s live parts: what adaptation and the model's phrase end do
over a session, measured on the live engine driven by a fake clock (the `respond`
path, one engine for a whole session, as a player's evening).

- adaptation: each style's 20-call session (judge_styles.py) played with adapt at
  a value and off; the style's share of the answers' notes (pitch classes in the
  style's scale) over the last five answers, and the NLL per token of each call
  under the model with the cache of everything played before it (and of the call
  so far), against the model alone;
- phrase end: the phrase-end calls with their true end and their rests; the
  wait from the true end to the phrase end, and the share of calls a phrase end
  fell inside a rest of.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from livejam.conversation.adaptation import SessionCache
from livejam.conversation.phrase import THRESHOLD, PhraseHead
from livejam.conversation.engine import Engine
from livejam.conversation.events import PhraseEnded
from livejam.midi.outputs import RecordingOutput
from livejam.model import vocab
from livejam.offline import driver
from livejam.settings.config import LivejamConfig
from livejam.timing.wallclock import FakeClock

from .judge import as_messages, as_notes
from .judge_styles import PHRASE_CALLS, STYLES, phrase_call, session

GAP = 1.0  # seconds between an answer's end and the next call


def play_session(model, cfg: LivejamConfig, calls, threshold: float | None = None) -> tuple[list[list], list[PhraseEnded]]:
    """Every call into one engine, each after the answer to the last; the answers'
    notes per call, and the phrase ends (threshold: the model phrase end's, to tune it)."""
    clock = FakeClock(0.0)
    out = RecordingOutput(clock, "answer")
    eng = Engine(replace(cfg, record=False), model, out, clock)
    if threshold is not None:
        eng.conversation.phrases.model_threshold = threshold
    ends: list[PhraseEnded] = []
    eng.subscribe(lambda ev: ends.append(ev) if isinstance(ev, PhraseEnded) else None)
    answers = []
    for call in calls:
        t0 = clock.now() + GAP
        before = len(out.messages)
        driver.play(eng, clock, [(t0 + t, m) for t, m in as_messages(call)])
        answers.append(as_notes(out.messages[before:]))
    return answers, ends


def call_nll(model, calls, adapt: float) -> list[float]:
    """Per call: mean NLL per token (nats) of its tokens, the model starting afresh
    on each, with the session cache (the calls before it, and the call up to each
    token) mixed in at the weight `adapt` gives it live; adapt 0: the model alone."""
    cache = SessionCache()
    out = []
    for call in calls:
        tokens = [vocab.time_shift(1)] + [int(x) for x in vocab.encode(call)]
        logits, _ = model.run(np.array([tokens], np.int64), model.initial_state(1))
        nll, line, last = [], [], "NOTE_OFF"
        for z, tok in zip(logits[0, :-1], tokens[1:]):
            z = cache.mixed(z, line, cache.weight(adapt), last)
            z = z - z.max()
            nll.append(float(np.log(np.exp(z).sum()) - z[tok]))
            cache.feed([tok])
            kind, value = vocab.describe(tok)
            last = last if kind == "TIME_SHIFT" else kind
            if kind == "NOTE_ON":
                line.append(value)
        out.append(float(np.mean(nll)))
    return out


def style_share(notes, pcs) -> float | None:
    return float(np.mean([p % 12 in pcs for _, _, p, _ in notes])) if notes else None


def pc_match(notes, calls) -> float | None:
    """1 - total variation distance between the answer's pitch-class counts and the calls'."""
    if not notes:
        return None
    a = np.bincount([p % 12 for _, _, p, _ in notes], minlength=12).astype(float)
    c = np.bincount([p % 12 for call in calls for _, _, p, _ in call], minlength=12).astype(float)
    return 1 - 0.5 * float(np.abs(a / a.sum() - c / c.sum()).sum())


def judge_adaptation(model, adapt: float, seeds: int = 2, overrides: dict | None = None) -> dict:
    base = LivejamConfig.from_dict({"record": False, **(overrides or {})})
    t0 = time.perf_counter()
    rows = {}
    for name, style in STYLES.items():
        r = {"share_last5": {}, "share_first5": {}, "pc_match_last5": {}, "nll": {}}
        for label, a in (("off", 0.0), ("on", adapt)):
            last, first, match = [], [], []
            for seed in range(seeds):
                calls = session(name, seed=seed)
                answers, _ = play_session(model, replace(base, adapt=a, seed=seed), calls)
                shares = [style_share(x, style.pitch_classes) for x in answers]
                last += [s for s in shares[-5:] if s is not None]
                first += [s for s in shares[:5] if s is not None]
                match += [m for m in (pc_match(x, calls) for x in answers[-5:]) if m is not None]
            r["pc_match_last5"][label] = float(np.mean(match))
            r["share_last5"][label] = float(np.mean(last))
            r["share_first5"][label] = float(np.mean(first))
            r["nll"][label] = call_nll(model, session(name, seed=0), a)
        n_off, n_on = np.array(r["nll"]["off"]), np.array(r["nll"]["on"])
        r["share_gain_last5"] = r["share_last5"]["on"] - r["share_last5"]["off"]
        r["pc_match_gain_last5"] = r["pc_match_last5"]["on"] - r["pc_match_last5"]["off"]
        r["nll_drop_call10"] = float(1 - n_on[9] / n_off[9])
        r["nll_drop_calls10_20"] = float(1 - n_on[9:].mean() / n_off[9:].mean())
        rows[name] = r
    return {"adapt": adapt, "seeds": seeds, "seconds": round(time.perf_counter() - t0, 1), "styles": rows,
            "share_gain_last5": float(np.mean([r["share_gain_last5"] for r in rows.values()])),
            "pc_match_gain_last5": float(np.mean([r["pc_match_gain_last5"] for r in rows.values()])),
            "nll_drop_call10": float(np.mean([r["nll_drop_call10"] for r in rows.values()])),
            "nll_drop_calls10_20": float(np.mean([r["nll_drop_calls10_20"] for r in rows.values()]))}


PRIMED_STYLES = ("whole-tone", "blues")
FIRST = 5  # answers judged after priming


def judge_prime(model, seeds: int = 2, overrides: dict | None = None) -> dict:
    """`--prime`: a file of one style's playing (a 20-call session of another seed,
    laid end to end) primed before the first call, against no prime; the style's
    share of the first FIRST answers to that style's calls."""
    import tempfile

    from livejam.midi.files import write_tracks

    base = LivejamConfig.from_dict({"record": False, **(overrides or {})})
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in PRIMED_STYLES:
            style, shares = STYLES[name], {"off": [], "on": []}
            for seed in range(seeds):
                t, notes = 0.0, []
                for call in session(name, seed=100 + seed):
                    notes += [(t + s, t + e, p, v) for s, e, p, v in call]
                    t = max(e for _, e, _, _ in notes) + GAP
                path = Path(tmp) / f"{name}-{seed}.mid"
                write_tracks(path, [("prime", notes)])
                calls = session(name, seed=seed)[:FIRST]
                for label, prime in (("off", ""), ("on", str(path))):
                    answers, _ = play_session(model, replace(base, seed=seed, prime=prime), calls)
                    shares[label] += [x for x in (style_share(a, style.pitch_classes) for a in answers) if x is not None]
            rows[name] = {k: float(np.mean(v)) for k, v in shares.items()}
            rows[name]["gain"] = rows[name]["on"] - rows[name]["off"]
    return {"first_answers": FIRST, "seeds": seeds, "styles": rows,
            "gain": float(np.mean([r["gain"] for r in rows.values()]))}


def judge_phrase_end(model, overrides: dict | None = None, threshold: float | None = None) -> dict:
    """Each phrase-end call alone (a fresh engine: the wait should not depend on the one before)."""
    cfg = LivejamConfig.from_dict({"record": False, "seed": 0, **(overrides or {})})
    rows = []
    for name, bpm, events in PHRASE_CALLS:
        notes, rests = phrase_call(bpm, events)
        _, ends = play_session(model, cfg, [notes], threshold)
        t0 = GAP
        true_end = t0 + max(e for _, e, _, _ in notes)
        inside = [ev.t for ev in ends if ev.t < true_end - 1e-6]
        after = [ev.t - true_end for ev in ends if ev.t >= true_end - 1e-6]
        rows.append({"call": name, "rests": len(rests), "wait": round(after[0], 3) if after else None,
                     "inside_rest": bool(inside)})
    waits = [r["wait"] for r in rows if r["wait"] is not None]
    with_rests = [r for r in rows if r["rests"]]
    head = PhraseHead.from_metadata(getattr(model, "metadata", None) or {})
    own = head.threshold if head is not None else THRESHOLD
    return {"settings": {"phrase_rule": cfg.phrase_rule, "silence": cfg.silence, "threshold": threshold or own,
                         "judge": "phrase head" if head is not None else "gap odds"},
            "calls": len(rows),
            "mean_wait": float(np.mean(waits)), "max_wait": float(np.max(waits)),
            "inside_rest_share": float(np.mean([r["inside_rest"] for r in rows])),
            "inside_rest_share_of_calls_with_rests": float(np.mean([r["inside_rest"] for r in with_rests])),
            "per_call": rows}


def report_live(adaptation: list[dict], phrase_end: list[dict], prime: dict | None = None) -> str:
    lines = []
    if prime:
        lines += ["", f"Prime (`--prime`: a file of the style's playing before the first call; style share of the "
                      f"first {prime['first_answers']} answers):", "",
                  "| style | share, no prime | share, primed | gain |", "|---|---|---|---|"]
        lines += [f"| {n} | {r['off']:.2f} | {r['on']:.2f} | {r['gain']:+.2f} |" for n, r in prime["styles"].items()]
        lines.append(f"| **mean** | | | **{prime['gain']:+.2f}** |")
    if adaptation:
        lines += ["", "Adaptation (20-call sessions; style share = answer notes in the style's scale, last five "
                      "answers; pc match = 1 - TVD of pitch classes to the calls; NLL per token of each call):", "",
                  "| adapt | style | share off | share on | pc match off | pc match on | NLL drop call 10 | "
                  "NLL drop calls 10-20 |", "|---|---|---|---|---|---|---|---|"]
        for r in adaptation:
            for name, s in r["styles"].items():
                lines.append(f"| {r['adapt']:g} | {name} | {s['share_last5']['off']:.2f} | {s['share_last5']['on']:.2f} | "
                             f"{s['pc_match_last5']['off']:.2f} | {s['pc_match_last5']['on']:.2f} | "
                             f"{s['nll_drop_call10']:.1%} | {s['nll_drop_calls10_20']:.1%} |")
            lines.append(f"| **{r['adapt']:g}** | **mean** | | share +{r['share_gain_last5']:.2f} | | "
                         f"pc match +{r['pc_match_gain_last5']:.2f} | **{r['nll_drop_call10']:.1%}** | "
                         f"{r['nll_drop_calls10_20']:.1%} |")
    if phrase_end:
        lines += ["", f"Phrase end ({phrase_end[0]['calls']} calls with their true end, "
                      f"{sum(1 for c in phrase_end[0]['per_call'] if c['rests'])} with rests inside):", "",
                  "| phrase end | threshold | mean wait after the true end | longest | answered inside a rest |",
                  "|---|---|---|---|---|"]
        for r in phrase_end:
            st = r["settings"]
            lines.append(f"| {st['phrase_rule']} | {st['threshold'] if st['phrase_rule'] == 'model' else '-'} | "
                         f"{r['mean_wait']:.3f} s | {r['max_wait']:.2f} s | {r['inside_rest_share']:.0%} |")
    return "\n".join(lines)
