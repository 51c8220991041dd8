"""The chord the left hand holds (harmony/chords.py): named by template, a third
filled in where none is held, and what counts as held (keys, the pedal, the grace
after a detached change)."""
import mido
import pytest

from livejam.harmony.chords import HOLD_GRACE, LeftHand, chord_of

A_MINOR = frozenset({9, 11, 0, 2, 4, 5, 7})


@pytest.mark.parametrize("pitches, name, tones", [
    ((48, 52, 55), "C", {0, 4, 7}),
    ((52, 55, 60), "C/E", {0, 4, 7}),  # an inversion: the root is not the bass
    ((48, 52, 55, 58), "C7", {0, 4, 7, 10}),
    ((50, 53, 57, 60), "Dm7", {2, 5, 9, 0}),
    ((47, 50, 53), "Bdim", {11, 2, 5}),
    ((48, 53, 55), "Csus4", {0, 5, 7}),  # a held suspension keeps its fourth, takes no third
    ((48, 55), "C", {0, 4, 7}),  # an open fifth: the major third by default
    ((43,), "G", {7, 11, 2}),  # one bass note: its triad
])
def test_chords_are_named_and_their_tones_filled_in(pitches, name, tones):
    c = chord_of(pitches)
    assert (c.name, set(c.tones)) == (name, tones)


def test_a_chord_without_its_third_takes_the_keys():
    c = chord_of((45, 52), A_MINOR)
    assert (c.name, set(c.tones)) == ("Am", {9, 0, 4})


def on(p):
    return mido.Message("note_on", note=p, velocity=80)


def off(p):
    return mido.Message("note_off", note=p)


def pedal(down):
    return mido.Message("control_change", control=64, value=127 if down else 0)


def test_only_keys_below_the_split_are_the_left_hands_and_their_releases_follow_them():
    left = LeftHand()
    assert left.takes(on(48), 60, 0.0) and not left.takes(on(64), 60, 0.0)
    assert not left.takes(on(40), 0, 0.0)  # no split: nothing is the left hand's
    # The split moved above a key the left hand holds: its release is still the left hand's.
    assert left.takes(off(48), 40, 0.5) and not left.down
    assert not left.takes(off(64), 60, 0.5)  # the right hand's release


def test_held_means_the_keys_the_pedal_and_a_moment_after_a_detached_change():
    left = LeftHand()
    for p in (48, 52, 55):
        left.takes(on(p), 60, 1.0)
    assert left.chord(1.0).name == "C"
    for i, p in enumerate((48, 52, 55)):  # let go one by one: the chord, not its last key, lingers
        left.takes(off(p), 60, 1.5 + i * 0.01)
    assert left.chord(1.53).name == "C"
    assert left.chord(1.52 + HOLD_GRACE + 0.01) is None  # then no harmony: the key rules
    left.takes(pedal(True), 60, 2.0)
    assert not left.takes(pedal(True), 60, 2.0)  # the pedal is the call's too
    for p in (43, 47, 50):
        left.takes(on(p), 60, 2.1)
    for p in (43, 47, 50):
        left.takes(off(p), 60, 2.2)
    assert left.chord(5.0).name == "G"  # rings under the pedal
    left.takes(on(45), 60, 5.1)  # a new gesture under the same pedal: the old chord is gone
    assert left.holding(5.1) == {45}
    left.takes(off(45), 60, 5.2)
    left.takes(pedal(False), 60, 5.3)
    assert left.chord(5.3 + HOLD_GRACE + 0.01) is None
    left.takes(on(48), 60, 6.0)
    left.clear()
    assert left.chord(6.0) is None and not left.down
