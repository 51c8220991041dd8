"""The split point (--split) on the fake clock: the left hand below it holds the
harmony, plays no part in the call, and livejam's notes land on its chord, in
answer mode and in accompany mode, led from chord to chord."""
import mido
import pytest

from livejam.conversation.events import AnswerEnded, Interrupted, PhraseEnded, Problem, SettingChanged
from livejam.harmony.voicing import parallel

C, F, G = (48, 52, 55), (48, 53, 57), (47, 50, 55)  # C, F/C, G/B: a left hand's chords below C4
TONES = {C: {0, 4, 7}, F: {5, 9, 0}, G: {7, 11, 2}}


def at(r, t, kind, **kw):
    r.run(max(0.0, t - r.clock.now()))
    r.engine.feed_midi(mido.Message(kind, **kw), t)
    r.run(0)


def hold(r, chord, t):
    for p in chord:
        at(r, t, "note_on", note=p, velocity=70)


def let_go(r, chord, t):
    for p in chord:
        at(r, t, "note_off", note=p)


def kinds(r):
    return [type(e) for e in r.said]


def test_the_left_hand_alone_starts_no_call_and_without_a_split_it_does(rig):
    for split, calls in ((60, 0), (0, 1)):
        r = rig(split=split, silence=0.3)
        t = r.clock.now() + 0.1
        hold(r, C, t)
        let_go(r, C, t + 1.0)
        r.run(2.0)
        assert kinds(r).count(PhraseEnded) == calls, split


def test_the_left_hand_neither_holds_the_call_open_nor_cuts_the_answer(rig):
    r = rig(split=60, silence=0.3, answer_seconds=2.0)
    t = r.clock.now() + 0.1
    hold(r, C, t)  # held right through the call and its end
    for i, p in enumerate((64, 67, 72, 67)):
        at(r, t + 0.2 + 0.25 * i, "note_on", note=p, velocity=80)
        at(r, t + 0.4 + 0.25 * i, "note_off", note=p)
    r.run(0.5)
    assert PhraseEnded in kinds(r)  # the call ended with the left hand still down
    now = r.clock.now()
    let_go(r, C, now)
    hold(r, F, now + 0.05)  # a chord change under the answer
    r.run(3.0)
    assert Interrupted not in kinds(r) and AnswerEnded in kinds(r)
    assert r.out.hanging() == {}


def on_beat_notes(r, g, since, within=0.1):
    """livejam's note-ons (time, pitch) on a beat of grid g (within this many beats)."""
    out = []
    for t, m in r.out.messages:
        if t >= since and m.type == "note_on" and m.velocity > 0:
            b = g.beats(t)
            if abs(b - round(b)) <= within:
                out.append((t, m.note))
    return out


def test_answers_land_on_the_held_chord_on_the_beat(rig):
    landed = []
    for seed in (1, 2, 3, 4):
        r = rig(split=60, bpm=120, answer_bars=2, seed=seed, key_adherence=0.0)
        g = r.conv.grid()
        t0 = g.time(4.0)
        hold(r, F, t0 - 0.01)
        for i, p in enumerate((65, 69, 72, 74, 72, 69, 67, 65)):  # two bars of call, a note a half beat
            at(r, g.time(4.0 + i * 0.5), "note_on", note=p, velocity=80)
            at(r, g.time(4.4 + i * 0.5), "note_off", note=p)
        start = g.time(8.0)  # the answer's bar line
        r.run(start + 8 * g.spb - r.clock.now())
        landed += on_beat_notes(r, g, start)
        assert r.out.hanging() == {}
    assert len(landed) >= 6
    assert all(p % 12 in TONES[F] for _, p in landed), landed


def test_a_chord_changed_under_the_answer_is_landed_on_from_the_next_beat(rig):
    landed = []
    for seed in (1, 2, 3, 4, 5, 6):
        r = rig(split=60, bpm=120, answer_bars=2, seed=seed, key_adherence=0.0)
        g = r.conv.grid()
        hold(r, C, g.time(4.0) - 0.01)
        for i, p in enumerate((64, 67, 72, 76, 72, 67, 64, 60)):
            at(r, g.time(4.0 + i * 0.5), "note_on", note=p, velocity=80)
            at(r, g.time(4.4 + i * 0.5), "note_off", note=p)
        # Under the answer (from beat 8) the left hand changes chord every two beats, a hair early.
        held, spans = C, []
        for k, chord in enumerate((F, G, C, F)):
            tc = g.time(8.0 + 2 * k) - 0.01
            let_go(r, held, tc - 0.02)
            hold(r, chord, tc)
            spans.append((tc, tc + 2 * g.spb, chord))
            held = chord
        let_go(r, held, g.time(16.0))
        r.run(2.0)
        for t, p in on_beat_notes(r, g, g.time(8.0)):
            chord = next((c for s, e, c in spans if s <= t < e), None)
            if chord is not None:
                landed.append((t, p, chord))
        assert Interrupted not in kinds(r) and r.out.hanging() == {}
    assert len(landed) >= 6
    # (A note the grid's pull puts near a beat only because the same pitch must first end, by
    # the quantise's "never over its own release", was not chosen on a beat: it may miss.)
    assert sum(p % 12 in TONES[c] for _, p, c in landed) >= 0.9 * len(landed), landed


def test_answers_in_free_time_land_on_the_chord_on_the_calls_pulse(rig):
    landed = []
    for seed in (1, 2, 3, 4):
        r = rig(split=60, silence=0.4, answer_seconds=4.0, key_adherence=0.0, seed=seed)
        t = r.clock.now() + 0.1
        hold(r, G, t)
        for i, p in enumerate((67, 71, 74, 71, 67, 62)):  # 0.5 s apart: the pulse
            at(r, t + 0.1 + 0.5 * i, "note_on", note=p, velocity=80)
            at(r, t + 0.5 + 0.5 * i, "note_off", note=p)
        r.run(5.0)
        assert PhraseEnded in kinds(r)
        ons = [(tt, m.note) for tt, m in r.out.messages if m.type == "note_on" and m.velocity > 0]
        first = ons[0][0]
        landed += [(tt, p) for tt, p in ons if abs((tt - first) / 0.5 - round((tt - first) / 0.5)) <= 0.1]
    assert len(landed) >= 6 and all(p % 12 in TONES[G] for _, p in landed), landed


def play_with_changes(r, g, role_melody=(76, 77, 79, 77, 76, 74, 72, 74, 76, 72, 71, 72)):
    """Three chords of four beats (C, F/C, G/B) under a melody a note a beat; returns
    the change times and the melody as (on, off, pitch)."""
    t0, changes, melody = g.time(4.0), [], []
    for k, chord in enumerate((C, F, G)):
        tc = g.time(4.0 + 4 * k) - 0.01  # struck a hair before the bar, as players do
        if k:
            let_go(r, (C, F, G)[k - 1], tc - 0.02)
        hold(r, chord, tc)
        changes.append((g.time(4.0 + 4 * k), chord))
        for i in range(4):
            p = role_melody[4 * k + i]
            on_t = g.time(4.0 + 4 * k + i) - 0.005
            at(r, on_t, "note_on", note=p, velocity=85)
            at(r, on_t + 0.9 * g.spb, "note_off", note=p)
            melody.append((on_t, on_t + 0.9 * g.spb, p))
    let_go(r, G, g.time(16.0))
    r.run(3 * g.spb)
    return t0, changes, melody


def ours(r):
    assert not [e for e in r.said if isinstance(e, Problem)]
    open_, done = {}, []
    for t, m in r.out.messages:
        if m.type == "note_on" and m.velocity > 0:
            open_[m.note] = t
        elif m.type in ("note_on", "note_off") and m.note in open_:
            done.append((open_.pop(m.note), t, m.note))
    return sorted(done)


def chord_at(changes, t):
    held = None
    for tc, chord in changes:
        if t >= tc - 0.02:
            held = chord
    return held


@pytest.mark.parametrize("role", ["bass", "chords", "counter"])
def test_accompany_plays_in_the_left_hands_chord_and_follows_each_change_within_a_beat(rig, role):
    r = rig(mode="accompany", role=role, split=60, bpm=100)
    g = r.conv.grid()
    _, changes, melody = play_with_changes(r, g)
    notes = ours(r)
    assert len(notes) >= 8
    for on, _, p in notes:
        if on < g.time(16.0):  # (the left hand let go there: then the key rules)
            assert p % 12 in TONES[chord_at(changes, on)], (role, on, p)
    for tc, chord in changes[1:]:  # each change: livejam's first note after it is in the new chord, within a beat
        after = [n for n in notes if n[0] >= tc - 0.02]
        assert after and after[0][0] <= tc + g.spb and after[0][2] % 12 in TONES[chord]
    assert r.out.hanging() == {}


def test_the_chords_are_led_with_no_parallel_fifths_or_octaves_against_the_melody(rig):
    r = rig(mode="accompany", role="chords", split=60, bpm=100)
    g = r.conv.grid()
    _, changes, melody = play_with_changes(r, g)
    by_onset: dict[float, list[int]] = {}
    for on, _, p in ours(r):
        by_onset.setdefault(round(on, 6), []).append(p)
    outer, parallels = None, 0
    for on, ps in sorted(by_onset.items()):
        top = max([p for a, b, p in melody if a <= on + 1e-6 < b] + ps)
        now = (min(ps), top)
        parallels += parallel(outer, now)
        outer = now
    assert len(by_onset) >= 8 and parallels == 0


def test_the_left_hand_alone_keeps_the_accompaniment_going_and_its_release_ends_it(rig):
    r = rig(mode="accompany", role="bass", split=60, bpm=100)
    g = r.conv.grid()
    hold(r, C, g.time(4.0) - 0.01)
    r.run(g.time(8.0) - r.clock.now())
    assert len(ours(r)) >= 3  # a bass line under a held chord, no melody at all
    let_go(r, C, g.time(8.0))
    r.run(3 * g.spb)
    assert max(on for on, _, _ in ours(r)) <= g.time(9.0) + 1e-6
    assert r.out.hanging() == {}


def test_the_split_is_learned_from_the_next_key_struck_which_is_not_played(rig):
    r = rig(thru=True)
    r.engine.command("learn_split", True)
    r.run(0)
    r.play("note_on", note=55, velocity=90)
    r.play("note_off", note=55)
    assert r.cfg.split == 55
    assert any(isinstance(e, SettingChanged) and e.name == "split" and e.value == 55 for e in r.said)
    assert not [m for _, m in r.out.messages if getattr(m, "note", None) == 55]  # not played, nor its release
    r.play("note_on", note=55, velocity=90)  # the next strike of it is played as ever
    assert [m for _, m in r.out.messages if getattr(m, "note", None) == 55]


def test_the_start_says_where_the_split_is(rig):
    from livejam.conversation.controls import starting_lines

    assert starting_lines(rig(split=55).engine) == [
        "split at G3: below it your left hand holds the harmony, not part of the call"]
    assert starting_lines(rig().engine) == []
