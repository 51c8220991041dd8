"""Live encoding: sustain pedal, re-strikes, stray releases; the live path and the
whole-file path must agree."""
import numpy as np
from hypothesis import given, settings, strategies as st

from livejam import vocab
from livejam.encoder import StreamEncoder, fold_sustain


def play(events):
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
    return vocab.decode(toks), enc


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


@st.composite
def performances(draw):
    """Events on distinct 10 ms steps (jittered within the step), one or two
    channels, a small pitch set so pitches collide, pedal on and off; every key
    and pedal released at the end."""
    n = draw(st.integers(1, 60))
    steps = sorted(draw(st.sets(st.integers(0, 3000), min_size=n + 8, max_size=n + 8)))
    jitter = draw(st.lists(st.floats(-0.0049, 0.0049), min_size=len(steps), max_size=len(steps)))
    times = iter(s / 100 + j for s, j in zip(steps, jitter))
    down, pedal, events = set(), set(), []
    for _ in range(n):
        ch = draw(st.integers(0, 1))
        pitch = draw(st.sampled_from([60, 62, 64]))
        what = draw(st.sampled_from(["key", "key", "pedal"]))
        t = next(times)
        if what == "pedal":
            events.append((t, "cc", ch, 64, 0 if ch in pedal else 127))
            pedal ^= {ch}
        elif (ch, pitch) in down:
            events.append((t, "off", ch, pitch, 0))
            down.discard((ch, pitch))
        else:
            events.append((t, "on", ch, pitch, draw(st.integers(1, 127))))
            down.add((ch, pitch))
    for ch, pitch in sorted(down):
        events.append((next(times), "off", ch, pitch, 0))
    for ch in sorted(pedal):
        events.append((next(times), "cc", ch, 64, 0))
    return events


def batch(events):
    """The file path: pair keys into notes, fold the pedal, quantize."""
    open_, notes, chans, pedal = {}, [], [], {0: [], 1: []}
    for t, kind, ch, a, b in events:
        if kind == "on":
            open_[(ch, a)] = (t, b)
        elif kind == "off":
            s, v = open_.pop((ch, a))
            notes.append((s, t, a, v))
            chans.append(ch)
        else:
            pedal[ch].append((t, 1 if b >= 64 else 0))
    folded = fold_sustain(np.array(notes).reshape(-1, 4), np.array(chans), {k: np.array(v) for k, v in pedal.items()})
    return vocab.quantize(folded.tolist())


@settings(max_examples=400, deadline=None)
@given(performances())
def test_live_and_file_paths_agree(events):
    live, enc = play(events)
    assert not enc.held
    assert sorted(live) == sorted(batch(events))
