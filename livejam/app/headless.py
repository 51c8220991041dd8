"""`livejam play --headless`: no screen, one line per phrase and answer (or JSON
lines). Ctrl-C, SIGTERM and a closed terminal (SIGHUP; on Windows Ctrl-Break and
the console window closing) stop it cleanly with every note released; Ctrl-Z
(POSIX) releases every note before it suspends. It sleeps
until the engine has something to say: no polling."""
from __future__ import annotations

import json
import os
import queue
import signal
import sys
import time

from ..conversation.events import Event, Panicked, Planned, StateChanged
from .stopping import StopRequests

PAUSE_SECONDS = 1.0  # Ctrl-Z suspends after the panic is done, or after this at the latest
FLUSH_SECONDS = 0.05  # a few MIDI-server periods for the panic to leave the process


def ready_words(d: dict) -> str:
    return "\n".join([*d["notices"], f"livejam: {d.get('midi', d['api'])} in {', '.join(d['inputs'])} -> out {d['output']}; "
                                   f"model {d['model']}; recording {d['recording'] or 'off'}"
                                   + (f"; tempo: {d['tempo']}, answers on the bar" if d.get("tempo") else "")
                                   + ". Play; Ctrl-C quits."])


def run_headless(rig, as_json: bool = False, out=sys.stdout) -> int:
    # SimpleQueue: its put() is reentrant, so the signal handler may use it even
    # when the signal lands while this thread is inside a get().
    events: queue.SimpleQueue = queue.SimpleQueue()
    stop, suspend = object(), object()

    # Ctrl-C, kill, the terminal closing (SIGHUP; on Windows Ctrl-Break and the
    # console window closing): an orderly stop, every note released (stopping.py).
    requests = StopRequests(lambda: events.put(stop), lambda: events.put(suspend)).install()

    def say(kind: str, words: str, data: dict) -> None:
        if as_json:
            print(json.dumps({"event": kind, **data}), file=out, flush=True)
        else:
            print(words, file=out, flush=True)

    def say_event(ev: Event) -> None:
        if isinstance(ev, (StateChanged, Planned)) and not as_json:
            return  # waiting/listening/answering, the plan ahead: for programs, not for reading
        d = ev.as_dict()
        say(d.pop("event"), ev.words(), d)

    rig.engine.subscribe(events.put)
    say("ready", ready_words({**rig.describe(), "notices": rig.notices}), {**rig.describe(), "notices": rig.notices})
    rig.start()
    try:
        pausing = False
        while True:
            try:
                ev = events.get(timeout=PAUSE_SECONDS if pausing else None)
            except queue.Empty:
                ev = None
            if ev is stop:
                break
            if ev is suspend:
                # Ctrl-Z: a stopped process cannot send note-offs, so release
                # everything first; `fg` (SIGCONT) carries on listening.
                rig.engine.command("panic")
                pausing = True
                continue
            if ev is not None:
                say_event(ev)
            if pausing and (ev is None or isinstance(ev, Panicked)):
                pausing = False
                # With --no-watchdog the releases sit in this process's MIDI client
                # until its server thread runs (JACK: the next period); stopping now
                # would stop that thread too. (Through the watchdog they have left.)
                time.sleep(FLUSH_SECONDS)
                if sys.platform != "win32":  # only POSIX suspends (StopRequests.suspends)
                    os.kill(os.getpid(), signal.SIGSTOP)
    finally:
        try:
            rig.stop()
            while not events.empty():
                ev = events.get()
                if ev is not stop and ev is not suspend:
                    say_event(ev)
            rec = str(rig.recorder.path) if rig.recorder else None
            say("stopped", rig.stopped_line() + (f"; recording in {rec}" if rec else ""),
                {"recording": rec, "released": rig.released,
                 "figures": {k: v if v is None else round(v, 4) for k, v in rig.engine.figures.read().items()}})
        finally:
            requests.released()  # a console closing on Windows waits for this before the process ends
            requests.restore()
    return 0
