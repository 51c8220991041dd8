"""Through the JACK server: livejam in its own process follows a test DAW's MIDI
clock (60, 90, 120 and 180 BPM and a ramp) and answers on its bar lines; Stop ends
an answer with every note released; a lost clock is said and free time goes on.

Measured at the receiving client: the answer's first note against the clock tick
on that bar line, both heard by the same client. A client's messages go out at
the start of the next server period, so two events sent within a millisecond can
arrive one period apart: the allowance, for every answer, is one period plus 1 ms
(livejam/bench/bars.py explains, and `livejam bench --bars` gives the figures)."""

import numpy as np
import pytest

from livejam.midi import system
from livejam.bench.bars import SOURCE, TEMPI, ClockSource, steady
from livejam.bench.live import jack_period
from livejam.bench.loopback import Loopback
from livejam.timing.tempo import PPQN
from livejam.midi.sounding import hanging
from tests.jack import Livejam, jack_server, judge_releases  # noqa: F401  (fixture)

BARS = 14  # calls in bars 2, 4, ..., 12; answers on bar lines 3, 5, ..., 13


def period_seconds() -> float:
    frames, rate = jack_period()
    return frames / rate


@pytest.fixture
def daw(jack_server, tmp_path):  # noqa: F811
    source = ClockSource(system.api_id("jack"))
    lj = Livejam("--virtual", "--clock", f"{SOURCE}:clock", "--answer-bars", "1", "--quantize", "1",
                 "--record-dir", str(tmp_path))
    source.connect()
    yield source, lj
    lj.stop()
    source.close()


def test_answers_start_on_the_clocks_bar_lines_and_stay_on_its_grid(daw):
    source, lj = daw
    allowed = 0.001 + period_seconds()
    off_grid = []
    for name, bpm_at in TEMPI.items():
        bars = BARS if bpm_at(0) > 60 else 8  # (60 BPM: three answers, half a minute)
        source.clear()
        source.perform(bpm_at, bars)
        assert lj.wait_event("clock", 5, count=list(TEMPI).index(name) + 1, what="stop"), lj.events
        errors = source.answer_errors(bars)
        assert len(errors) == (bars - 2) // 2, (name, errors)  # every call answered, on its bar line
        # Every answer, not most: within one server period (the receiver hears two sends a
        # millisecond apart a period apart) and 1 ms.
        assert np.max(np.abs(errors)) <= allowed, (name, np.round(np.array(errors) * 1000, 2))
        # The answer's notes stay on the sixteenth grid the clock marks (quantize 1).
        sixteenths = np.array([a for k in range(0, len(source.sent), PPQN // 4)
                               if (a := source.arrival_of(k)) is not None])
        off = [np.abs(sixteenths - t).min() for t, m in source.heard if m.type == "note_on" and m.velocity > 0]
        off_grid += off
    # The rest of each answer's notes (p95: the server here is not real-time, and may drop a period).
    assert np.percentile(off_grid, 95) <= allowed, np.round(np.sort(off_grid)[-10:] * 1000, 2)
    events = [e["what"] for e in lj.events if e["event"] == "clock"]
    assert events[:2] == ["start", "found"] and events.count("stop") == len(TEMPI) and "lost" not in events
    phrases = [e for e in lj.events if e["event"] == "phrase"]
    assert {(e["bar"], round(e["beat"])) for e in phrases} == {(b, 1) for b in range(3, BARS, 2)}


def test_a_clock_that_ticks_before_its_start_keeps_the_bar_lines_at_90_bpm(daw):
    """Some DAWs and sequencers send their clock all the time, and Start when the song
    starts: the first tick after Start is beat 1 of bar 1 (the MIDI spec). livejam took
    that Start for a jump, and its answers left the bar line (21-1,253 ms at 90 BPM)."""
    source, lj = daw
    source.perform(steady(90), 8, ticks_before=4 * PPQN)
    assert lj.wait_event("clock", 5, what="stop"), lj.events
    errors = source.answer_errors(8)
    assert len(errors) == 3, errors  # bars 3, 5 and 7
    assert np.max(np.abs(errors)) <= 0.001 + period_seconds(), np.round(np.array(errors) * 1000, 2)
    said = [e["what"] for e in lj.events if e["event"] == "clock"]
    assert "start" in said and "relocate" not in said, said


def test_a_daw_looping_back_mid_answer_cuts_it_at_once(daw):
    """A DAW's loop (Song Position 0 while running, no Stop) on a beat of the answer:
    nothing of that answer is heard after the jump, beyond what was already on its
    way (the clock port is read every CLOCK_POLL, and a server period passes). One
    run of six used to leave six answer notes after the jump."""
    from livejam.midi.ports import CLOCK_POLL

    source, lj = daw
    source.clear()
    source.perform(steady(90), 4, calls_every=4, relocate_at_beat=9)  # the call in bar 2, the answer in bar 3
    assert lj.wait_event("clock", 5, what="stop"), lj.events
    said = [e["what"] for e in lj.events if e["event"] == "clock"]
    assert "relocate" in said, said
    ons = [t for t, m in source.heard if m.type == "note_on" and m.velocity > 0]
    beat = 60.0 / 90
    assert [t for t in ons if source.relocated - 2 * beat <= t < source.relocated], "the answer was not playing"
    late = [t - source.relocated for t in ons if t > source.relocated + CLOCK_POLL + period_seconds() + 0.003]
    assert not late, np.round(np.array(late) * 1000, 1)
    assert hanging([(0.0, m) for _, m in source.heard if m.type in ("note_on", "note_off")]) == {}


def test_stop_cuts_the_answer_with_every_note_released_and_a_lost_clock_is_said(daw):
    source, lj = daw
    # Stop in the middle of the first answer (half way through bar 3).
    source.perform(steady(120), 4, stop=True, until_beat=10)
    assert lj.wait_event("clock", 5, what="stop")
    source_end = source.arrival_of(len(source.sent) - 1) or source.sent[-1]
    heard = [(t, m) for t, m in source.heard]
    ons = [t for t, m in heard if m.type == "note_on" and m.velocity > 0]
    assert ons, "the answer started on bar line 3"
    sounding_after_stop = hanging(heard)
    assert all(t <= source_end + 0.05 for t in ons)  # nothing new after Stop
    # Now a clock that just stops coming (a cable pulled): livejam says so.
    source.clear()
    source.perform(steady(120), 2, stop=False)
    assert lj.wait_event("clock", 5, what="lost")
    # Stop released every note: livejam's own record balances, and when the server
    # dropped nothing on the way, the DAW heard them released at Stop, not at quit.
    lj.stop()
    source.daw.wait_for(lambda: False, 0.3)  # the last period reaches the DAW
    if judge_releases(lj.record_dir, source.daw.messages()):
        assert not sounding_after_stop, sounding_after_stop


def test_clock_out_and_metronome_reach_a_daw(jack_server):  # noqa: F811
    """`--bpm 150 --clock-out --metronome`: a DAW following livejam gets 24 ticks a
    beat at 150 BPM and a click on channel 10 on the beat (Start goes out before a
    client can connect here; tests/livejam/timing/test_beats_out.py checks it)."""
    lj = Livejam("--virtual", "--bpm", "150", "--clock-out", "--metronome")
    daw = Loopback(system.api_id("jack"), system.VIRTUAL_IN, system.VIRTUAL_OUT, name="livejam-test-follower",
                   poll=0.0005, timing=True)
    try:
        assert daw.wait_for(lambda: sum(m.type == "note_on" for _, m in daw.messages()) >= 7, 15)
        got = daw.messages()
    finally:
        daw.close()
        lj.stop()
    ticks = np.array([t for t, m in got if m.type == "clock"])
    assert len(ticks) > 100
    per_beat = 60 / 150
    assert np.median(np.diff(ticks)) == pytest.approx(per_beat / PPQN, rel=0.05)
    # Over the whole span the rate is exact (single intervals are bunched by the server's periods).
    assert (ticks[-1] - ticks[0]) / (len(ticks) - 1) == pytest.approx(per_beat / PPQN, rel=0.01)
    clicks = [(t, m) for t, m in got if m.type == "note_on" and m.velocity > 0]
    assert clicks and all(m.channel == 9 and m.note == 76 for _, m in clicks)
    assert np.median(np.diff([t for t, _ in clicks])) == pytest.approx(per_beat, rel=0.05)
    # Each click on a tick that starts a beat: within one server period of it.
    period = period_seconds()
    for t, _ in clicks:
        assert np.abs(ticks - t).min() <= period + 0.002


def test_a_count_in_clicks_on_the_daws_beats_and_livejam_listens_from_the_bar_after(jack_server, tmp_path):  # noqa: F811
    """--count-in 2 following the DAW's clock through JACK, livejam its own process:
    eight clicks, each on the clock's beat (after beat 1's, within one period + 1 ms), none after; the
    call played inside the count (bar 2) is not answered, the one after it (bar 4)
    is, on bar line 5."""
    source = ClockSource(system.api_id("jack"))
    lj = Livejam("--virtual", "--clock", f"{SOURCE}:clock", "--answer-bars", "1", "--quantize", "1",
                 "--count-in", "2", "--record-dir", str(tmp_path))
    source.connect()
    try:
        source.clear()
        source.perform(steady(120), 6)  # calls in bars 2 and 4
        assert lj.wait_event("clock", 5, what="stop"), lj.events
        allowed = 0.001 + period_seconds()
        clicks = [t for t, m in source.heard if m.type == "note_on" and m.velocity > 0 and m.channel == 9]
        beats = [source.arrival_of(k * PPQN) for k in range(8)]
        assert len(clicks) == 8 and None not in beats, (len(clicks), beats)
        # Beat 1's click answers the first tick (no tempo is known before it): it comes in
        # on one period and goes out on the next, so it may trail the tick by two periods
        # (three on a loaded machine). The rest are scheduled on the grid: within one.
        assert abs(clicks[0] - beats[0]) <= 3 * period_seconds() + 0.001, (clicks[0] - beats[0])
        assert max(abs(c - b) for c, b in zip(clicks[1:], beats[1:])) <= allowed
        answers = source.answer_errors(6)
        heard = [t for t, m in source.heard if m.type == "note_on" and m.velocity > 0 and m.channel != 9]
        bar3 = source.arrival_of(2 * 4 * PPQN)
        assert not [t for t in heard if bar3 - 0.01 <= t < bar3 + 1.9], "the call inside the count was answered"
        assert len(answers) == 1 and abs(answers[0]) <= allowed, answers  # bar 5's answer, on its line
        assert [e["bar"] for e in lj.events if e["event"] == "phrase"] == [5]
    finally:
        lj.stop()
        source.close()
