"""Driving an engine without threads or waiting, on a fake clock that jumps from
one due time to the next: what the engine and scheduler threads would do, done
in order. `respond`, the tests and the bench all run the engine this way."""
from __future__ import annotations

import mido

from ..conversation.events import Played

STEP = 1e-4  # the least a jump moves time, so a loop always ends


def advance(engine, clock, until: float) -> None:
    """Process what is queued and everything that falls due up to `until`, then
    leave the clock at `until`."""
    while True:
        while not engine.inbox.empty():
            engine.process(engine.inbox.get())
        engine.tick()
        engine.scheduler.run_due()
        due = [t for t in (engine.next_wakeup(), engine.scheduler.next_deadline()) if t is not None]
        nxt = max(clock.now() + STEP, min(due)) if due else None
        if nxt is None or nxt > until:
            break
        clock.t = nxt
    if until > clock.now():
        clock.t = until
        engine.tick()
        engine.scheduler.run_due()


def idle(engine) -> bool:
    conv = engine.conversation
    # Answers and the accompaniment only: a metronome's clicks go on for ever.
    return (not conv.phrases.in_call and conv.answer is None and not conv.accompanist.playing
            and engine.scheduler.pending("answer") == 0 and engine.scheduler.pending("accompany") == 0)


def play(engine, clock, call: list[tuple[float, mido.Message]], limit: float = 3600.0) -> None:
    """Play a timed call into the engine, then run until it has answered and every
    note is out. Keys or the pedal still down at the end of the call are let go."""
    for t, msg in call:
        advance(engine, clock, max(t, clock.now()))
        engine.process(Played(msg, clock.now()))
    if engine.listener.held:
        for control in (123, 64):  # all notes off (a release, not a panic), pedal up
            engine.process(Played(mido.Message("control_change", control=control, value=0), clock.now()))
    end = clock.now() + limit
    while not idle(engine) and clock.now() < end:
        due = [t for t in (engine.next_wakeup(), engine.scheduler.next_deadline()) if t is not None]
        advance(engine, clock, max(min(due), clock.now() + STEP) if due else end)
