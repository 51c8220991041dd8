"""`livejam bench`: the runtime's figures (benchmarks print numbers; tests do not time).

- model step, 1 thread, warm: p50/p99;
- an answer token as the engine samples it (step, adaptation mix, steering,
  sampling), live adaptation off and at its default, in the same run;
- engine cost per played event (encode + step + bookkeeping) as a ratio to a bare step;
- streaming vs generate-then-play: time from the phrase-end decision to the first
  note ready, for each, and their ratio;
- the built-in synth: 16 voices rendered in 256-frame blocks (synth.py);
- a three-hour session on the fake clock, recorded: the write and the engine's
  phrase-end work at hour 0 and at hour 3 (long_session.py);
- with --audio, the built-in synth through a running JACK server: onset at a
  capture client, xruns over a conversation, idle cost on against off (audio.py);
- with --jack, livejam as its own process through a running JACK server,
  headless and with the TUI side by side (live.py): CPU idle and during a
  conversation, answer onset and timing at a receiving client.
"""
from __future__ import annotations

import os
import platform
import time

import mido
import numpy as np

from ..conversation.answer import Answer
from ..timing.wallclock import FakeClock
from ..settings.config import LivejamConfig
from ..conversation.engine import Engine
from ..midi.outputs import RecordingOutput
from ..model.onnx_model import DEFAULT_MODEL, OnnxModel
from .long_session import bench_long_session
from .synth import bench_synth


def _pct(values, *ps) -> dict:
    a = np.asarray(values) * 1000
    return {f"p{p}_ms": round(float(np.percentile(a, p)), 4) for p in ps}


def bench_step(model: OnnxModel, n: int = 3000) -> dict:
    state = model.initial_state(1)
    rng = np.random.default_rng(0)
    times = []
    for i, tok in enumerate(rng.integers(0, 388, n)):
        t0 = time.perf_counter()
        _, state = model.step(int(tok), state)
        if i >= 200:
            times.append(time.perf_counter() - t0)
    return _pct(times, 50, 99)


def bench_engine_event(model: OnnxModel, n: int = 2000) -> dict:
    clock = FakeClock()
    eng = Engine(LivejamConfig(record=False, seed=0), model, RecordingOutput(clock), clock)
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


def bench_streaming_vs_whole(model: OnnxModel, seconds: float = 8.0, trials: int = 20) -> dict:
    cfg = LivejamConfig(record=False, seed=0)
    from ..model.sampler import Sampler

    first, whole = [], []
    for k in range(trials):
        state = model.initial_state(1)
        logits, state = model.run(np.array([[0, 60 + 256, 288, 62, 256 + 62 + 0]], np.int64), state)
        for mode, sink in (("stream", first), ("whole", whole)):
            ans = Answer(model, Sampler(0.9, 0.95, k), cfg, state, logits[0, -1], 0, 0.0, seconds, 16)
            t0 = time.perf_counter()
            if mode == "stream":
                while not any(m.type == "note_on" for _, m in ans.fill(ans.time_of(ans.dec.step))):
                    pass
            else:
                ans.fill(float("inf"))
            sink.append(time.perf_counter() - t0)
    s, w = _pct(first, 50, 95), _pct(whole, 50, 95)
    return {"answer_seconds": seconds, "streaming_first_note": s, "generate_then_play_first_note": w,
            "ratio_p50": round(w["p50_ms"] / s["p50_ms"], 1)}


def bench_answer_token(model: OnnxModel, adapt: float, n: int = 3000) -> dict:
    """One answer token as the engine makes it: the model step, the adaptation mix
    (a session cache of 500 heard notes), steering and sampling."""
    from ..conversation.adaptation import SessionCache
    from ..conversation.call import profile_of
    from ..conversation.steering import Steering
    from ..model import vocab
    from ..model.sampler import Sampler

    rng = np.random.default_rng(2)
    heard = np.cumsum(rng.choice([-4, -2, 2, 4], 500)) % 36 + 48
    notes = [(i * 0.2, i * 0.2 + 0.18, int(p), 80) for i, p in enumerate(heard)]
    cache = SessionCache()
    cache.feed([int(t) for t in vocab.encode(notes)])
    cfg = LivejamConfig(record=False, seed=0, adapt=adapt)
    times = []
    while len(times) < n:
        state = model.initial_state(1)
        logits, state = model.step(vocab.time_shift(1), state)
        ans = Answer(model, Sampler(0.9, 0.95, len(times)), cfg, state, logits, 0, 0.0, 30.0, 16,
                     Steering(profile_of(notes[-12:]), cfg, cache), style=cache)
        while not ans.done and len(times) < n:
            fed = len(ans.marks)
            t0 = time.perf_counter()
            ans.fill(ans.time_of(ans.dec.step))  # the tokens of one step (at least one)
            took = time.perf_counter() - t0
            times += [took / max(1, len(ans.marks) - fed)] * max(1, len(ans.marks) - fed)
    return _pct(times[200:], 50, 99)


def run_bench(model: str | None = None, jack: bool = False, phrases: int = 30, bars: bool = False,
              audio: bool = False, audio_minutes: float = 10.0, jack_log: str | None = None) -> dict:
    model = OnnxModel(model or DEFAULT_MODEL)
    step = bench_step(model)
    event = bench_engine_event(model)
    out = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "model": f"{model.path.name} ({model.layers}x{model.hidden})",
        "model_step": step,
        "answer_token_adapt_off": bench_answer_token(model, 0.0),
        "answer_token_adapt_0.25": bench_answer_token(model, 0.25),
        "engine_event": event,
        "engine_event_over_step_p50": round(event["p50_ms"] / step["p50_ms"], 2),
        "streaming_vs_generate_then_play": bench_streaming_vs_whole(model),
        "three_hour_session": bench_long_session(model),
        "synth_16_voices": bench_synth(),
    }
    if jack:
        from .live import bench_live
        from .watchdog_hop import bench_watchdog_hop

        out["jack_end_to_end"] = bench_live(str(model.path), phrases)
        out["watchdog_pass_through"] = bench_watchdog_hop()
    if bars:
        from .bars import bench_bars, bench_clock_cost

        out["answer_start_vs_bar_line"] = bench_bars(str(model.path))
        out["clock_following_cpu"] = bench_clock_cost(str(model.path))
    if audio:
        from .audio import bench_audio

        out["built_in_synth_through_jack"] = bench_audio(str(model.path), audio_minutes, jack_log)
    return out
