"""Live encoding: sustain pedal, re-strikes, stray releases; the live path and the
whole-file path must agree."""
from hypothesis import given, settings, strategies as st

from livejam.model import vocab
from livejam.model.encoder import StreamEncoder


def play(events, settle=False):
    """Feed (seconds, kind, channel, a, b) events; return decoded notes."""
    enc = StreamEncoder()
    toks = []
    for t, kind, ch, a, b in events:
        if kind == "on":
            toks += enc.note_on(t, a, b, ch)
        elif kind == "off":
            toks += enc.note_off(t, a, ch)
        else:
            toks += enc.control(t, a, b, ch)
    return vocab.decode(toks + (enc.settle() if settle else [])), enc


def test_pedal_holds_a_released_note_until_it_lifts():
    notes, enc = play([
        (0.0, "on", 0, 60, 90), (0.1, "cc", 0, 64, 127), (0.3, "off", 0, 60, 0),
    ])
    assert enc.held  # pedal still holding: the phrase is not over
    notes, enc = play([
        (0.0, "on", 0, 60, 90), (0.1, "cc", 0, 64, 127), (0.3, "off", 0, 60, 0), (1.2, "cc", 0, 64, 0),
    ])
    assert [(n.start, n.end, n.pitch) for n in notes] == [(0.0, 1.2, 60)]
    assert not enc.held


def test_restrike_under_pedal_ends_the_held_note():
    notes, _ = play([
        (0.0, "cc", 0, 64, 127), (0.0, "on", 0, 60, 90), (0.2, "off", 0, 60, 0),
        (0.5, "on", 0, 60, 90), (0.6, "off", 0, 60, 0), (1.0, "cc", 0, 64, 0),
    ])
    assert [(n.start, n.end) for n in notes] == [(0.0, 0.5), (0.5, 1.0)]


def test_stray_note_off_and_drums_are_ignored():
    notes, enc = play([(0.0, "off", 0, 60, 0), (0.1, "on", 9, 36, 100), (0.2, "off", 9, 36, 0)])
    assert notes == [] and not enc.held


def test_all_notes_off_from_a_keyboard_is_a_release_not_a_panic():
    notes, enc = play([
        (0.0, "on", 0, 60, 90), (0.0, "on", 0, 64, 90), (0.1, "cc", 0, 64, 127),
        (0.5, "cc", 0, 123, 0),
    ])
    assert enc.held  # the pedal still holds them, as a real release would
    notes, enc = play([(0.0, "on", 0, 60, 90), (0.0, "on", 0, 64, 90), (0.5, "cc", 0, 123, 0)])
    assert [(n.end, n.pitch) for n in notes] == [(0.5, 60), (0.5, 64)]


def test_advance_emits_shifts_and_never_goes_back():
    enc = StreamEncoder()
    assert enc.advance(2.5) == [vocab.time_shift(100), vocab.time_shift(100), vocab.time_shift(50)]
    assert enc.advance(1.0) == []


def test_a_key_released_in_the_step_it_started_lasts_one_step():
    notes, enc = play([(0.001, "on", 0, 60, 90), (0.003, "off", 0, 60, 0)])
    assert not enc.held and notes == []  # its end is not heard until time moves on
    toks = enc.settle()
    assert toks == [vocab.time_shift(1), vocab.note_off(60)]
    assert vocab.decode([vocab.velocity(vocab.velocity_bin(90)), vocab.note_on(60)] + toks)[0][:2] == (0.0, 0.01)


def test_two_voices_on_one_pitch_at_once_are_one_key_held_to_the_last_release():
    notes, enc = play([
        (0.0, "on", 0, 60, 90), (0.002, "on", 1, 60, 50), (0.2, "off", 0, 60, 0), (0.6, "off", 1, 60, 0),
    ])
    assert [tuple(n) for n in notes] == [(0.0, 0.6, 60, vocab.BIN_TO_VELOCITY[vocab.velocity_bin(90)])]
    assert enc.merged["unison"] == 1 and enc.merged["restrike"] == 0


def test_a_hand_over_on_one_channel_ends_at_the_last_release():
    # Voice B takes the key before voice A lets go: note-on, then A's note-off.
    notes, enc = play([
        (0.0, "on", 0, 60, 90), (0.5, "on", 0, 60, 90), (0.5, "off", 0, 60, 0), (1.0, "off", 0, 60, 0),
    ])
    assert [(n.start, n.end) for n in notes] == [(0.0, 0.5), (0.5, 1.0)]  # no zero-length note
    assert enc.merged == {"restrike": 1, "handover": 1} and not enc.held


def test_a_restrike_from_another_channel_ends_the_note_and_its_old_release_is_ignored():
    notes, enc = play([
        (0.0, "on", 0, 60, 90), (0.3, "on", 1, 60, 90), (0.5, "off", 1, 60, 0), (0.9, "off", 0, 60, 0),
    ])
    assert [(n.start, n.end) for n in notes] == [(0.0, 0.3), (0.3, 0.5)]


def _gaps():
    # Gaps from none (a chord, a hand-over) through under a step to long rests.
    return st.sampled_from([0.0, 0.0, 0.001, 0.003, 0.012, 0.05, 0.2, 0.7])


@st.composite
def performances(draw, file_order=False):
    """Timed events on one or two channels, a small pitch set so pitches collide,
    keys pressed twice (hand-overs), several events in one 10 ms step, pedal on and
    off, CC123; every key and pedal released at the end. Times keep clear of the
    half-step rounding edge so a file's ticks cannot move them across it.
    file_order: events of two tracks (each channel's keys, the controllers) never
    share a millisecond, where a file could not say which came first."""
    n = draw(st.integers(1, 60))
    t, presses, pedal, events = 0.0, {}, set(), []
    last = [None]

    def tick(gap, track=None):
        nonlocal t
        ms = round((t + gap) * 1000)
        if file_order and events and ms == round(t * 1000) and track != last[0]:
            ms += 1
        ms += ms % 10 == 5  # whole milliseconds, never on a half step
        t, last[0] = ms / 1000, track
        return t

    for _ in range(n):
        ch = draw(st.integers(0, 1))
        pitch = draw(st.sampled_from([60, 62, 64]))
        what = draw(st.sampled_from(["on", "on", "off", "off", "pedal", "cc123"]))
        when = tick(draw(_gaps()), "cc" if what in ("pedal", "cc123") else ch)
        if what == "pedal":
            events.append((when, "cc", ch, 64, 0 if ch in pedal else 127))
            pedal ^= {ch}
        elif what == "cc123":
            events.append((when, "cc", ch, 123, 0))
            presses = {k: v for k, v in presses.items() if k[0] != ch}
        elif what == "off" and presses.get((ch, pitch)):
            events.append((when, "off", ch, pitch, 0))
            presses[(ch, pitch)] -= 1
        else:
            events.append((when, "on", ch, pitch, draw(st.integers(1, 127))))
            presses[(ch, pitch)] = presses.get((ch, pitch), 0) + 1
    for (ch, pitch), k in sorted(presses.items()):
        for _ in range(k):
            events.append((tick(0.01, ch), "off", ch, pitch, 0))
    for ch in sorted(pedal):
        events.append((tick(0.01, "cc"), "cc", ch, 64, 0))
    return events


def rules_on_notes(events):
    """The encoder's rules said another way, on notes: each press is a note lasting
    while its key is held (to the key's last release), lengthened by its channel's
    pedal; then vocab.quantize applies unisons, re-strikes and the one-step minimum."""
    held, notes, pedal_down, under = {}, [], set(), {}  # held: key -> [its notes, presses]
    for t, kind, ch, a, b in events:
        if kind == "on":
            entry = held.setdefault((ch, a), [[], 0])
            entry[0].append(len(notes))
            entry[1] += 1
            notes.append([t, None, a, b])
        elif kind == "off" or (kind == "cc" and a == 123):
            keys = [(ch, a)] if kind == "off" else [k for k in held if k[0] == ch]
            for key in keys:
                entry = held.get(key)
                if entry is None:
                    continue
                entry[1] -= 1
                if kind == "off" and entry[1] > 0:
                    continue  # one press of a key held twice: it still sounds
                for i in entry[0]:
                    if ch in pedal_down:
                        under.setdefault(ch, []).append(i)
                    else:
                        notes[i][1] = t
                del held[key]
        elif a == 64:
            if b >= 64:
                pedal_down.add(ch)
            elif ch in pedal_down:
                pedal_down.discard(ch)
                for i in under.pop(ch, []):
                    notes[i][1] = t
    return vocab.quantize([tuple(n) for n in notes])


@settings(max_examples=500, deadline=None)
@given(performances())
def test_live_encoder_follows_the_rules(events):
    live, enc = play(events, settle=True)
    assert not enc.held
    assert live == rules_on_notes(events)


def test_live_a_key_struck_again_after_a_lost_release_counts_once():
    """One keyboard cannot press a key that is down: the NOTE_OFF was lost on the way
    (a server that dropped a period). Live, striking it again and letting go frees
    it; from a file, two voices keep the hand-over rule (the last release ends it)."""
    live = StreamEncoder(live=True)
    live.note_on(0.0, 60, 80)  # its release never arrives
    live.note_on(1.0, 60, 80)
    assert live.held
    live.note_off(1.2, 60)
    assert not live.held and live.merged["lost release"] == 1
    two_voices = StreamEncoder()
    two_voices.note_on(0.0, 60, 80)
    two_voices.note_on(1.0, 60, 80)
    two_voices.note_off(1.2, 60)
    assert two_voices.held  # the other voice still holds it


def test_release_all_ends_every_held_and_sustained_note_and_ignores_later_releases():
    enc = StreamEncoder(live=True)
    enc.note_on(0.0, 60, 80)
    enc.control(0.1, 64, 127)  # pedal down
    enc.note_on(0.2, 64, 80)
    enc.note_off(0.3, 64)  # sustained by the pedal
    enc.note_on(0.5, 67, 80)
    enc.note_off(0.5, 67)  # released in its first step: pending
    out = enc.release_all(1.0)
    offs = sorted(vocab.describe(t)[1] for t in out if vocab.describe(t)[0] == "NOTE_OFF")
    assert offs == [60, 64, 67]
    assert not enc.held and not enc.pedal_down and not enc.pending
    assert enc.note_off(1.5, 60) == [] and enc.control(1.6, 64, 0) == []  # the hands let go later: nothing more
