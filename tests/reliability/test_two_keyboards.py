"""Two keyboards on one channel are one player with two pairs of hands: one's
note-off (or pedal-up) never cuts a key (or pedal) the other still holds, on the
thru output, in the recording or in what the model hears; and a keyboard
switched away leaves nothing it held sounding. The engine on a fake clock with a
recording output, then through JACK with livejam as its own process and the two
keyboards as devices of their own."""

import mido
import pytest

from livejam.midi import system
from livejam.midi.sounding import Keyboards
from livejam.midi.sounding import hanging
from tests.jack_peer import Peer
from tests.waiting import until


def note(kind, p, v=90):
    return mido.Message(kind, note=p, velocity=v if kind == "note_on" else 0)


def pedal(v):
    return mido.Message("control_change", control=64, value=v)


def wire(r, pitch):
    return [m.type for _, m in r.out.messages if m.type in ("note_on", "note_off") and m.note == pitch]


def test_one_keyboards_note_off_does_not_cut_the_others_held_note(rig):
    r = rig(thru=True)
    r.engine.feed_midi(note("note_on", 60), r.clock.now(), keyboard="upper")
    r.run(0.1)
    r.engine.feed_midi(note("note_on", 60), r.clock.now(), keyboard="lower")  # the same key on the other
    r.run(0.1)
    r.engine.feed_midi(note("note_off", 60), r.clock.now(), keyboard="lower")
    r.run(0.1)
    assert r.out.hanging() == {(0, 60): 1}  # the upper keyboard still holds it: it sounds on
    assert r.engine.listener.encoder.held  # and the model still hears it held: the call goes on
    r.engine.feed_midi(note("note_off", 60), r.clock.now(), keyboard="upper")
    r.run(0.1)
    assert r.out.hanging() == {}
    assert wire(r, 60)[-1] == "note_off"


def test_one_feet_pedal_up_does_not_lift_the_others_pedal(rig):
    r = rig(thru=True)
    for kb in ("upper", "lower"):
        r.engine.feed_midi(pedal(127), r.clock.now(), keyboard=kb)
        r.run(0.05)
    r.engine.feed_midi(pedal(0), r.clock.now(), keyboard="lower")
    r.run(0.05)
    ups = [m for _, m in r.out.messages if m.type == "control_change" and m.control == 64 and m.value < 64]
    assert ups == []  # the upper foot still holds the pedal
    r.engine.feed_midi(pedal(0), r.clock.now(), keyboard="upper")
    r.run(0.05)
    ups = [m for _, m in r.out.messages if m.type == "control_change" and m.control == 64 and m.value < 64]
    assert len(ups) == 1


def test_a_keyboard_switched_away_lets_go_of_what_only_it_held(rig, tmp_path):
    r = rig(thru=True)
    r.engine.feed_midi(note("note_on", 60), r.clock.now(), keyboard="upper")
    r.engine.feed_midi(note("note_on", 64), r.clock.now(), keyboard="lower")
    r.engine.feed_midi(note("note_on", 60), r.clock.now(), keyboard="lower")
    r.run(0.1)
    r.engine.command("keyboards_left", ["lower"])
    r.run(0.1)
    assert r.out.hanging() == {(0, 60): 1}  # 64 was the lower's alone; 60 the upper still holds
    r.engine.feed_midi(note("note_off", 60), r.clock.now(), keyboard="upper")
    r.run(0.1)
    assert r.out.hanging() == {}


def test_after_a_panic_a_keyboards_release_is_not_withheld():
    kbs = Keyboards()
    assert kbs.passes(note("note_on", 60), "a") and kbs.passes(note("note_on", 60), "b")
    kbs.clear()  # a panic released everything
    assert kbs.passes(note("note_off", 60), "a")  # a stray release: it goes on


@pytest.mark.usefixtures("jack_server")
def test_two_keyboards_through_jack_hold_one_note_until_both_let_go(api, livejam):
    upper, lower = Peer("out", "upper-kbd", "keys"), Peer("out", "lower-kbd", "keys")
    lj = livejam("--in", "upper-kbd:keys", "--in", "lower-kbd:keys", "--virtual", "--thru", "--silence", "30")
    daw = Peer("in", "daw", target=system.VIRTUAL_OUT)
    try:
        def heard(pitch):
            return [b for b in daw.received if b[0] & 0xE0 == 0x80 and b[1] == pitch]

        def ons(pitch):
            return [b for b in heard(pitch) if b[0] & 0xF0 == 0x90 and b[2] > 0]

        # A JACK connection takes a few periods: each keyboard strikes a probe key until it is heard.
        for kbd, probe in ((upper, 40), (lower, 41)):
            assert until(lambda: (kbd.send_message([0x90, probe, 1]), kbd.send_message([0x80, probe, 0]),
                                  heard(probe))[2], 10, every=0.1)
        upper.send_message([0x90, 60, 90])
        assert until(lambda: len(ons(60)) == 1, 5, every=0.01)
        lower.send_message([0x90, 60, 80])  # (the same bytes within 60 ms would be taken for an echo: midi/feedback.py)
        assert until(lambda: len(ons(60)) == 2, 5, every=0.01)
        lower.send_message([0x80, 60, 0])
        marker = len(ons(42))
        lower.send_message([0x90, 42, 1])  # after the lower's release on the same port: once heard, so was that
        assert until(lambda: len(ons(42)) > marker, 5, every=0.01)
        msgs = [mido.Message.from_bytes(b) for b in daw.received]
        assert hanging([(0, m) for m in msgs]).get((0, 60)) == 1, heard(60)
        lower.send_message([0x80, 42, 0])
        upper.send_message([0x80, 60, 0])
        assert until(lambda: hanging([(0, mido.Message.from_bytes(b)) for b in daw.received]).get((0, 60)) is None,
                     5, every=0.01)
    finally:
        lj.stop()
        daw.close()
        upper.close()
        lower.close()
