"""The built-in synth through a real JACK server: livejam in its own process with
--synth, a test client capturing its audio ports while a keyboard client plays a
call and a DAW client records its MIDI. Checked as behaviour, with bounds set by
cause and effect rather than by how fast a loaded machine is: silent through the
call and the silence that ends it (thru is off: the synth sounds livejam's answer
only); the answer sounds, beginning by the time its MIDI reached the DAW; silent again
soon after quitting while the answer still had a second or more to play. The
send-to-sound latency (within a period or two) is measured in the bench
(`livejam bench --audio`, docs/BENCHMARKS.md): a Python reader's timestamps on a
loaded 2-core machine are tens of ms late, so a test cannot hold it to that."""
import contextlib
import os
import tempfile
import time

import mido
import numpy as np
import pytest

from livejam.bench.audio import QUIET, Capture
from livejam.bench.loopback import Loopback
from livejam.midi import system
from tests.jack import ON_PIPEWIRE
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("jack_server")


def _all_sound(caps, since: float = 0.0) -> bool:
    """Each capture has heard sound since `since`."""
    return all((np.abs(c.audio(since=since)[1]) > QUIET).any() for c in caps)


@contextlib.contextmanager
def piped_synth(name: str):
    """The synth as its own process runs it (a PipedOutput fed through a pipe and a
    board, as synth_link.py feeds it), here in the test's process: (tap, audio)."""
    from livejam.sound.live import JackAudio
    from livejam.sound.synth import BlockSynth
    from livejam.sound.synth_link import SynthTap, _board
    from livejam.sound.synth_process import PipedOutput
    from livejam.timing.wallclock import WallClock

    board = tempfile.TemporaryFile()
    board.truncate(8)
    read, write = os.pipe()
    tap = SynthTap(write, WallClock(), on_gone=lambda why: None, board=_board(board.fileno()))
    audio = JackAudio(lambda rate: PipedOutput(read, BlockSynth(rate=rate), WallClock(), board=_board(board.fileno())),
                      name=name)
    try:
        yield tap, audio
    finally:
        audio.close()
        os.close(read)
        os.close(write)
        board.close()


def test_the_answer_sounds_through_the_synth_with_its_midi_and_stops_with_livejam(api, livejam):
    lj = livejam("--virtual", "--synth", "--answer-seconds", "4", "--silence", "0.4")
    ready = next(e for e in lj.events if e["event"] == "ready")
    assert any("built-in synth: livejam-synth:synth out L" in n for n in ready["notices"]), ready
    cap = Capture("livejam-synth:synth out L")
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    period = cap.client.blocksize / cap.rate
    try:
        assert until(lambda: len(cap.audio()[0]) >= 10 * cap.client.blocksize, 10, every=0.01)  # the capture runs
        released = lb.play([60, 64, 67], each=0.15)  # when the last key went up (sent: livejam hears it later)
        assert lj.wait_event("state", 10, state="answering"), lj.events  # ("answer" comes at its end)
        assert until(lambda: any(m.type == "note_on" and m.velocity > 0 for _, m in lb.messages()), 10, every=0.01), \
            "no answer over MIDI"
        ons = [t for t, m in lb.messages() if m.type == "note_on" and m.velocity > 0]
        assert until(lambda: cap.heard_until() > ons[0] + 0.3, 10, every=0.01)  # the blocks after it are in
        times, sig = cap.audio()
        loud = np.abs(sig) > QUIET
        # The answer cannot begin before 0.4 s of silence after the release livejam heard;
        # 50 ms of slack for a block's start time taken late in the capture's callback.
        early = loud & (times < released + 0.35)
        assert not early.any(), (times[early][0] - released, float(np.abs(sig[early]).max()))
        first = times[loud]
        assert first.size, "the answer's MIDI came but the synth stayed silent"
        # Its sound begins with its MIDI, not after: the synth renders one block after the
        # send. (Not "not before" either: the DAW's reader stamps arrivals when its thread
        # runs, which a loaded machine makes tens or hundreds of ms late.)
        assert first[0] <= ons[0] + 0.25, (first[0] - ons[0], period)
        stopped = time.perf_counter()
        assert stopped < ons[0] + 3  # the 4 s answer still plays
        assert lj.stop() == 0
        assert until(lambda: cap.heard_until() > stopped + 0.6, 10, every=0.01)  # the capture heard on past the quit
        times, sig = cap.audio()
        after = (times > stopped + 0.3) & (np.abs(sig) > QUIET)
        assert not after.any(), times[after][-1] - stopped  # quitting silences it (the voices are cut first)
    finally:
        lb.close()
        cap.close()


def test_killed_with_sigkill_mid_answer_the_synth_goes_silent_and_its_process_ends(api, livejam):
    """The synth plays in a process of its own (sound/synth_link.py, sound/synth_process.py): livejam
    killed -9 while an answer sounds (a crash in a native library, the OOM killer)
    must not leave it playing. Its stdin ends with livejam; it silences its voices
    and leaves JACK's graph."""
    import signal

    import jack

    lj = livejam("--virtual", "--synth", "--answer-seconds", "6", "--silence", "0.4")
    cap = Capture("livejam-synth:synth out L")
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    look = jack.Client("test-look", no_start_server=True)
    try:
        lb.play([60, 64, 67], each=0.15)
        assert until(lambda: any(m.type == "note_on" and m.velocity > 0 for _, m in lb.messages()), 10, every=0.01), \
            "no answer over MIDI"
        assert until(lambda: (np.abs(cap.audio(time.perf_counter() - 0.2)[1]) > QUIET).any(), 10, every=0.01), \
            "the answer is not sounding"
        killed = time.perf_counter()
        lj.proc.send_signal(signal.SIGKILL)
        lj.proc.wait(timeout=10)
        assert until(lambda: not look.get_ports("livejam-synth:"), 10, every=0.01), \
            "the synth's process outlived livejam"
        gone = time.perf_counter()
        times, sig = cap.audio()
        after = (times > killed + 0.15) & (np.abs(sig) > QUIET)
        # Silent within 150 ms of the kill (its voices cut at once, a release tail of ~10 ms,
        # a loaded machine's scheduling), and it left the graph well before the answer's end.
        assert not after.any(), times[after][-1] - killed
        assert gone - killed < 3.0
    finally:
        look.close()
        lb.close()
        cap.close()


def test_jacks_graph_says_whether_anyone_listens_to_livejam_out(api, livejam):
    """What the first-run offer asks (app/synth_switch.py): nobody, then a DAW."""
    from livejam.app.synth_switch import listeners

    livejam("--virtual")
    assert listeners(api, system.VIRTUAL_OUT) == 0
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        assert until(lambda: listeners(api, system.VIRTUAL_OUT) == 1, 5, every=0.01)
    finally:
        lb.close()


@pytest.mark.synth_audio
@pytest.mark.parametrize("path", ["libjack", "public"])
def test_the_synths_idle_path_writes_exact_silence_on_both_ports(path, monkeypatch):
    """The idle path (nothing sent, no voice left) zeroes JACK's buffers itself, each
    cycle: a buffer left unwritten would go on playing whatever it last held (on
    PipeWire's JACK, some earlier block). Taken here straight after a loud block (the
    synth told it is idle while a note sounds), so a path that wrote nothing would
    repeat that block. Straight through libjack, and through JACK-Client's public
    get_buffer where its cffi handles are not there."""
    import types

    from livejam.sound.live import JackAudio, SynthOutput
    from livejam.sound.synth import BlockSynth
    from livejam.timing.wallclock import WallClock

    if path == "public":
        real = JackAudio._zeroing
        monkeypatch.setattr(JackAudio, "_zeroing", lambda self, jack: real(self, types.SimpleNamespace()))
    audio = JackAudio(lambda rate: SynthOutput(BlockSynth(rate=rate), WallClock()), name="test-idle-synth")
    caps = [Capture(name, name=f"test-idle-capture-{i}") for i, name in enumerate(audio.names)]
    try:
        audio.output.send(mido.Message("note_on", note=60, velocity=110))
        assert until(lambda: _all_sound(caps), 10, every=0.01), "no sound"
        audio.output.synth.quiet = 10**9  # idle from now on, its voice still sounding
        idle_from = time.perf_counter()
        assert until(lambda: min(c.heard_until() for c in caps) > idle_from + 0.2, 10, every=0.01)
        for c in caps:
            _, sig = c.audio(since=idle_from + 0.02)
            assert len(sig) and not sig.any(), float(np.abs(sig).max())  # exact zeros, not the held block
        # Still playing: a callback that failed would have been dropped by JACK, and
        # a port nobody writes reads as silence too.
        audio.output.synth.quiet = 0
        again = time.perf_counter()
        audio.output.send(mido.Message("note_on", note=67, velocity=110))
        assert until(lambda: _all_sound(caps, since=again), 10, every=0.01), \
            "the synth fell silent after its idle cycles"
    finally:
        for c in caps:
            c.close()
        audio.close()


@pytest.mark.synth_audio
def test_a_silent_synths_cycles_run_no_python_until_livejam_writes_and_they_are_exact_silence():
    """While the synth is silent JACK's cycles are idle_cycle's machine code (the
    Python callback's count stands still while the capture hears cycle after cycle
    of exact zeros); a note written by livejam hands the cycle back to Python at
    once, and the silence after it goes back to the machine code, zeros straight
    after a loud block."""
    with piped_synth("test-idle-machine") as (tap, audio):
        caps = [Capture(name, name=f"test-idle-machine-capture-{i}") for i, name in enumerate(audio.names)]
        period = audio.client.blocksize / audio.rate

        def quiet_for(seconds: float) -> int:  # the Python cycles over `seconds` of cycles heard
            since, before = time.perf_counter(), audio.python_cycles
            assert until(lambda: min(c.heard_until() for c in caps) > since + seconds, 10, every=0.01)
            return audio.python_cycles - before

        try:
            assert audio.idle_path == "machine code"
            assert until(lambda: audio.output.synth.idle, 10, every=0.01)  # silent blocks rendered for 0.25 s
            quiet_for(4 * period)  # the cycle that finds it idle is Python's
            assert quiet_for(0.3) == 0  # ~56 cycles, none of them Python's
            tap.send(mido.Message("note_on", note=60, velocity=110))
            assert until(lambda: _all_sound(caps), 10, every=0.01), "no sound"
            assert audio.python_cycles > 0
            audio.output.synth.quiet = 10**9  # idle from now on, its voice still sounding
            idle_from = time.perf_counter()
            assert until(lambda: min(c.heard_until() for c in caps) > idle_from + 0.2, 10, every=0.01)
            for c in caps:
                _, sig = c.audio(since=idle_from + 4 * period)
                assert len(sig) and not sig.any(), float(np.abs(sig).max())  # exact zeros, not the held block
            quiet_for(4 * period)
            assert quiet_for(0.3) == 0
            audio.output.synth.quiet = 0
            again = time.perf_counter()
            tap.send(mido.Message("note_on", note=67, velocity=110))
            assert until(lambda: _all_sound(caps, since=again), 10, every=0.01), \
                "the synth stayed silent after its machine-code cycles"
        finally:
            for c in caps:
                c.close()


@pytest.mark.synth_audio
def test_where_the_machine_code_cannot_be_built_the_python_callback_plays_every_cycle(monkeypatch):
    """No llvmlite, or an LLVM that fails: the synth plays as before, its idle cycles in Python."""
    from livejam.sound import idle_cycle

    def fails(*args):
        raise ImportError("no llvmlite here")

    monkeypatch.setattr(idle_cycle, "IdleCycle", fails)
    with piped_synth("test-idle-python") as (tap, audio):
        cap = Capture(audio.names[0], name="test-idle-python-capture")
        try:
            assert audio.idle_path == "Python"
            assert until(lambda: audio.output.synth.idle, 10, every=0.01)
            before, since = audio.python_cycles, time.perf_counter()
            assert until(lambda: cap.heard_until() > since + 0.2, 10, every=0.01)
            assert audio.python_cycles - before >= 20  # ~37 cycles in 0.2 s, each of them Python's
            tap.send(mido.Message("note_on", note=60, velocity=110))
            assert until(lambda: _all_sound([cap]), 10, every=0.01), "no sound"
        finally:
            cap.close()


@pytest.mark.synth_audio
def test_the_synths_own_process_says_which_jack_it_plays_through_and_sounds_until_closed():
    """The synth's process as livejam starts it, on whichever JACK JACK-Client
    reaches: jackd's, or under pw-jack PipeWire's (said on the start line)."""
    from livejam.sound.synth_link import SynthProcess
    from livejam.timing.wallclock import WallClock

    synth = SynthProcess(None, WallClock(), name="test-via-synth", audio="jack")
    caps = [Capture(name, name=f"test-via-capture-{i}") for i, name in enumerate(synth.names)]
    try:
        assert synth.via == ("PipeWire's JACK" if ON_PIPEWIRE else "JACK")
        synth.output.send(mido.Message("note_on", note=60, velocity=110))
        assert until(lambda: _all_sound(caps), 10, every=0.01), "no sound"
    finally:
        for c in caps:
            c.close()
        synth.close()
    assert synth.proc.poll() is not None  # its process ended with the close
