"""Through JACK, livejam as its own process: a keyboard client plays a session of
whole-tone calls, each ending on its tonic held; a DAW client records the answers.
With adaptation off for the first calls and at full strength (by its CC) for the
rest, the answers move toward the whole-tone scale; with --phrase-end model most
start sooner than the silence threshold after those cadences."""
import signal

import mido
import numpy as np
import pytest

from livejam.bench.loopback import Loopback
from livejam.midi import system
from training.judge import as_messages
from training.judge_styles import STYLES, session

SILENCE = 0.8
ADAPT_CC = 113


@pytest.mark.usefixtures("jack_server")
def test_a_session_of_styled_calls_moves_the_answers_toward_the_style_and_cadences_are_answered_early(api, livejam):
    lj = livejam("--virtual", "--adapt", "0", "--phrase-end", "model", "--silence", str(SILENCE),
                 "--answer-seconds", "1.5")
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    calls = session("whole-tone", calls=6, seed=7)
    style = STYLES["whole-tone"].pitch_classes
    pitches: dict[str, list[int]] = {"off": [], "on": []}
    waits = []
    try:
        for i, call in enumerate(calls):
            if i == 3:  # adaptation on, by its CC, with what livejam has heard so far
                lb.send(mido.Message("control_change", control=ADAPT_CC, value=127))
                assert lj.wait_event("setting", 5, name="adapt", value=1.0), lj.events
            released = lb.perform(as_messages(call))  # returns when the last key went up
            assert lj.wait_event("answer", 15, count=i + 1), lj.events
            ons = [(t, m.note) for t, m in lb.messages(since=released) if m.type == "note_on" and m.velocity > 0]
            assert ons, f"call {i}: no answer reached the DAW"
            waits.append(ons[0][0] - released)
            pitches["off" if i < 3 else "on"] += [p for _, p in ons]
    finally:
        lb.close()
    assert lj.stop(signal.SIGINT) == 0
    share = {k: float(np.mean([p % 12 in style for p in v])) for k, v in pitches.items()}
    print("shares", share, "waits", [round(w, 3) for w in waits])
    assert share["on"] >= 0.9 and share["on"] > share["off"], share
    # Every call ends on its tonic, held: the model's phrase head hears most of these
    # cadences as endings before the silence is up (live, at 0.41-0.66 s), never later.
    assert sum(w < SILENCE - 0.1 for w in waits) >= 3, waits
    assert max(waits) < SILENCE + 0.05, waits
    assert min(waits) > 0.1, waits  # never before the floor (0.15 s, less the path through JACK)
    adapted = [e for e in lj.events if e["event"] == "setting" and e["name"] == "adapt"]
    assert len(adapted) == 1
