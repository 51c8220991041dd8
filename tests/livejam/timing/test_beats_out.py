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
