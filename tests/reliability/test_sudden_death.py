"""Faults livejam cannot handle itself: killed with SIGKILL in the middle of an
answer (as a crash in a native library or the OOM killer would). Through a real
JACK server, with this test as the keyboard and the DAW."""
import signal
import time

import mido
import pytest

from livejam.midi import system
from livejam.bench.loopback import Loopback
from livejam.midi.sounding import hanging
from tests.jack import judge_releases, receive

pytestmark = pytest.mark.usefixtures("jack_server")


def answer_sounding(lb) -> bool:
    return bool(hanging(lb.messages()))


def test_sigkill_mid_answer_leaves_no_note_sounding(api, livejam):
    lj = livejam("--virtual", "--answer-seconds", "10", "--silence", "0.5")
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        lb.play([60, 64, 67], each=0.1)
        # Kill it at a moment when the answer holds at least one note.
        assert lb.wait_for(lambda: answer_sounding(lb), 10), "no answer note sounding to leave behind"
        killed = time.perf_counter()
        lj.proc.send_signal(signal.SIGKILL)
        lj.proc.wait(timeout=10)
        # The watchdog, not livejam, releases what was left: every note, then the panic CCs.
        released = lb.wait_for(lambda: not answer_sounding(lb) and any(
            m.type == "control_change" and m.control == 120 for _, m in lb.messages(killed)), 5)
        after = lb.messages(killed)
        assert after, "nothing from the watchdog after SIGKILL"
        if not released:
            # Only the server may have lost some on the way (an xrun): the watchdog sends
            # all 128 note-offs and 3 CCs on the answer channel, and fewer arrived.
            assert len(after) < 131, f"still sounding after SIGKILL: {hanging(lb.messages())}"
            return
        released_at = max(t for t, m in after if m.type == "control_change" and m.control == 120)
        assert released_at - killed < 1.0
        ccs = [(m.control, m.value) for _, m in after if m.type == "control_change"]
        assert ccs[-3:] == [(123, 0), (64, 0), (120, 0)]
    finally:
        lb.close()


def test_the_recording_made_before_a_sigkill_is_readable(api, livejam, tmp_path):
    lj = livejam("--virtual", "--answer-seconds", "1", "--silence", "0.5", "--record-dir", str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        lb.play([60, 64, 67, 72], each=0.1)
        assert lj.wait_event("answer", 10), lj.events  # a phrase and its answer: flushed to disk
        lj.proc.send_signal(signal.SIGKILL)
        lj.proc.wait(timeout=10)
    finally:
        lb.close()
    files = list(tmp_path.glob("*.mid"))
    assert len(files) == 1
    mid = mido.MidiFile(str(files[0]))
    player = [m.note for m in mid.tracks[0] if m.type == "note_on" and m.velocity > 0]
    answer = [m for m in mid.tracks[1] if m.type == "note_on" and m.velocity > 0]
    assert player == [60, 64, 67, 72] and answer


def test_an_orderly_stop_sends_the_watchdog_home_without_a_second_panic(api, livejam, tmp_path):
    lj = livejam("--virtual", "--answer-seconds", "1", "--silence", "0.5", "--record-dir", str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        lb.play([60, 64], each=0.1)
        assert lj.wait_event("answer", 10)
        assert lj.stop(signal.SIGTERM) == 0
        lb.wait_for(lambda: [m.control for _, m in lb.messages() if m.type == "control_change"][-1:] == [120], 5)
        settled = len(lb.messages())
        assert not lb.wait_for(lambda: len(lb.messages()) > settled, 1.0)  # nothing more: the watchdog said nothing
        heard = lb.messages()
    finally:
        lb.close()
    # A second panic (the watchdog's 128 note-offs) would have shown as more messages
    # than livejam sent; its own releases balance, and the DAW's when nothing was dropped.
    if judge_releases(tmp_path, heard):
        assert [m.control for _, m in heard if m.type == "control_change"][-1:] == [120]


def test_livejam_panic_releases_a_synth_stuck_for_any_other_reason(api):
    import subprocess
    import sys

    synth = system.client("in", api, "stuck-synth")
    synth.open_virtual_port("midi in")
    try:
        r = subprocess.run([sys.executable, "-m", "livejam", "panic", "--api", "jack", "--out", "stuck-synth",
                            "--channel", "3"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "channel 3" in r.stdout and "stuck-synth:midi in" in r.stdout
        got = receive(synth, lambda got: len(got) >= 131)
        offs = {m.note for m in got if m.type == "note_off" and m.channel == 2}
        assert offs == set(range(128))
        assert [(m.control, m.value) for m in got if m.type == "control_change"] == [(123, 0), (64, 0), (120, 0)]
    finally:
        synth.delete()
