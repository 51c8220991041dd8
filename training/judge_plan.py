"""`bin/train judge --part plan`: the plan ahead (the ghost notes on the roll, the
`plan` JSON lines) against what is then played, on the live engine driven by a
fake clock. Each of the judge's written calls (training/judge_calls.py) is played
and answered, in free time and with --bpm at the call's tempo (answers in bars);
every note of every plan said is looked for among the answer's notes (the same
pitch at the same time, within 2 ms). Accompany mode's plan (its next beat,
decided a beat ahead) comes from the accompany judge (its "plan kept" column)."""
from __future__ import annotations

import time

import numpy as np

from livejam.conversation.engine import Engine
from livejam.conversation.events import Interrupted, Planned
from livejam.midi.outputs import RecordingOutput
from livejam.offline import driver
from livejam.settings.config import LivejamConfig
from livejam.timing.wallclock import FakeClock

from .judge import as_messages
from .judge_calls import CALLS, call_notes

TOLERANCE = 0.002  # seconds


def plan_of_call(model, notes, bpm: float, seed: int) -> dict:
    clock = FakeClock(0.0)
    out = RecordingOutput(clock, "plan")
    cfg = LivejamConfig.from_dict({"record": False, "seed": seed, "bpm": bpm})
    eng = Engine(cfg, model, out, clock)
    said: list = []
    eng.subscribe(said.append)
    driver.play(eng, clock, [(1.0 + t, m) for t, m in as_messages(notes)])
    played = [(t, m.note) for t, m in out.messages if m.type == "note_on" and m.velocity > 0]
    total = kept = 0
    leads = []
    for ev in said:
        if isinstance(ev, Planned):
            for start, pitch, _ in ev.notes:
                total += 1
                at = start + eng.origin
                kept += any(abs(t - at) <= TOLERANCE and p == pitch for t, p in played)
                leads.append(start - ev.t)
    return {"planned": total, "kept": kept, "lead_max": max(leads) if leads else None,
            "lead_median": float(np.median(leads)) if leads else None,
            "interrupted": any(isinstance(e, Interrupted) for e in said)}


def judge_plan(model, seeds: int = 3) -> dict:
    t = time.perf_counter()
    rows = {}
    for tempo in (False, True):
        runs = []
        for name, (bpm, events) in CALLS.items():
            for seed in range(seeds):
                runs.append({"call": name, "seed": seed,
                             **plan_of_call(model, call_notes(bpm, events), bpm if tempo else 0.0, seed)})
        planned = sum(r["planned"] for r in runs)
        rows["in bars" if tempo else "free time"] = {
            "planned": planned, "kept": float(sum(r["kept"] for r in runs) / max(1, planned)),
            "lead_median": float(np.median([r["lead_median"] for r in runs if r["lead_median"] is not None])),
            "lead_max": float(max(r["lead_max"] for r in runs if r["lead_max"] is not None)),
            "interrupted": sum(r["interrupted"] for r in runs), "runs": runs}
    return {"calls": len(CALLS), "seeds": seeds, "seconds": round(time.perf_counter() - t, 1), "rows": rows}


def report_plan(result: dict) -> str:
    lines = ["", f"The plan ahead ({result['calls']} calls x {result['seeds']} seeds, answered; aim: the plan's "
                 "notes played as shown >= 99 %):", "",
             "| answers | notes planned | played as planned | said ahead, median / most (s) |", "|---|---|---|---|"]
    for name, r in result["rows"].items():
        lines.append(f"| {name} | {r['planned']} | {r['kept']:.1%} | {r['lead_median']:.2f} / {r['lead_max']:.2f} |")
    return "\n".join(lines)
