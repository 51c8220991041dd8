"""`livejam play --headless`: no screen, one line per phrase and answer (or JSON
lines). Ctrl-C and SIGTERM stop it cleanly with every note released."""
from __future__ import annotations

import json
import queue
import signal
import sys
import threading

WORDS = {
    "ready": lambda d: "\n".join([*d["notes"], f"livejam: {d['api']} in {', '.join(d['inputs'])} -> out {d['output']}; "
                                  f"model {d['model']}; recording {d['recording'] or 'off'}. Play; Ctrl-C quits."]),
    "stopped": lambda d: "stopped: every note released" + (f"; recording in {d['recording']}" if d["recording"] else ""),
    "phrase": lambda d: f"phrase: {d['notes']} notes, {d['seconds']} s",
    "answer": lambda d: f"answer: {d['notes']} notes, {d['seconds']} s, onset {d['onset_ms']} ms",
    "interrupted": lambda d: f"answer stopped: you came back in after {d['at_seconds']} s",
    "port_lost": lambda d: f"port lost: {d['port']} (livejam keeps running and re-opens it when it is back)",
    "port_back": lambda d: f"port back: {d['port']}",
    "panic": lambda d: "panic: every note off",
    "mute": lambda d: "muted" if d["muted"] else "unmuted",
    "setting": lambda d: f"{d['name']} = {d['value']}",
    "error": lambda d: f"error: {d['message']}",
}


def run_headless(rig, as_json: bool = False, out=sys.stdout) -> int:
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def say(kind: str, data: dict) -> None:
        if as_json:
            print(json.dumps({"event": kind, **data}), file=out, flush=True)
        else:
            print(WORDS.get(kind, lambda d: f"{kind}: {d}")(data), file=out, flush=True)

    say("ready", {**rig.describe(), "notes": rig.notes})
    rig.start()
    try:
        while not stop.is_set():
            try:
                kind, data = rig.engine.events.get(timeout=0.1)
            except queue.Empty:
                continue
            say(kind, data)
    finally:
        rig.stop()
        while not rig.engine.events.empty():
            say(*rig.engine.events.get())
        say("stopped", {"recording": str(rig.recorder.path) if rig.recorder else None})
    return 0
