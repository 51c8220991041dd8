"""End to end through a real MIDI server (JACK, dummy driver): the test is the
keyboard and the DAW; livejam runs as the user runs it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import mido
import pytest

from livejam.midi import ports, system
from livejam.timing.wallclock import WallClock
from livejam.bench.loopback import Loopback
from livejam.midi.sounding import hanging
from tests.jack import judge_releases
from tests.jack_peer import Peer
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("jack_server")


def test_chords_arrive_intact_through_the_polled_input(api):
    got: list[mido.Message] = []
    port = ports.InputPort(api, None, lambda m, t: got.append(m), WallClock(), virtual_name="chord test in")
    sender = system.client("out", api, "chord-sender")
    sender.open_port(system.resolve("chord test in", sender.get_ports(), "output"))
    # A JACK connection takes effect a few periods later: send until one arrives.
    for _ in range(200):
        sender.send_message([0xB0, 119, 1])
        time.sleep(0.01)
        if got:
            break
    time.sleep(0.05)
    got.clear()
    try:
        chords = [(48 + i % 24, 52 + i % 24, 55 + i % 24) for i in range(200)]
        for ch in chords:
            for p in ch:  # three messages inside one server period
                sender.send_message([0x90, p, 100])
            time.sleep(0.003)
            for p in ch:
                sender.send_message([0x80, p, 0])
            time.sleep(0.003)
        time.sleep(0.3)
    finally:
        system.close_client(sender, api)
        port.close()
    sent = [(kind, p) for ch in chords for kind in ("note_on", "note_off") for p in ch]
    received = [(m.type, m.note) for m in got]
    assert all(m.velocity == 100 for m in got if m.type == "note_on")
    # Intact and in order: what arrived is the sent stream with nothing changed or
    # doubled (the garbling seen with callbacks turns a chord into one note three times).
    it = iter(sent)
    assert all(any(r == s for s in it) for r in received), "a message arrived garbled or out of order"
    # A loaded 2-core machine can make the JACK server drop a whole period now and
    # then (an xrun, logged by jackd); that loses messages but garbles none.
    assert len(received) >= 0.98 * len(sent)


def test_a_phrase_is_answered_on_livejam_out_and_every_note_ends(api, livejam, tmp_path):
    # A silence well above the keyboard's gaps, so a stall of this machine cannot split the call.
    lj = livejam("--virtual", "--answer-seconds", "2", "--silence", "1.5", "--record-dir", str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        released = lb.play([60, 62, 64, 65, 67], each=0.15)
        assert lj.wait_event("answer", 10), lj.events
        ons = [(t, m) for t, m in lb.messages() if m.type == "note_on" and m.velocity > 0]
        assert ons, "no answer arrived"
        assert ons[0][0] - released > 1.4  # it answered once the silence was up, not before
        assert [e["notes"] for e in lj.events if e["event"] == "phrase"] == [5]  # one call, all of it
        pitches = [m.note for _, m in ons]
        assert all(21 <= p <= 108 for p in pitches)
        assert 40 <= sorted(pitches)[len(pitches) // 2] <= 90  # a sensible register around the call
        lb.wait_for(lambda: hanging(lb.messages()) == {}, 5)  # the answer's end: every note released
        rc = lj.stop()
        heard = lb.messages()
    finally:
        lb.close()
        lj.stop()
    assert rc == 0
    judge_releases(tmp_path, heard)


def test_playing_over_an_answer_stops_it(api, livejam, tmp_path):
    # Recorded, so what livejam itself sent can be told from what the server carried.
    lj = livejam("--virtual", "--answer-seconds", "8", "--record-dir", str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        lb.play([60, 64, 67], each=0.15)
        assert lb.wait_for(lambda: any(m.type == "note_on" for _, m in lb.messages()), 5)
        time.sleep(0.6)
        t_in = lb.send(mido.Message("note_on", note=72, velocity=90))
        assert lj.wait_event("interrupted", 5)
        time.sleep(0.5)
        after = lb.messages(t_in + 0.02)
        # Within a few ms only releases come; then nothing more from that answer.
        assert not [m for _, m in after if m.type == "note_on" and m.velocity > 0]
        got = [(t, m) for t, m in lb.messages() if m.type in ("note_on", "note_off")]
        lb.send(mido.Message("note_off", note=72))
    finally:
        lb.close()
        assert lj.stop() == 0
    # livejam released every answer note when it was interrupted (its own record),
    # and the DAW saw it, unless the server dropped a period on the way.
    judge_releases(tmp_path, got)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_quitting_mid_answer_leaves_no_note_hanging(api, sig, livejam, tmp_path):
    lj = livejam("--virtual", "--answer-seconds", "8", "--record-dir", str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        lb.play([60, 64, 67, 72], each=0.1)
        assert lb.wait_for(lambda: any(m.type == "note_on" for _, m in lb.messages()), 5)
        time.sleep(0.3)
        rc = lj.stop(sig)
        panic = [(123, 0), (64, 0), (120, 0)]
        lb.wait_for(lambda: [(m.control, m.value) for _, m in lb.messages()
                             if m.type == "control_change"][-3:] == panic, 5)
        msgs = lb.messages()
    finally:
        lb.close()
    assert rc == 0
    assert lj.events[-1]["event"] == "stopped"
    # (lj.stop() has checked that its JACK ports went with its process: the inputs are left to it.)
    # Every note released (livejam's own record strictly; the DAW's when the server dropped nothing),
    # and then the panic CCs, as far as the DAW's side can be judged.
    if judge_releases(tmp_path, msgs):
        ccs = [(m.control, m.value) for _, m in msgs if m.type == "control_change"]
        assert ccs[-3:] == panic


def test_a_keyboard_that_vanishes_and_returns_is_picked_up_again(api, livejam):
    def keyboard():
        return Peer("out", "vanishing-kbd", "keys")

    kbd = keyboard()
    lj = livejam("--in", "vanishing-kbd:keys", "--virtual", "--answer-seconds", "1")
    daw = Peer("in", "daw", target=system.VIRTUAL_OUT)
    try:
        kbd.close()  # unplugged: its process ends, the server drops it
        assert lj.wait_event("port_lost", 5), lj.events
        kbd = keyboard()
        assert lj.wait_event("port_back", 5), lj.events
        for p in (60, 64, 67):
            kbd.send_message([0x90, p, 90])
            time.sleep(0.1)
            kbd.send_message([0x80, p, 0])
        assert lj.wait_event("answer", 10), lj.events
        assert until(lambda: any(b[0] & 0xF0 == 0x90 and b[2] > 0 for b in daw.received), 5, every=0.01)
        assert lj.proc.poll() is None  # kept running throughout
    finally:
        lj.stop()
        daw.close()
        kbd.close()


def test_port_errors_are_one_line(api):
    r = subprocess.run([sys.executable, "-m", "livejam", "play", "--headless", "--api", "jack", "--in", "no such keyboard",
                        "--no-record"], capture_output=True, text=True, timeout=60, env={**os.environ})
    assert r.returncode == 2
    assert r.stderr.strip().startswith("livejam: no MIDI input port matches 'no such keyboard'")
    assert len(r.stderr.strip().splitlines()) == 1


def test_with_a_split_the_left_hand_under_an_answer_neither_cuts_it_nor_starts_a_call(api, livejam, tmp_path):
    lj = livejam("--virtual", "--answer-seconds", "3", "--silence", "1.0", "--split", "C4", "--record-dir",
                 str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        lb.play([67, 71, 74, 71], each=0.15)
        assert lb.wait_for(lambda: any(m.type == "note_on" for _, m in lb.messages()), 5)
        # Chords struck and let go under the answer, below the split: the harmony, not a call.
        for chord in ((43, 47, 50), (48, 52, 55)):
            for p in chord:
                lb.send(mido.Message("note_on", note=p, velocity=70))
            lb.wait_for(lambda: False, 0.3)
            for p in chord:
                lb.send(mido.Message("note_off", note=p))
        assert lj.wait_event("answer", 10), lj.events
        lb.wait_for(lambda: False, 1.5)  # the left hand's releases are long past the silence threshold
        kinds = [e["event"] for e in lj.events]
        assert "interrupted" not in kinds and kinds.count("phrase") == 1, kinds
        assert any("split at C4" in str(e.get("notices", "")) for e in lj.events), lj.events  # said at the start
        lb.wait_for(lambda: hanging(lb.messages()) == {}, 5)
        heard = lb.messages()
    finally:
        lb.close()
    assert lj.stop() == 0
    judge_releases(tmp_path, heard)
