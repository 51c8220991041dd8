"""Clock out and the metronome, on a fake clock: on the beat grid, exactly."""
import numpy as np
import pytest

from livejam.timing.tempo import PPQN


def test_clock_out_sends_start_then_24_ticks_a_beat_on_the_grid_then_stop(rig):
    r = rig(bpm=125, clock_out=True)
    r.engine.beats_out.start()
    g = r.engine.conversation.grid()
    r.run(4 * 60 / 125 - 1e-6)
    sent = [(t, m.type) for t, m in r.out.messages]
    assert sent[0][1] == "start"
    ticks = np.array([t for t, kind in sent if kind == "clock"])
    assert len(ticks) == 4 * PPQN
    assert np.allclose(ticks, [g.time(k / PPQN) for k in range(len(ticks))], atol=1e-9)
    r.engine.beats_out.stop()
    assert r.out.messages[-1][1].type == "stop"


def test_the_metronome_clicks_each_beat_accenting_the_downbeat_and_is_off_by_default(rig):
    quiet = rig(bpm=120)
    quiet.run(3)
    assert not quiet.out.messages
    r = rig(bpm=120, metronome=True, metronome_channel=10, metronome_note=76, beats_per_bar=3)
    g = r.engine.conversation.grid()
    r.run(3.0 - 1e-6)
    clicks = [(t, m) for t, m in r.out.messages if m.type == "note_on"]
    assert [round(g.beats(t), 6) for t, _ in clicks] == [0, 1, 2, 3, 4, 5]
    assert all(m.channel == 9 and m.note == 76 for _, m in clicks)
    assert [m.velocity > 100 for _, m in clicks] == [True, False, False, True, False, False]
    r.run(1)
    assert not r.out.hanging()


def test_a_panic_does_not_silence_the_metronome_for_good(rig):
    r = rig(bpm=120, metronome=True)
    r.run(1.1)
    r.engine.command("panic")
    r.run(1.0)
    g = r.engine.conversation.grid()
    beats = [round(g.beats(t), 6) for t, m in r.out.messages if m.type == "note_on"]
    assert beats == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("setting", [{"clock_port": "daw"}, {}])
def test_no_tempo_no_pulse(rig, setting):
    r = rig(metronome=True, **setting)
    r.run(3)
    assert not r.out.messages


def test_a_count_in_clicks_its_bars_then_livejam_listens_from_the_bar_after(rig):
    """--count-in 1 at 120 BPM, the metronome off: four clicks on the beats of bar 1,
    none after; a note in bar 1 is not a call (thru still has it), one from bar 2 is."""
    r = rig(bpm=120, count_in=1, thru=True)
    g = r.engine.conversation.grid()
    assert r.conv.state == "counting in"
    r.run(g.time(2) - r.clock.now())
    r.play("note_on", note=60, velocity=80)  # in the count-in: heard through, not listened to
    r.run(0.2)
    r.play("note_off", note=60, velocity=0)
    assert not r.conv.phrases.in_call and r.conv.state == "counting in"
    r.run(g.time(4) - r.clock.now() + 1e-3)
    assert r.conv.state == "waiting"  # the bar after the count: listening
    clicks = [round(g.beats(t), 6) for t, m in r.out.messages if m.type == "note_on" and m.channel == 9]
    assert clicks == [0, 1, 2, 3]
    assert [m.velocity > 100 for t, m in r.out.messages if m.type == "note_on" and m.channel == 9] == \
        [True, False, False, False]
    assert [m.note for _, m in r.out.messages if m.channel == 0 and m.type == "note_on"] == [60]  # thru
    r.play("note_on", note=64, velocity=80)
    assert r.conv.phrases.in_call
    r.run(4.0)
    assert not [t for t, m in r.out.messages if m.channel == 9 and t > g.time(4)]  # no click after the count


def test_a_daws_start_counts_in_and_a_relocation_or_stop_ends_the_count(rig):
    from tests.reliability.test_daw_clock import clocked_rig, tick_until

    r = clocked_rig(rig, count_in=2)
    tick_until(r, r.clock.now() + 1.0)  # two beats at 120 BPM: still counting
    assert r.conv.state == "counting in"
    clicks = [t for t, m in r.out.messages if m.type == "note_on" and m.channel == 9]
    g = r.engine.conversation.grid()
    assert clicks and all(abs(g.beats(t) - round(g.beats(t))) < 0.01 for t in clicks)  # on the DAW's beats
    import mido

    r.engine.feed_midi_clock(mido.Message("songpos", pos=0), r.clock.now())  # a loop back: no count again
    tick_until(r, r.clock.now() + 0.1)
    assert r.conv.state != "counting in"


def test_after_a_daws_start_the_count_in_clicks_beat_1_on_its_first_tick_then_every_beat(rig):
    """The tempo is found only from the ticks after Start: beat 1's click goes out on
    the first tick itself, the rest on the grid; eight for two bars, none after."""
    from tests.reliability.test_daw_clock import clocked_rig, tick_until

    r = clocked_rig(rig, count_in=2)
    tick_until(r, r.ticks[0] + 5.0)  # ten beats at 120 BPM
    clicks = [t for t, m in r.out.messages if m.type == "note_on" and m.channel == 9]
    beats = [r.ticks[24 * k] for k in range(8)]
    assert len(clicks) == 8 and max(abs(c - b) for c, b in zip(clicks, beats)) < 0.002, (clicks, beats)
