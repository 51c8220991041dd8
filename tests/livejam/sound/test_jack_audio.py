"""The built-in synth through a real JACK server: livejam in its own process with
--synth, a test client capturing its audio ports while a keyboard client plays a
call and a DAW client records its MIDI. Silence before the answer; the answer's
first note sounds within two periods and a millisecond of where its MIDI arrived
(the audio is rendered one block after the send, at the note's own sample; the
MIDI goes through the watchdog's process and may catch a cycle sooner or later);
silence within 100 ms of quitting (the voices are cut first, an 11 ms release). The send-to-sound latency itself is in the bench."""
import time

import numpy as np
import pytest

from livejam.bench.audio import QUIET, Capture
from livejam.bench.loopback import Loopback
from livejam.midi import system

pytestmark = pytest.mark.usefixtures("jack_server")


def wait_for(cond, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_the_answer_sounds_through_the_synth_on_time_and_stops_with_livejam(api, livejam):
    lj = livejam("--virtual", "--synth", "--answer-seconds", "2", "--silence", "0.4")
    ready = next(e for e in lj.events if e["event"] == "ready")
    assert any("built-in synth: livejam-synth:synth out L" in n for n in ready["notices"]), ready
    cap = Capture("livejam-synth:synth out L")
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    period = cap.client.blocksize / cap.rate
    try:
        assert wait_for(lambda: len(cap.audio()[0]) >= 10 * cap.client.blocksize, 10)  # the capture runs
        lb.play([60, 64, 67], each=0.15)
        assert lj.wait_event("answer", 10), lj.events
        assert wait_for(lambda: any(m.type == "note_on" and m.velocity > 0 for _, m in lb.messages()), 10), \
            "no answer over MIDI"
        ons = [t for t, m in lb.messages() if m.type == "note_on" and m.velocity > 0]
        assert wait_for(lambda: cap.audio()[0][-1] > ons[0] + 3 * period, 10)  # the blocks after it are in
        times, sig = cap.audio()
        loud = np.abs(sig) > QUIET
        early = loud & (times < ons[0] - period - 0.001)
        assert not early.any(), (ons[0] - times[early][0], float(np.abs(sig[early]).max()), ons[:3])  # silent until the answer
        first = times[loud & (times >= ons[0] - 2 * period - 0.001)][0]
        # The sound comes one block after the send; the DAW hears the MIDI at the next cycle
        # its writer catches (livejam's watchdog, another process): the two may land a cycle apart.
        assert abs(first - ons[0]) <= 2 * period + 0.001, (first - ons[0], period)
        stopped = time.perf_counter()
        assert lj.stop() == 0
        assert wait_for(lambda: cap.audio()[0][-1] > stopped + 0.3, 10)  # the capture heard past the 100 ms
        times, sig = cap.audio()
        after = (times > stopped + 0.1) & (np.abs(sig) > QUIET)
        assert not after.any(), times[after][-1] - stopped  # silent within 100 ms of quitting
    finally:
        lb.close()
        cap.close()


def test_jacks_graph_says_whether_anyone_listens_to_livejam_out(api, livejam):
    """What the first-run offer asks (app/synth_switch.py): nobody, then a DAW."""
    from livejam.app.synth_switch import listeners

    livejam("--virtual")
    assert listeners(api, system.VIRTUAL_OUT) == 0
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        assert wait_for(lambda: listeners(api, system.VIRTUAL_OUT) == 1, 5)
    finally:
        lb.close()
