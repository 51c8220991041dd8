"""Accompany mode (conversation/accompany.py) on the fake clock: livejam plays
along while the player plays, in its role's place, on the beat, in key, and is
silent with every note released on every way out."""
import mido
import pytest

from livejam.conversation.accompany import CLEARANCE, COUNTER_APART
from livejam.conversation.events import AnswerEnded

# "Ode to Joy" in C major, a note a beat (the last one two beats).
ODE = [64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 64, 62, 62, 64,
       64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 62, 60, 60]
C_MAJOR = {0, 2, 4, 5, 7, 9, 11}


def play_tune(r, tune, spb, t0, gate=0.9):
    """The tune, a note a beat from t0 (each held `gate` of a beat); returns the melody
    notes as (on, off, pitch)."""
    notes = [(t0 + i * spb, t0 + (i + gate) * spb, p) for i, p in enumerate(tune)]
    timed = sorted([(a, 1, mido.Message("note_on", note=p, velocity=90)) for a, _, p in notes] +
                   [(b, 0, mido.Message("note_off", note=p)) for _, b, p in notes], key=lambda x: (x[0], x[1]))
    for t, _, msg in timed:
        r.run(t - r.clock.now())
        r.engine.feed_midi(msg, t)
        r.run(0)
    return notes


def notes_of(out):
    """livejam's notes as (on, off, pitch) from what it sent."""
    open_, done = {}, []
    for t, m in out.messages:
        if m.type == "note_on" and m.velocity > 0:
            open_.setdefault(m.note, []).append(t)
        elif m.type in ("note_on", "note_off") and open_.get(m.note):
            done.append((open_[m.note].pop(0), t, m.note))
    return sorted(done)


def sounding_at(melody, t):
    return [p for a, b, p in melody if a <= t < b]


@pytest.fixture
def along(rig):
    def start(**cfg):
        r = rig(mode="accompany", **cfg)
        g = r.engine.conversation.grid()
        t0 = g.time(4.0) - 0.01 if g else r.clock.now() + 0.5  # a hair ahead of the beat, as players play
        return r, g, t0
    return start


def test_a_bass_line_under_the_melody_on_the_beat_in_key_ending_within_a_beat(along):
    r, g, t0 = along(role="bass", bpm=96)
    melody = play_tune(r, ODE, g.spb, t0)
    r.run(4 * g.spb)
    ours = notes_of(r.out)
    during = [n for n in ours if n[0] < melody[-1][1]]
    assert len(during) >= 0.8 * len(ODE)  # along with the tune, not after it
    for on, off, p in ours:
        assert abs(g.beats(on) - round(g.beats(on))) < 1e-6  # on a beat of the grid
        for m in sounding_at(melody, on + 1e-6) + sounding_at(melody, off - 1e-6):
            assert p <= m - CLEARANCE, (on, p, m)  # under the melody note sounding then
    assert sum(p % 12 in C_MAJOR for _, _, p in ours) >= 0.9 * len(ours)
    assert max(on for on, _, _ in ours) <= melody[-1][1] + g.spb  # its line ends within a beat of the player's
    assert r.out.hanging() == {}
    assert not any(isinstance(e, AnswerEnded) for e in r.said)  # accompany mode: no answer after it


def test_chords_are_two_to_four_notes_below_the_melody(along):
    r, g, t0 = along(role="chords", bpm=96)
    melody = play_tune(r, ODE, g.spb, t0)
    r.run(4 * g.spb)
    ours = notes_of(r.out)
    chords: dict[float, list[int]] = {}
    for on, _, p in ours:
        chords.setdefault(round(on, 6), []).append(p)
    assert len(chords) >= 0.8 * len(ODE)
    sizes = [len(c) for c in chords.values()]
    assert min(sizes) >= 2 and max(sizes) <= 4, sizes
    for on, c in chords.items():
        assert all(p <= min(sounding_at(melody, on + 1e-6) or [128]) - CLEARANCE for p in c)
    assert r.out.hanging() == {}


def test_a_counter_line_on_the_off_beats_in_the_players_register_apart_from_the_melody(along):
    r, g, t0 = along(role="counter", bpm=96)
    melody = play_tune(r, ODE, g.spb, t0)
    r.run(4 * g.spb)
    ours = notes_of(r.out)
    assert len(ours) >= 0.8 * len(ODE)
    for on, _, p in ours:
        assert g.beats(on) % 1 == pytest.approx(0.5, abs=1e-6) or any(abs(on - a) < 1e-9 for a, _, _ in melody)
        assert min(ODE) - 5 <= p <= max(ODE) + 5
        assert all(abs(p - m) >= COUNTER_APART for m in sounding_at(melody, on + 1e-6))
    assert r.out.hanging() == {}


def test_in_free_time_it_keeps_the_players_pulse(along):
    r, g, t0 = along(role="bass")
    assert g is None
    play_tune(r, ODE[:16], 0.55, t0)
    r.run(2.0)
    ons = [on for on, _, _ in notes_of(r.out)]
    gaps = sorted(b - a for a, b in zip(ons, ons[1:]))
    assert len(ons) >= 12
    assert gaps[len(gaps) // 2] == pytest.approx(0.55, rel=0.05)


@pytest.mark.parametrize("way_out", ["panic", "mute", "answer mode", "role"])
def test_every_way_out_mid_tune_releases_every_note(along, way_out):
    r, g, t0 = along(role="chords", bpm=96)
    play_tune(r, ODE[:6], g.spb, t0)
    r.play("note_on", note=67, velocity=90)  # and a key held on
    r.run(g.spb * 1.5)
    assert r.out.hanging()  # it is playing
    if way_out == "panic":
        r.engine.command("panic")
    elif way_out == "mute":
        r.engine.command("muted", True)
    elif way_out == "answer mode":
        r.engine.command("mode", "answer")
    else:
        r.engine.command("role", "bass")  # a role change: the next beat plays the new role
    r.run(0)
    if way_out == "role":
        r.run(g.spb)
        assert r.out.hanging() and all(len(c) == 1 for c in _onsets_after(r.out, r.clock.now() - g.spb))
    else:
        ours = [(t, m) for t, m in r.out.messages]
        assert r.out.hanging() == {}, (way_out, [(round(t - r.clock.now(), 3), str(m)) for t, m in ours[-8:]], r.said[-3:])
        r.run(30)  # (in answer mode the call is then answered)
        assert r.out.hanging() == {}


def _onsets_after(out, t):
    chords: dict[float, list[int]] = {}
    for on, m in out.notes_on():
        if on > t:
            chords.setdefault(round(on, 6), []).append(m.note)
    return list(chords.values())


@pytest.mark.parametrize("then_answer", [False, True])
def test_the_screens_countdown_to_an_answer_only_when_one_is_coming(along, then_answer):
    r, g, t0 = along(role="bass", then_answer=then_answer)
    play_tune(r, ODE[:4], 0.5, t0)
    assert r.conv.phrases.in_call  # the silence is not up yet
    assert (r.conv.countdown(r.clock.now()) is not None) == then_answer


def test_then_answer_hands_the_turn_to_an_answer_when_the_player_stops(along):
    r, g, t0 = along(role="bass", bpm=96, then_answer=True)
    play_tune(r, ODE[:8], g.spb, t0)
    r.run(12 * g.spb)
    assert any(isinstance(e, AnswerEnded) for e in r.said)
    assert r.out.hanging() == {}


def test_a_struck_note_that_clashes_is_mended_on_the_next_sixteenth(along):
    r, g, t0 = along(role="bass", bpm=96)
    r.run(t0 - r.clock.now())
    r.play("note_on", note=67, velocity=90)  # G held: the bass plays under it on the beat
    r.run(g.spb * 1.1)
    bass = r.out.notes_on()[-1][1].note
    strike = g.time(round(g.beats(r.clock.now())) + 0.3)  # between sixteenths
    r.run(strike - r.clock.now())
    r.play("note_on", note=bass + 13, velocity=90)  # a minor ninth over the bass: a clash
    r.run(g.spb * 0.5)
    after = [(t, m) for t, m in r.out.messages if t >= strike]
    new_on = next(t for t, m in after if m.type == "note_on" and m.velocity > 0)
    assert g.beats(new_on) * 4 == pytest.approx(round(g.beats(new_on) * 4), abs=1e-6)  # on a sixteenth
    assert new_on - strike <= g.spb / 4 + 1e-9  # within a quarter beat
    released = [t for t, m in after if m.note == bass and (m.type == "note_off" or m.velocity == 0)]
    assert released and released[0] <= new_on + 1e-9  # the clashing note goes as the new one comes


def test_a_keyboards_all_notes_off_frees_a_key_whose_note_off_was_lost(along):
    r, g, t0 = along(role="bass", bpm=96)
    r.run(t0 - r.clock.now())
    r.play("note_on", note=67, velocity=90)  # its note-off never comes
    r.run(4 * g.spb)
    assert r.engine.conversation.accompanist.playing  # a held key: it plays on under it
    r.play("control_change", control=123, value=0)
    stopped = r.clock.now()
    r.run(3 * g.spb)
    assert not r.engine.conversation.accompanist.playing
    assert max(t for t, _ in r.out.notes_on()) <= stopped + g.spb  # within a beat
    assert r.out.hanging() == {}


def test_beats_missed_by_a_late_wake_are_skipped_not_played_in_a_burst(along):
    r, g, t0 = along(role="bass", bpm=96)
    r.run(t0 - r.clock.now())
    r.play("note_on", note=67, velocity=90)  # held
    acc = r.engine.conversation.accompanist
    before, beat = acc.notes_played, acc.next_beat
    acc.tick(beat + 2.5 * g.spb)  # the engine thread woke two and a half beats late
    assert acc.notes_played == before  # the missed beats are not played at once
    assert acc.next_beat == pytest.approx(beat + 3 * g.spb)  # it goes on from the next beat
    r.run(beat + 3 * g.spb + 0.001 - r.clock.now())
    assert [round(t, 6) for t, _ in r.out.notes_on()][-1] == round(beat + 3 * g.spb, 6)  # on that beat
