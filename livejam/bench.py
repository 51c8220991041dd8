"""`livejam bench`: the runtime's figures (benchmarks print numbers; tests do not time).

- model step, 1 thread, warm: p50/p99;
- engine cost per played event (encode + step + bookkeeping) as a ratio to a bare step;
- streaming vs generate-then-play: time from the phrase-end decision to the first
  note ready, for each, and their ratio;
- with --jack, end to end through a running JACK server: answer onset (decision ->
  first answer note-on at a receiving client) p50/p95, and answer timing error
  against the intended 10 ms grid p50/p99, by the client's wall clock.
"""
from __future__ import annotations

import os
import platform
import time

import mido
import numpy as np

from .answer import Answer
from .clock import FakeClock
from .config import LivejamConfig
from .engine import Engine
from .output import RecordingOutput
from .session import DEFAULT_MODEL, ModelSession


def _pct(values, *ps) -> dict:
    a = np.asarray(values) * 1000
    return {f"p{p}_ms": round(float(np.percentile(a, p)), 4) for p in ps}


def bench_step(sess: ModelSession, n: int = 3000) -> dict:
    state = sess.initial_state(1)
    rng = np.random.default_rng(0)
    times = []
    for i, tok in enumerate(rng.integers(0, 388, n)):
        t0 = time.perf_counter()
        _, state = sess.step(int(tok), state)
        if i >= 200:
            times.append(time.perf_counter() - t0)
    return _pct(times, 50, 99)


def bench_engine_event(sess: ModelSession, n: int = 2000) -> dict:
    clock = FakeClock()
    eng = Engine(LivejamConfig(record=False, seed=0), sess, RecordingOutput(clock), clock)
    rng = np.random.default_rng(1)
    times, down = [], []
    for i in range(n):
        clock.advance(float(rng.uniform(0.01, 0.2)))
        if down and (len(down) > 3 or rng.random() < 0.5):
            msg = mido.Message("note_off", note=down.pop(0))
        else:
            p = int(rng.integers(48, 84))
            if p in down:
                continue
            down.append(p)
            msg = mido.Message("note_on", note=p, velocity=80)
        t0 = time.perf_counter()
        eng.played(msg, clock.now())
        times.append(time.perf_counter() - t0)
    return _pct(times[200:], 50, 99)


def bench_streaming_vs_whole(sess: ModelSession, seconds: float = 8.0, trials: int = 20) -> dict:
    cfg = LivejamConfig(record=False, seed=0)
    from .sampler import Sampler

    first, whole = [], []
    for k in range(trials):
        state = sess.initial_state(1)
        logits, state = sess.run(np.array([[0, 60 + 256, 288, 62, 256 + 62 + 0]], np.int64), state)
        for mode, sink in (("stream", first), ("whole", whole)):
            ans = Answer(sess, Sampler(0.9, 0.95, k), cfg, state, logits[0, -1], 0, 0.0, seconds, 16)
            t0 = time.perf_counter()
            if mode == "stream":
                while not any(m.type == "note_on" for _, m in ans.fill(ans.time_of(ans.dec.step), 0)):
                    pass
            else:
                ans.fill(float("inf"), 0)
            sink.append(time.perf_counter() - t0)
    s, w = _pct(first, 50, 95), _pct(whole, 50, 95)
    return {"answer_seconds": seconds, "streaming_first_note": s, "generate_then_play_first_note": w,
            "ratio_p50": round(w["p50_ms"] / s["p50_ms"], 1)}


def _keyboard_and_daw(phrases: int, gap: float, conn) -> None:
    """In its own process, as a real keyboard and DAW would be: play a phrase every
    `gap` seconds into livejam, record what comes out (wall clock at receipt)."""
    from . import ports
    from .loopback import Loopback

    lb = Loopback(ports.api_id("jack"), ports.VIRTUAL_IN, ports.VIRTUAL_OUT)
    starts = []
    t0 = time.perf_counter() + 0.5
    for i in range(phrases):
        time.sleep(max(0.0, t0 + i * gap - time.perf_counter()))
        starts.append(time.perf_counter())
        lb.play([60 + i % 12, 64, 67], each=0.1)
    time.sleep(gap)
    received = [(t, m.type, m.velocity if m.type == "note_on" else 0) for t, m in lb.messages()
                if m.type in ("note_on", "note_off")]
    lb.close()
    conn.send((starts, received))


def bench_jack(model: str, phrases: int, gap: float = 2.0) -> dict:
    """livejam in this process; the keyboard and DAW in another (no shared GIL),
    timed by the same monotonic clock."""
    import multiprocessing as mp

    from .live import LiveRig

    cfg = LivejamConfig(model=model, api="jack", virtual=True, record=False, seed=0, silence=0.3,
                        answer_seconds=1.0)
    rig = LiveRig(cfg)
    decisions: list[float] = []
    phrase_ended = rig.engine._phrase_ended

    def noted(phrase, now):
        phrase_ended(phrase, now)
        decisions.append(phrase.decided)

    rig.engine._phrase_ended = noted
    sent_at: list[tuple[float, float]] = []  # (deadline, lateness) of every answer note sent
    on_sent = rig.engine.scheduler.on_sent

    def sent(now, tag, msg, late):
        if tag == "answer" and msg.type in ("note_on", "note_off"):
            sent_at.append((now - late, late))
        on_sent(now, tag, msg, late)

    rig.engine.scheduler.on_sent = sent
    rig.start()
    # Idle: ports open, nothing played.
    time.sleep(0.5)
    c0, w0 = time.process_time(), time.perf_counter()
    time.sleep(3.0)
    idle_cpu = (time.process_time() - c0) / (time.perf_counter() - w0)
    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    child = ctx.Process(target=_keyboard_and_daw, args=(phrases, gap, there))
    child.start()
    starts, received = here.recv()
    child.join()
    rig.stop()
    onsets, errors, lost = [], [], 0
    bounds = starts + [float("inf")]
    for i in range(phrases):
        lo, hi = bounds[i], bounds[i + 1]
        got = [t for t, _, _ in received if lo <= t < hi]
        want = sorted(d for d, _ in sent_at if lo <= d < hi)
        dec = [d for d in decisions if lo <= d < hi]
        if len(got) != len(want) or len(dec) != 1:
            # The server dropped a period (the dummy driver xruns on a loaded 2-core
            # machine; jackd logs it): counted, and this phrase left out of the timings.
            lost += abs(len(want) - len(got))
            continue
        onsets.append(got[0] - dec[0])
        errors += [g - w for g, w in zip(got, want)]
    return {"phrases": phrases, "phrases_timed": len(onsets), "onset": _pct(onsets, 50, 95),
            "timing_error": _pct(np.abs(errors), 50, 99), "answer_events": len(errors),
            "events_lost_in_transport": lost,
            # The scheduler's own send time vs deadline: what livejam adds before the MIDI server.
            "scheduler_lateness": _pct(np.maximum([l for _, l in sent_at], 0), 50, 99),
            "late_events": rig.engine.scheduler.late,
            "scheduler_realtime_priority": rig.engine.scheduler.realtime,
            "idle_cpu_percent_of_one_core": round(100 * idle_cpu, 2)}


def run_bench(model: str | None = None, jack: bool = False, phrases: int = 30) -> dict:
    sess = ModelSession(model or DEFAULT_MODEL)
    step = bench_step(sess)
    event = bench_engine_event(sess)
    out = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "model": f"{sess.path.name} ({sess.layers}x{sess.hidden})",
        "model_step": step,
        "engine_event": event,
        "engine_event_over_step_p50": round(event["p50_ms"] / step["p50_ms"], 2),
        "streaming_vs_generate_then_play": bench_streaming_vs_whole(sess),
    }
    if jack:
        out["jack_end_to_end"] = bench_jack(str(sess.path), phrases)
    return out
