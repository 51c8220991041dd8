"""`livejam play --headless`: no screen, one line per phrase and answer (or JSON
lines). Ctrl-C and SIGTERM stop it cleanly with every note released. It sleeps
until the engine has something to say: no polling."""
from __future__ import annotations

import json
import queue
import signal
import sys

from ..conversation.events import Event, StateChanged


def ready_words(d: dict) -> str:
    return "\n".join([*d["notices"], f"livejam: {d['api']} in {', '.join(d['inputs'])} -> out {d['output']}; "
                                   f"model {d['model']}; recording {d['recording'] or 'off'}"
                                   + (f"; tempo: {d['tempo']}, answers on the bar" if d.get("tempo") else "")
                                   + ". Play; Ctrl-C quits."])


def run_headless(rig, as_json: bool = False, out=sys.stdout) -> int:
    events: queue.Queue = queue.Queue()
    stop = object()

    def on_signal(signum, frame):
        events.put(stop)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def say(kind: str, words: str, data: dict) -> None:
        if as_json:
            print(json.dumps({"event": kind, **data}), file=out, flush=True)
        else:
            print(words, file=out, flush=True)

    def say_event(ev: Event) -> None:
        if isinstance(ev, StateChanged) and not as_json:
            return  # waiting/listening/answering on every phrase: for programs, not for reading
        d = ev.as_dict()
        say(d.pop("event"), ev.words(), d)

    rig.engine.subscribe(events.put)
    say("ready", ready_words({**rig.describe(), "notices": rig.notices}), {**rig.describe(), "notices": rig.notices})
    rig.start()
    try:
        while (ev := events.get()) is not stop:
            say_event(ev)
    finally:
        rig.stop()
        while not events.empty():
            ev = events.get()
            if ev is not stop:
                say_event(ev)
        rec = str(rig.recorder.path) if rig.recorder else None
        say("stopped", "stopped: every note released" + (f"; recording in {rec}" if rec else ""),
            {"recording": rec, "figures": {k: v if v is None else round(v, 4) for k, v in rig.engine.figures.read().items()}})
    return 0
