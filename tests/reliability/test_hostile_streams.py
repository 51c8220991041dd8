"""Floods and nonsense on the live input, through JACK, from a separate keyboard
client: clock and active sensing, CC, pitch-bend and aftertouch storms, a 4 KB
sysex, note-offs without note-ons, all 128 keys down, notes on every channel.
livejam keeps running, answers the next call, and leaves nothing sounding."""
import pytest

from livejam.midi import system
from livejam.bench.loopback import Loopback
from livejam.midi.sounding import hanging
from tests.jack import judge_releases

pytestmark = pytest.mark.usefixtures("jack_server")


def burst(lb, messages, at_once: int = 100) -> None:
    """Send in bursts the server can carry (a JACK port takes a bounded amount per
    period), each burst after the last has gone out."""
    for i in range(0, len(messages), at_once):
        for m in messages[i:i + at_once]:
            lb.keys.send_message(m)
        lb.wait_for(lambda: False, 0.02)  # the keyboard paces itself, as hardware would


def test_floods_and_nonsense_on_the_input_do_not_stop_the_conversation(api, livejam, tmp_path):
    lj = livejam("--virtual", "--answer-seconds", "1", "--silence", "0.4", "--record-dir", str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        burst(lb, [[0xF8]] * 2000 + [[0xFE]] * 500)  # clock and active sensing
        burst(lb, [[0xB0, 1, i % 128] for i in range(1000)])  # a mod wheel storm
        burst(lb, [[0xE0, i % 128, (i * 7) % 128] for i in range(1000)])  # pitch bend
        burst(lb, [[0xD0, i % 128] for i in range(500)] + [[0xA0, 60, i % 128] for i in range(500)])  # aftertouch
        lb.keys.send_message([0xF0] + [i % 128 for i in range(4096)] + [0xF7])  # 4 KB sysex
        burst(lb, [[0x80, p, 0] for p in range(128)])  # note-offs for keys never pressed
        burst(lb, [[0x90, p, 100] for p in range(128)])  # all 128 keys down...
        burst(lb, [[0x80, p, 0] for p in range(128)])  # ...and up
        burst(lb, [[0x90 | ch, 60, 90] for ch in range(16)] + [[0x80 | ch, 60, 0] for ch in range(16)])
        if not lj.wait_event("answer", 8):
            # A JACK server without real-time priority drops a whole period's MIDI on an xrun:
            # if that took the releases, livejam says which keys it holds; let them go again.
            assert lj.wait_event("held", 10), lj.events
            burst(lb, [[0x80, p, 0] for p in range(128)] + [[0x80 | ch, 60, 0] for ch in range(16)])
        assert lj.wait_event("answer", 15), lj.events  # the nonsense above still made calls
        answered = sum(e["event"] == "answer" for e in lj.events)
        lb.play([62, 65, 69], each=0.1)  # and a plain call after it all is answered
        assert lj.wait_event("answer", 15, count=answered + 1), lj.events
        lb.wait_for(lambda: hanging(lb.messages()) == {}, 5)
        assert lj.proc.poll() is None
        rc = lj.stop()
        heard = lb.messages()
    finally:
        lb.close()
        lj.stop()
    assert rc == 0
    judge_releases(tmp_path, heard)
    assert not [e for e in lj.events if e["event"] == "error"], lj.events
