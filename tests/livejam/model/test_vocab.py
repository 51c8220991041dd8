"""The vocabulary: table layout, round trips, time shifts (property tests)."""
from hypothesis import given, settings, strategies as st

from livejam.model import vocab
from livejam.model.vocab import Note

note_st = st.builds(
    lambda start, length, pitch, vel: (start, start + length, pitch, vel),
    st.floats(0, 20, allow_nan=False),
    st.floats(0, 5, allow_nan=False),
    st.integers(0, 127),
    st.integers(1, 127),
)


def test_table_is_388_tokens_in_order():
    assert vocab.VOCAB_SIZE == 388
    assert vocab.describe(vocab.note_on(60)) == ("NOTE_ON", 60)
    assert vocab.describe(vocab.note_off(0)) == ("NOTE_OFF", 0)
    assert vocab.describe(vocab.time_shift(1)) == ("TIME_SHIFT", 1)
    assert vocab.describe(vocab.time_shift(100)) == ("TIME_SHIFT", 100)
    assert vocab.describe(vocab.velocity(31)) == ("VELOCITY", 31)
    assert vocab.velocity(31) == 387


def test_velocity_bins_cover_1_to_127_and_decode_into_themselves():
    bins = [vocab.velocity_bin(v) for v in range(1, 128)]
    assert sorted(set(bins)) == list(range(32))
    assert bins == sorted(bins)
    for b in range(32):
        assert vocab.velocity_bin(vocab.BIN_TO_VELOCITY[b]) == b


def test_simple_phrase_tokens():
    toks = vocab.encode([(0.0, 0.5, 60, 100), (0.5, 1.0, 64, 100)])
    names = [vocab.describe(int(t)) for t in toks]
    assert names == [
        ("VELOCITY", vocab.velocity_bin(100)),
        ("NOTE_ON", 60),
        ("TIME_SHIFT", 50),
        ("NOTE_OFF", 60),
        ("NOTE_ON", 64),
        ("TIME_SHIFT", 50),
        ("NOTE_OFF", 64),
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(note_st, max_size=40))
def test_round_trip_equals_quantized_input(notes):
    assert vocab.decode(vocab.encode(notes)) == vocab.quantize(notes)


@settings(max_examples=200, deadline=None)
@given(st.lists(note_st, max_size=40))
def test_quantized_notes_are_on_grid_and_never_overlap_on_one_pitch(notes):
    q = vocab.quantize(notes)
    last_end = {}
    for n in q:
        assert n.end > n.start
        assert abs(n.start * 100 - round(n.start * 100)) < 1e-9
        assert vocab.velocity_bin(n.velocity) == vocab.velocity_bin(n.velocity)
        assert n.start >= last_end.get(n.pitch, 0)
        last_end[n.pitch] = n.end


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, vocab.VOCAB_SIZE - 1), max_size=200))
def test_any_token_stream_decodes_with_every_note_on_closed(tokens):
    dec = vocab.StreamDecoder()
    events = [e for t in tokens for e in dec.feed(t)] + dec.release_all()
    ons = [e for e in events if e[0] == "on"]
    offs = [e for e in events if e[0] == "off"]
    assert len(ons) == len(offs)
    sounding = set()
    for what, pitch, _, _ in events:
        if what == "on":
            assert pitch not in sounding
            sounding.add(pitch)
        else:
            sounding.remove(pitch)
    assert not sounding
    assert all(n.end > n.start for n in vocab.decode(tokens))  # no zero-length notes, whatever the tokens


def test_a_note_on_and_off_in_one_step_decodes_to_nothing():
    toks = [vocab.note_on(60), vocab.note_off(60), vocab.note_on(62), vocab.note_on(62), vocab.time_shift(5)]
    assert [(n.start, n.end, n.pitch) for n in vocab.decode(toks)] == [(0.0, 0.05, 62)]


@given(st.integers(101, 2000))
def test_gaps_over_one_second_become_several_shifts(steps):
    toks = vocab.encode([(0, 0.01, 60, 64), (steps / 100, steps / 100 + 0.01, 62, 64)])
    shifts = [v for k, v in map(vocab.describe, toks) if k == "TIME_SHIFT"]
    assert len(shifts) >= 2
    assert all(s <= 100 for s in shifts)
    # 1 step to the first NOTE_OFF, steps - 1 to the next NOTE_ON, 1 to its NOTE_OFF.
    assert sum(shifts) == steps + 1


def test_restrike_ends_the_previous_note():
    q = vocab.quantize([(0, 1.0, 60, 80), (0.5, 1.5, 60, 80)])
    assert [(n.start, n.end) for n in q] == [(0.0, 0.5), (0.5, 1.5)]
    kinds = [vocab.describe(int(t)) for t in vocab.encode(q)]
    i = kinds.index(("NOTE_OFF", 60))
    assert kinds[i + 1] == ("NOTE_ON", 60)


def test_out_of_range_token_says_so():
    import pytest

    with pytest.raises(ValueError, match="outside"):
        vocab.describe(388)


def test_note_type_is_comparable_to_tuples():
    assert Note(0.0, 1.0, 60, 64) == (0.0, 1.0, 60, 64)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(note_st, max_size=15), max_size=6))
def test_encoding_many_pieces_at_once_equals_one_by_one(pieces):
    import numpy as np

    together = vocab.encode_many([np.array(p, dtype=float).reshape(-1, 4) for p in pieces])
    assert len(together) == len(pieces)
    for p, t in zip(pieces, together):
        assert t.tolist() == vocab.encode(p).tolist()
