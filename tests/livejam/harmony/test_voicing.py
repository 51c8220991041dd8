"""Voice leading (harmony/voicing.py): the least motion into each chord, no
parallel fifths or octaves between the outer voices."""
import numpy as np

from livejam.harmony.voicing import motion, moves_parallel, outer, parallel, parallel_free, voice_lead

C, F, G, AM = frozenset({0, 4, 7}), frozenset({5, 9, 0}), frozenset({7, 11, 2}), frozenset({9, 0, 4})


def test_parallel_fifths_and_octaves_are_found_and_other_motion_is_not():
    assert parallel((48, 55), (50, 57))  # fifth to fifth, both up
    assert parallel((48, 60), (47, 59))  # octave to octave, both down
    assert not parallel((48, 55), (48, 55))  # held: no motion
    assert not parallel((48, 55), (50, 55))  # the top voice stays: oblique
    assert not parallel((48, 55), (43, 62))  # contrary motion
    assert not parallel((48, 52), (50, 54))  # parallel thirds are the good kind
    assert not parallel(None, (48, 55))


def test_each_chord_is_voiced_with_the_least_motion_and_every_tone():
    prev, outer, moves = None, None, []
    for chord, root in ((C, 0), (F, 5), (G, 7), (C, 0), (AM, 9), (F, 5), (G, 7), (C, 0)):
        v = voice_lead(chord, root, 36, 69, prev, outer, [76])
        assert {p % 12 for p in v} == set(chord) and 3 <= len(v) <= 4
        assert all(b - a >= 3 for a, b in zip(v, v[1:]))
        if prev:
            moves.append(motion(prev, tuple(v)))
            assert not parallel((prev[0], prev[-1]), (v[0], v[-1]))
            assert not parallel(outer, (v[0], 76))
        prev, outer = v, (v[0], 76)
    assert np.mean(moves) <= 8  # semitones in all per change: near voices move by steps


def test_a_voicing_avoids_a_parallel_with_the_melody_above_it():
    # C major with its bass on C3 under a G4 melody (a fifth), then D minor under A4:
    # the root-position D a step up would make fifths in parallel. It takes another bass.
    dm = frozenset({2, 5, 9})
    v = voice_lead(dm, 2, 36, 66, [48, 52, 55], (48, 67), [69])
    assert {p % 12 for p in v} == dm and v[0] != 50 and not parallel((48, 67), (v[0], 69))


def test_nothing_fits_and_it_says_so_with_an_empty_voicing():
    assert voice_lead(C, 0, 60, 62, None, None) == []


def test_outer_voices_are_livejams_only_where_it_plays_the_lowest_or_highest():
    assert outer([48, 76], [55]) is None  # inside the player's hands: an inner voice
    assert outer([48, 76], [43]) == (43, 76) and outer([48, 76], [79]) == (48, 79)
    assert moves_parallel((48, 67), [50], [69])  # a fifth (and an octave) to a fifth, both up
    assert not moves_parallel((48, 67), [50], [71])  # to a sixth
    assert not moves_parallel((48, 67), [50, 74], [69])  # livejam's note inside: not its motion



def test_the_mask_over_many_candidates_says_what_one_note_at_a_time_says():
    rng = np.random.default_rng(0)
    for _ in range(300):
        before = tuple(sorted(rng.integers(30, 90, 2))) if rng.random() < 0.9 else None
        others = list(rng.integers(30, 90, rng.integers(0, 4)))
        cands = np.arange(21, 109)
        assert parallel_free(before, others, cands).tolist() == [not moves_parallel(before, others, (int(p),))
                                                                for p in cands]
