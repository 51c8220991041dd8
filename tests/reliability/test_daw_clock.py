"""A DAW's clock as a real session throws it: a relocation (Start or Song
Position Pointer while the song runs: a loop, a jump), a dropout (ticks lost on
the way: counted, the bars stay put), a stall (ticks gone for longer: the beat
goes on, the bar is unknown), and joining a song already running (the bar is
unknown until Start or a pointer). The follower on explicit timestamps; the
engine on a fake clock for what the player hears."""
import mido
import pytest

from livejam.timing.tempo import MAX_COUNTED_BEATS, PPQN, MidiClockFollower
from tests.livejam.timing.test_tempo import arrivals, steady


def started(times, upto):
    f = MidiClockFollower()
    f.feed("start", times[0] - 0.01)
    for t in arrivals(times)[:upto]:
        f.feed("clock", t)
    return f


def test_a_song_position_pointer_while_running_moves_the_bars_at_once():
    times = steady(120, beats=12)
    f = started(times, 4 * PPQN)
    assert f.feed("songpos", times[4 * PPQN] - 0.002, 64) == "relocate"  # sixteenth 64: beat 16, bar 5
    assert f.grid().beats(times[4 * PPQN]) == pytest.approx(16.0, abs=0.05)  # before the next tick comes
    for t in arrivals(times)[4 * PPQN: 8 * PPQN]:
        f.feed("clock", t)
    assert f.grid().beats(times[8 * PPQN]) == pytest.approx(20.0, abs=0.01) and f.bar_known
    assert f.feed("start", times[8 * PPQN] - 0.001) == "relocate"  # a loop back to bar 1 without Stop
    assert f.grid().beats(times[8 * PPQN]) == pytest.approx(0.0, abs=0.05)
    assert f.feed("continue", times[8 * PPQN]) is None  # Continue while running: nothing moves


@pytest.mark.parametrize("gap_ticks", [12, 24, 48])
def test_a_dropout_counts_the_lost_ticks_so_every_later_bar_line_stays_put(gap_ticks):
    """Ticks sent but not received (a cable, a server): the song went on."""
    times = steady(120, beats=24)
    heard = arrivals(times)
    f = MidiClockFollower()
    f.feed("start", times[0] - 0.01)
    said = []
    gone = range(8 * PPQN, 8 * PPQN + gap_ticks)
    for k, t in enumerate(heard):
        if k in gone:
            said.append(f.check(t))
            continue
        said.append(f.feed("clock", t))
    assert "lost" in said and said.count("found") == 2  # said, then back
    assert abs(f.grid().time(20.0) - times[20 * PPQN]) < 0.002  # bar 6 where the DAW has it
    assert f.bar_known


@pytest.mark.parametrize("held_ticks", [13, 20, 40])
def test_ticks_held_back_by_a_busy_machine_then_a_burst_are_not_counted_twice(held_ticks):
    """livejam's process (or the server) stalls past the lost threshold: the ticks
    were sent and arrive late, all at once. They are ticks of the song, not lost
    ones: counting the gap as well put every later bar line that many ticks late."""
    times = steady(120, beats=24)
    heard = arrivals(times)
    f = MidiClockFollower()
    f.feed("start", times[0] - 0.01)
    held = range(8 * PPQN, 8 * PPQN + held_ticks)
    burst = heard[held.stop]
    for k, t in enumerate(heard):
        f.feed("clock", burst + 1e-5 * (k - held.start) if k in held else t)
    assert abs(f.grid().time(20.0) - times[20 * PPQN]) < 0.002  # bar 6 where the DAW has it
    assert f.bar_known


def test_a_stall_keeps_the_beat_and_says_the_bar_is_unknown_until_the_daw_says():
    times = steady(120, beats=40)
    heard = arrivals(times)
    f = MidiClockFollower()
    f.feed("start", times[0] - 0.01)
    stall = range(8 * PPQN, 8 * PPQN + (MAX_COUNTED_BEATS + 4) * PPQN)
    for k, t in enumerate(heard[:30 * PPQN]):
        if k not in stall:
            f.feed("clock", t)
    g = f.grid()
    assert g is not None and abs(g.bpm - 120) < 1  # the beat goes on
    assert not f.bar_known  # where the song is was not said
    f.feed("songpos", times[30 * PPQN] - 0.002, 4 * 30)
    assert f.bar_known and f.grid().beats(times[30 * PPQN]) == pytest.approx(30.0, abs=0.05)


def test_joining_a_song_already_running_keeps_the_beat_without_inventing_a_bar():
    times = steady(90, beats=8, start=100.0)
    f = MidiClockFollower()
    said = [f.feed("clock", t) for t in arrivals(times)[:4 * PPQN]]
    assert "found" in said and f.grid() is not None and not f.bar_known
    f.feed("stop", times[4 * PPQN] - 0.01)
    f.feed("start", times[4 * PPQN] - 0.005)
    assert f.bar_known


def clocked_rig(rig, **cfg):
    r = rig(clock_port="DAW", **cfg)
    r.ticks = steady(120, beats=200, start=r.clock.now() + 0.1)
    r.next = 0
    r.engine.feed_midi_clock(mido.Message("start"), r.clock.now() + 0.05)
    return r


def tick_until(r, t):
    """The DAW's clock up to time t, ticks at their times (no delivery jitter)."""
    while r.ticks[r.next] <= t:
        r.run(max(0.0, r.ticks[r.next] - r.clock.now()))
        r.engine.feed_midi_clock(mido.Message("clock"), r.ticks[r.next])
        r.next += 1
    r.run(max(0.0, t - r.clock.now()))


def test_a_relocation_ends_the_answer_in_play_and_releases_its_notes(rig):
    r = clocked_rig(rig, answer_bars=4)
    tick_until(r, r.clock.now() + 2.0)
    for i, p in enumerate((60, 64, 67, 72)):  # a one-bar call
        r.play("note_on", note=p, velocity=80)
        tick_until(r, r.clock.now() + 0.4)
        r.play("note_off", note=p, velocity=0)
        tick_until(r, r.clock.now() + 0.1)
    tick_until(r, r.clock.now() + 3.0)
    assert r.conv.answer is not None and r.out.notes_on()
    r.engine.feed_midi_clock(mido.Message("songpos", pos=0), r.clock.now())  # the DAW loops back
    tick_until(r, r.clock.now() + 0.05)
    assert r.conv.answer is None and r.out.hanging() == {}
    assert ("clock", "relocate") in [(k, d.get("what")) for k, d in r.events()]
    assert r.engine.position()[0] == 1  # bar 1, where the DAW is


def test_stop_silences_the_metronome_clicks_already_scheduled(rig):
    r = clocked_rig(rig, metronome=True)
    tick_until(r, r.clock.now() + 2.0)
    stop_at = r.clock.now()
    r.engine.feed_midi_clock(mido.Message("stop"), stop_at)
    tick_until(r, stop_at + 0.5)
    clicks = [t for t, m in r.out.notes_on() if m.channel == 9]
    assert clicks and max(clicks) <= stop_at and r.out.hanging() == {}


def test_the_bar_unknown_is_said_in_events_and_answers_keep_to_the_beat(rig):
    r = rig(clock_port="DAW")
    r.ticks, r.next = steady(120, beats=200, start=r.clock.now() + 0.1), 0  # ticks alone: joined mid-song
    tick_until(r, r.clock.now() + 2.0)
    found = [d for k, d in r.events() if k == "clock"]
    assert found and found[0]["bar_known"] is False
    assert r.engine.position() == (None, None)  # a beat, no bar
    for p in (60, 64):
        r.play("note_on", note=p, velocity=80)
        tick_until(r, r.clock.now() + 0.3)
        r.play("note_off", note=p, velocity=0)
    released = r.clock.now()
    tick_until(r, released + 1.5)
    first = r.out.notes_on()[0][0]
    beat = r.engine.tempo.grid().beats(first)
    assert abs(beat - round(beat)) < 0.01 and first - released < 0.5 + 0.01  # the next beat, not the next bar


@pytest.mark.parametrize("daw_does", ["stop", "relocate"])
def test_the_daws_stop_or_relocation_silences_the_accompaniment_at_once(rig, daw_does):
    """Accompany mode on a followed clock: the DAW stops (or loops back) while the
    player holds a chord; the bass line playing under it stops with every note
    released, as the DAW's own tracks do, and no new note of it comes."""
    r = clocked_rig(rig, mode="accompany", role="bass")
    tick_until(r, r.clock.now() + 2.0)
    for p in (60, 64, 67):  # a held chord: the bass plays under it on each beat
        r.play("note_on", note=p, velocity=80)
    tick_until(r, r.clock.now() + 1.6)
    assert r.out.notes_on(), "the accompaniment was playing"
    at = r.clock.now()
    if daw_does == "stop":
        r.engine.feed_midi_clock(mido.Message("stop"), at)
    else:
        r.engine.feed_midi_clock(mido.Message("songpos", pos=0), at)
    tick_until(r, at + 0.02)
    assert r.out.hanging() == {}, "an accompaniment note outlived the DAW's stop"
    if daw_does == "stop":  # no ticks after a Stop: nothing new from the accompanist
        r.run(1.5)
        assert not [t for t, m in r.out.notes_on() if t > at + 0.02]
