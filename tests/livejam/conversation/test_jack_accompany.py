"""Accompany mode through a real JACK server: livejam in its own process with
--mode accompany --role bass --bpm 120, a keyboard client playing a 16-bar
melody and a DAW client recording livejam's output. It plays along during the
melody (not only after), on its beat grid, under the melody, and every note is
balanced at the end (livejam's own recording of what it sent, strictly; what the
DAW heard too, unless the server dropped messages on the way). Bounds are loose where a loaded machine's reader stamps
late; the fake-clock tests (test_accompany.py) hold the exact ones."""
import time

import mido
import numpy as np
import pytest

from livejam.bench.loopback import Loopback
from livejam.midi import system
from livejam.midi.sounding import hanging
from tests.jack import judge_releases

pytestmark = pytest.mark.usefixtures("jack_server")

# 16 bars of quarter notes in C major ("Ode to Joy" twice, then its answer phrase twice)
ODE = [64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 64, 62, 62, 62,
       64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 62, 60, 60, 60]
MELODY = ODE * 2


def test_a_bass_line_plays_along_under_a_16_bar_melody_on_its_beat(api, livejam, tmp_path):
    lj = livejam("--virtual", "--mode", "accompany", "--role", "bass", "--bpm", "120", "--record-dir", str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    spb = 0.5
    try:
        timed = []
        for i, p in enumerate(MELODY):
            timed += [(0.3 + i * spb, mido.Message("note_on", note=p, velocity=90)),
                      (0.3 + (i + 0.9) * spb, mido.Message("note_off", note=p))]
        start = lb.send(mido.Message("control_change", control=1, value=0))  # (a mod wheel: nothing)
        end = lb.perform(timed)
        # All notes off, as a keyboard sends when its player is done: a note-off the
        # server dropped on the way in (a non-real-time server's xrun) cannot hold a key.
        lb.send(mido.Message("control_change", control=123, value=0))
        # Four seconds after the melody, and nothing sounding: its line is over.
        lb.wait_for(lambda: time.perf_counter() > end + 4.0 and not hanging(lb.messages()), 15)
        got = lb.messages()
        ons = np.array([t for t, m in got if m.type == "note_on" and m.velocity > 0])
        pitches = [m.note for t, m in got if m.type == "note_on" and m.velocity > 0]
        during = ons[(ons > start) & (ons < end)]
        assert len(during) >= 0.5 * len(MELODY), (len(during), len(MELODY))  # along with it, not after
        assert max(pitches) <= min(MELODY) - 3  # under the melody
        # On its own beat grid (anchored at its first note; a clash is mended on a sixteenth):
        # most notes within 40 ms of a beat, where notes at random would be one in eight.
        phase = (ons - ons[0]) / spb
        on_beat = np.abs(phase - np.round(phase)) * spb <= 0.04
        assert on_beat.mean() >= 0.6, on_beat.mean()
        # Its line ends after the player's: within a beat as livejam hears it (the fake-clock
        # test holds that); here within three seconds of the last note-off sent, since a
        # loaded machine can hand livejam that note-off a second or more late.
        assert ons.max() <= end + 3.0
    finally:
        lb.close()
    assert lj.stop() == 0
    judge_releases(tmp_path, got)  # every note balanced: what livejam sent, and what the DAW heard


# A left hand's chords below C4, each held four beats, under a melody a note a beat.
LEFT = [((48, 52, 55), {0, 4, 7}), ((48, 53, 57), {5, 9, 0}), ((47, 50, 55), {7, 11, 2}), ((48, 52, 55), {0, 4, 7})]
RIGHT = [76, 79, 77, 76, 77, 81, 79, 77, 74, 79, 77, 74, 72, 76, 79, 72]


def test_with_a_split_the_bass_plays_in_the_left_hands_chords_and_follows_each_change(api, livejam, tmp_path):
    lj = livejam("--virtual", "--mode", "accompany", "--role", "bass", "--bpm", "120", "--split", "C4",
                 "--record-dir", str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    spb = 0.5
    try:
        timed, spans = [], []
        for k, (chord, _) in enumerate(LEFT):
            t0 = 0.3 + 4 * k * spb
            timed += [(t0, mido.Message("note_on", note=p, velocity=70)) for p in chord]
            timed += [(t0 + 4 * spb - 0.03, mido.Message("note_off", note=p)) for p in chord]
            spans.append((t0, t0 + 4 * spb))
        for i, p in enumerate(RIGHT):
            timed += [(0.3 + i * spb, mido.Message("note_on", note=p, velocity=90)),
                      (0.3 + (i + 0.9) * spb, mido.Message("note_off", note=p))]
        start = lb.send(mido.Message("control_change", control=1, value=0))
        end = lb.perform(sorted(timed, key=lambda x: (x[0], x[1].type == "note_on")))
        lb.send(mido.Message("control_change", control=123, value=0))
        lb.wait_for(lambda: time.perf_counter() > end + 3.0 and not hanging(lb.messages()), 15)
        ons = [(t - start, m.note) for t, m in lb.messages() if m.type == "note_on" and m.velocity > 0]
        assert len(ons) >= 10, ons
        assert max(p for _, p in ons) < min(RIGHT)
        slack = 0.25  # a sixteenth for a change to be taken up, and a loaded reader's late stamps
        for (s, e), (_, tones) in zip(spans, LEFT):
            # Inside a chord's span every bass note is its tone...
            inside = [p for t, p in ons if s + slack <= t < e]
            assert inside and all(p % 12 in tones for p in inside), (s, inside)
            # ...and the change to it is followed within a beat.
            assert any(s <= t <= s + spb + slack and p % 12 in tones for t, p in ons), (s, ons)
        got = lb.messages()
    finally:
        lb.close()
    assert lj.stop() == 0
    judge_releases(tmp_path, got)
