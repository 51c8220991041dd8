"""The built-in synth through a real JACK server: livejam in its own process with
--synth, a test client capturing its audio ports while a keyboard client plays a
call and a DAW client records its MIDI. Silence before the answer; the answer's
first note sounds within two periods and a millisecond of where its MIDI arrived
(the audio is rendered one block after the send, at the note's own sample; the
MIDI goes through the watchdog's process and may catch a cycle sooner or later);
silence within 100 ms of quitting (the voices are cut first, an 11 ms release). The send-to-sound latency itself is in the bench."""
import threading
import time

import numpy as np
import pytest

from livejam.bench.loopback import Loopback
from livejam.midi import system

pytestmark = pytest.mark.usefixtures("jack_server")
QUIET = 1e-6  # the first sample of a note is above this (its attack starts at once)


class Capture:
    """A JACK client recording one audio port, each block with its cycle's start time."""

    def __init__(self, source: str) -> None:
        import jack

        self.client = jack.Client("audio-capture-test", no_start_server=True)
        self.port = self.client.inports.register("in")
        self.rate, self.blocks, self.lock = self.client.samplerate, [], threading.Lock()
        self.client.set_process_callback(self._process)
        self.client.activate()
        self.client.connect(source, self.port.name)

    def _process(self, frames: int) -> None:
        start = time.perf_counter() - self.client.frames_since_cycle_start / self.rate
        data = self.port.get_array().copy()
        with self.lock:
            self.blocks.append((start, data))

    def audio(self):
        with self.lock:
            blocks = list(self.blocks)
        times = np.concatenate([s + np.arange(len(b)) / self.rate for s, b in blocks])
        return times, np.concatenate([b for _, b in blocks])

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def test_the_answer_sounds_through_the_synth_on_time_and_stops_with_livejam(api, livejam):
    lj = livejam("--virtual", "--synth", "--answer-seconds", "2", "--silence", "0.4")
    ready = next(e for e in lj.events if e["event"] == "ready")
    assert any("built-in synth: livejam-synth:synth out L" in n for n in ready["notices"]), ready
    cap = Capture("livejam-synth:synth out L")
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    period = cap.client.blocksize / cap.rate
    try:
        time.sleep(0.3)
        lb.play([60, 64, 67], each=0.15)
        assert lj.wait_event("answer", 10), lj.events
        time.sleep(0.3)
        ons = [t for t, m in lb.messages() if m.type == "note_on" and m.velocity > 0]
        assert ons, "no answer over MIDI"
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
        time.sleep(0.2)
        times, sig = cap.audio()
        after = (times > stopped + 0.1) & (np.abs(sig) > QUIET)
        assert not after.any(), times[after][-1] - stopped  # silent within 100 ms of quitting
    finally:
        lb.close()
        cap.close()
