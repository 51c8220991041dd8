"""Shared fixtures: a tiny MIDI corpus written by the tests themselves (no downloads)."""
from __future__ import annotations

import random
from pathlib import Path

import mido
import pytest

from tests.jack import api, jack_server, livejam, pipewire  # noqa: F401  (fixtures: the JACK server, livejam on it, PipeWire)

SCALE = [0, 2, 4, 5, 7, 9, 11]


def write_melody(path: Path, seed: int, notes: int = 48, pedal: bool = False) -> None:
    """A random walk in C major at 120 bpm with a few chords, as a type-1 file."""
    rnd = random.Random(seed)
    mid = mido.MidiFile(ticks_per_beat=480)
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0)])
    track = mido.MidiTrack()
    degree = rnd.randrange(7)
    if pedal:
        track.append(mido.Message("control_change", control=64, value=127, time=0))
    for i in range(notes):
        degree = max(0, min(13, degree + rnd.choice([-2, -1, -1, 1, 1, 2])))
        pitch = 60 + 12 * (degree // 7) + SCALE[degree % 7]
        chord = [pitch, pitch - 12] if i % 8 == 0 else [pitch]
        dur = rnd.choice([240, 480])
        for p in chord:
            track.append(mido.Message("note_on", note=p, velocity=rnd.randint(50, 100), time=0))
        for j, p in enumerate(chord):
            track.append(mido.Message("note_off", note=p, velocity=0, time=dur if j == 0 else 0))
    if pedal:
        track.append(mido.Message("control_change", control=64, value=0, time=480))
    mid.tracks += [meta, track]
    mid.save(str(path))


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny_corpus")
    (root / "sub").mkdir()
    for i in range(40):
        write_melody(root / ("sub" if i % 2 else "") / f"piece{i:02d}.mid", seed=i, pedal=(i % 5 == 0))
    return root


@pytest.fixture(autouse=True)
def _own_settings_file(tmp_path, monkeypatch):
    """Never read or write the developer's real livejam settings."""
    monkeypatch.setenv("LIVEJAM_SETTINGS", str(tmp_path / "settings.toml"))


@pytest.fixture(autouse=True)
def _no_hang_on_a_fake_midi_system():
    """A test on a fake MIDI system (tests/midi_systems.py) fails if livejam closed an
    input while its callback was in flight: on ALSA, CoreMIDI and WinMM that hangs."""
    from tests import midi_systems

    midi_systems.installed.clear()
    yield
    hangs = [h for g in midi_systems.installed for h in g.hangs]
    midi_systems.installed.clear()
    assert not hangs, hangs
