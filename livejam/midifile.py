"""Notes <-> Standard MIDI Files, with mido (the runtime's only MIDI file code)."""
from __future__ import annotations

from pathlib import Path

import mido

TICKS_PER_BEAT = 480
TEMPO = 500_000  # 120 bpm: 960 ticks per second
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 / TEMPO


def write_tracks(path: Path, tracks: list[tuple[str, list]], channels: list[int] | None = None) -> None:
    """One track per (name, notes); notes are (start s, end s, pitch, velocity).
    Written to a temporary file first and renamed, so a reader never sees half a file."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    for i, (name, notes) in enumerate(tracks):
        ch = channels[i] if channels else 0
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
        if i == 0:
            track.append(mido.MetaMessage("set_tempo", tempo=TEMPO, time=0))
        events = []
        for start, end, pitch, vel in notes:
            events.append((round(start * TICKS_PER_SECOND), 1, int(pitch), int(vel)))
            events.append((round(end * TICKS_PER_SECOND), 0, int(pitch), 0))
        events.sort()  # at one tick, offs before ons: a re-struck key sounds again
        now = 0
        for tick, on, pitch, vel in events:
            kind = "note_on" if on else "note_off"
            track.append(mido.Message(kind, channel=ch, note=pitch, velocity=vel, time=tick - now))
            now = tick
        mid.tracks.append(track)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    mid.save(str(tmp))
    tmp.replace(path)
