"""The wire to the synth's own process (sound/synth_link.py writes, sound/
synth_process.py reads): what the scheduler's tap writes is what the child plays
(the same samples as the synth in livejam's process, for the same messages at the
same times); a write never waits, and a pipe that is full keeps everything in
order for later; the audio side reads the pipe only when livejam wrote, a burst
over several cycles; a child that stops taking, or has ended, is said once.
Through real pipes; the child itself through JACK in test_jack_audio.py and on
the null device in tests/livejam/app/test_synth_switch.py."""
import os
import threading

import mido
import numpy as np

from livejam.sound import synth_link
from livejam.sound.live import SynthOutput
from livejam.sound.synth import BlockSynth
from livejam import pipes
from livejam.sound.synth_link import RECORD, SynthTap
from livejam.sound.synth_process import take
from livejam.timing.wallclock import FakeClock

RATE = 48000
BLOCK = 256


def play(steps, feed):
    """Renders eight blocks from 10.0 on; `steps` (block index -> what to do before it)."""
    clock = FakeClock(10.0)
    out = SynthOutput(BlockSynth(rate=RATE), clock, volume=1.0, programs={"answer": 11, "thru": 0})
    blocks = []
    for k in range(8):
        start = 10.0 + k * BLOCK / RATE
        for at, what in steps.get(k, []):
            feed(out, at, what)
        blocks.append(out.block(BLOCK, start - BLOCK / RATE, RATE).copy())
    return np.concatenate(blocks)


STEPS = {  # what happens during each block (at its time), rendered in the next
    1: [(10.0 + 40 / RATE, ("send", mido.Message("note_on", note=64, velocity=100), "answer")),
        (10.0 + 90 / RATE, ("send", mido.Message("note_on", note=48, velocity=70), "thru"))],
    2: [(10.0 + 300 / RATE, ("send", mido.Message("pitchwheel", pitch=2000), "answer")),
        (10.0 + 400 / RATE, ("send", mido.Message("control_change", control=64, value=127), "panic"))],
    4: [(10.0 + 1100 / RATE, ("cut", None, "answer"))],
    6: [(10.0 + 1600 / RATE, ("close", None, None))],
}


def test_what_the_tap_writes_the_child_plays_to_the_sample():
    def direct(out, at, what):
        kind, msg, source = what
        if kind == "send":
            out.send(msg, source, at)
        elif kind == "cut":
            out.cut(source, at)
        else:
            out.close(at)

    read, write = os.pipe()
    try:
        def through_the_pipe(out, at, what):
            kind, msg, source = what
            clock.t = at
            if kind == "send":
                tap.send(msg, source, at)
            elif kind == "cut":
                tap.cut(source)
            else:
                tap.close()
            left = take(os.read(read, 1 << 16), out)
            assert left == b""

        clock = FakeClock(0.0)
        tap = SynthTap(write, clock, on_gone=lambda why: None)
        here, there = play(STEPS, direct), play(STEPS, through_the_pipe)
    finally:
        os.close(read)
        os.close(write)
    assert np.abs(here).max() > 0.01  # it sounded
    assert np.array_equal(here, there)


def test_a_record_split_across_reads_waits_for_its_rest():
    out = SynthOutput(BlockSynth(rate=RATE), FakeClock(0.0))
    record = RECORD.pack(1.5, synth_link.SEND, 0, 3, bytes(mido.Message("note_on", note=60).bytes()))
    rest = take(record + record[:5], out)
    assert rest == record[:5] and len(out.sent) == 1
    assert take(rest + record[5:], out) == b"" and len(out.sent) == 2
    assert out.sent[1][0] == 1.5 and out.sent[1][2].note == 60


def test_a_full_pipe_never_holds_up_the_scheduler_and_nothing_is_lost_or_reordered():
    read, write = os.pipe()
    gone = []
    tap = SynthTap(write, FakeClock(0.0), on_gone=gone.append)
    count = 20000  # 320 kB: five times a Linux pipe, twenty times a macOS one
    sender = threading.Thread(target=lambda: [tap.send(mido.Message("note_on", note=i % 128, velocity=1 + i // 128 % 127),
                                                       at=float(i)) for i in range(count)])
    sender.start()
    sender.join(30)
    assert not sender.is_alive(), "a send waited on the full pipe"
    assert tap.pipe.buffer  # the rest waits, in order
    got = b""
    while len(got) < count * RECORD.size:
        got += os.read(read, 1 << 16)  # the child taking it: the flushing thread writes on
    times = [at for at, *_ in RECORD.iter_unpack(got)]
    assert times == [float(i) for i in range(count)]
    assert not gone
    os.close(read)
    os.close(write)


def test_a_child_that_stops_taking_is_said_once(monkeypatch):
    monkeypatch.setattr(pipes, "BEHIND_SECONDS", 0.2)
    read, write = os.pipe()
    gone = []
    tap = SynthTap(write, FakeClock(0.0), on_gone=gone.append)
    for i in range(6000):
        tap.send(mido.Message("note_off", note=60), at=float(i))
    flusher = [t for t in threading.enumerate() if t.name == "livejam-synth-flush"]
    for t in flusher:
        t.join(10)
    tap.send(mido.Message("note_off", note=61))
    assert gone == ["it stopped taking what livejam sends"] and not tap.pipe.buffer
    os.close(read)
    os.close(write)


def test_a_child_that_has_ended_is_said_once():
    read, write = os.pipe()
    gone = []
    tap = SynthTap(write, FakeClock(0.0), on_gone=gone.append)
    os.close(read)
    for _ in range(3):
        tap.send(mido.Message("note_on", note=60))
    tap.cut("answer")
    assert gone == ["its process has ended"]
    os.close(write)


def test_the_audio_side_reads_the_pipe_when_the_board_says_livejam_wrote_and_takes_a_burst_over_cycles(tmp_path):
    import tempfile

    from livejam.sound.synth_link import TAKE_RECORDS, _board
    from livejam.sound.synth_process import PipedOutput

    board = tempfile.TemporaryFile()
    board.truncate(8)
    read, write = os.pipe()
    try:
        tap = SynthTap(write, FakeClock(0.0), on_gone=lambda why: None, board=_board(board.fileno()))
        out = PipedOutput(read, BlockSynth(rate=RATE), FakeClock(0.0), board=_board(board.fileno()))
        os.write(write, RECORD.pack(0.5, synth_link.SEND, 0, 3, bytes(mido.Message("note_on", note=40).bytes())))
        out.take()
        assert not out.sent  # in the pipe, but the board does not say so: an idle cycle reads one word
        count = TAKE_RECORDS * 2 + 10
        for i in range(count):
            tap.send(mido.Message("note_on", note=i % 128, velocity=1), at=float(i))
        cycles = 0
        while len(out.sent) < count + 1 and cycles < 10:
            out.take()
            cycles += 1
        assert cycles == 3  # a burst over as many cycles as it takes, TAKE_RECORDS a cycle
        assert [t for t, *_ in out.sent] == [0.5] + [float(i) for i in range(count)]
        out.take()
        assert len(out.sent) == count + 1
    finally:
        os.close(read)
        os.close(write)
        board.close()
