"""An exception in the built-in synth's audio callback: JACK-Client stops calling a
callback that raised (JACK then drops the client, the synth silent for the rest
of the night, the traceback shown only when its process ends), and miniaudio's
stream ends with a generator that raised. Now the fault is said in one line, the
voices are reset, and the synth plays on; a fault that comes back cycle after
cycle is said as lost. Through the real JACK server, miniaudio's null device, and
the synth's own process fed a corrupt record."""
import contextlib
import threading
import time

import mido
import numpy as np
import pytest

from livejam.bench.audio import QUIET, Capture
from livejam.sound import live
from livejam.sound.live import SynthOutput
from livejam.sound.synth import BlockSynth
from livejam.timing.wallclock import WallClock
from tests.waiting import until


class Faulty(SynthOutput):
    """A SynthOutput whose next `fail` blocks raise."""

    fail = 0

    def block(self, frames, start, rate):
        if self.fail:
            self.fail -= 1
            raise ZeroDivisionError("a bug in a block")
        return super().block(frames, start, rate)


class Said:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.got = threading.Event()

    def fault(self, line: str) -> None:
        self.lines.append(("fault", line))
        self.got.set()

    def lost(self, line: str) -> None:
        self.lines.append(("lost", line))
        self.got.set()


@contextlib.contextmanager
def faulty_jack_synth(name: str, said: Said):
    """The synth on JACK with a Faulty output, and a capture of each port: (audio, captures)."""
    audio = live.JackAudio(lambda rate: Faulty(BlockSynth(rate=rate), WallClock()), name=f"test-{name}-synth",
                           on_fault=said.fault, on_lost=said.lost)
    caps = [Capture(port, name=f"test-{name}-capture-{i}") for i, port in enumerate(audio.names)]
    try:
        yield audio, caps
    finally:
        for c in caps:
            c.close()
        audio.close()


def _sounds(caps, since: float) -> bool:
    return all((np.abs(c.audio(since=since)[1]) > QUIET).any() for c in caps)


@pytest.mark.synth_audio
@pytest.mark.usefixtures("jack_server")
def test_a_fault_in_the_jack_callback_is_said_once_and_the_synth_plays_on():
    said = Said()
    with faulty_jack_synth("faulty", said) as (audio, caps):
        audio.output.fail = 3  # three cycles in a row: one burst, one line
        audio.output.send(mido.Message("note_on", note=60, velocity=110))
        assert said.got.wait(10), "no word of the fault"
        assert until(lambda: audio.output.fail == 0, 10, every=0.01)
        assert len(said.lines) == 1 and said.lines[0][0] == "fault", said.lines
        assert "ZeroDivisionError: a bug in a block" in said.lines[0][1] and "plays on" in said.lines[0][1]
        again = time.perf_counter()
        audio.output.send(mido.Message("note_on", note=67, velocity=110))
        # Before: JACK had stopped calling the callback, and nothing sounded again.
        assert until(lambda: _sounds(caps, again), 10, every=0.01), "the synth fell silent after its fault"
        assert not audio.faults.given_up


@pytest.mark.synth_audio
@pytest.mark.usefixtures("jack_server")
def test_a_fault_that_keeps_coming_is_said_as_lost_and_the_cycles_are_silence():
    said = Said()
    with faulty_jack_synth("failing", said) as (audio, caps):
        audio.output.fail = 10**9
        audio.output.send(mido.Message("note_on", note=60, velocity=110))
        assert until(lambda: any(kind == "lost" for kind, _ in said.lines), 10, every=0.01), said.lines
        lost = next(line for kind, line in said.lines if kind == "lost")
        assert "keeps failing" in lost and "S turns it on again" in lost
        since = time.perf_counter()
        assert until(lambda: min(c.heard_until() for c in caps) > since + 0.2, 10, every=0.01)
        for c in caps:
            assert not c.audio(since=since)[1].any()  # exact silence, the client still in the graph


def test_a_fault_on_the_default_device_is_said_and_blocks_go_on():
    import miniaudio

    said = Said()
    audio = live.DeviceAudio(lambda rate: Faulty(BlockSynth(rate=rate), WallClock()),
                             backends=[miniaudio.Backend.NULL], on_fault=said.fault, on_lost=said.lost)
    try:
        audio.output.fail = 1
        assert said.got.wait(10) and said.lines[0][0] == "fault"
        audio.output.send(mido.Message("note_on", note=60, velocity=100))
        # Still asked for blocks: before, the generator that raised ended the stream.
        assert until(lambda: not audio.output.sent, 5, every=0.01)
    finally:
        audio.close()


def test_a_corrupt_record_in_the_synths_own_process_is_said_and_it_plays_on():
    from livejam.sound.synth_link import RECORD, SEND, SynthProcess

    said = Said()
    synth = SynthProcess(None, WallClock(), on_fault=said.fault, on_lost=said.lost, name="test-corrupt", audio="null")
    try:
        synth.output.pipe.write(RECORD.pack(time.perf_counter(), SEND, 0, 3, bytes((0x01, 0x02, 0x03))))
        assert said.got.wait(15), "no word of the fault"
        assert said.lines[0][0] == "fault" and "ValueError" in said.lines[0][1], said.lines
        assert synth.proc.poll() is None  # the process lives on
    finally:
        synth.close()
    assert [kind for kind, _ in said.lines] == ["fault"]
