"""A Standard MIDI File that grows by appending: each flush adds one track chunk
per named part (what was played since the last flush), then bumps the header's
track count. The cost of a flush is what is new, never the session so far; what
is on disk is a complete file after every flush (a chunk whose count was not yet
bumped is ignored by readers), so a crash loses at most the phrase in progress.

Readers merge the chunks of one name (midi/files.py read_tracks), so the parts
read as two tracks; `compact` rewrites the file as exactly those at the end of a
session, once, for a DAW that shows every chunk as a track of its own."""
from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import mido
from mido.midifiles.midifiles import write_track

from ..midi.files import TEMPO, TICKS_PER_BEAT, TICKS_PER_SECOND, read_tracks, write_messages

NTRKS_OFFSET = 10  # "MThd", length (4), format (2), then the track count (2)
# The count is 16 bits; mido (our reader, and `bin/train personal`'s) reads it signed,
# so a file of more chunks reads as none: compacted before it gets there.
MAX_TRACKS = 32767


class AppendingMidiFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with open(self.path, "xb") as f:  # never over another session's file
            f.write(_empty())
        self.tracks, self.size = 1, self.path.stat().st_size

    def append(self, parts: list[tuple[str, list[tuple[float, mido.Message]]]]) -> int:
        """Add a chunk per (name, [(seconds from the start, message)]) that has
        events. Returns the bytes written. On an OSError nothing counts as written
        (the caller keeps the events and tries again)."""
        chunks = [_chunk(_track(name, events)) for name, events in parts if events]
        if not chunks:
            return 0
        if self.tracks + len(chunks) > MAX_TRACKS:
            self.compact()
        data = b"".join(chunks)
        with open(self.path, "r+b") as f:
            f.truncate(self.size)  # a chunk half-written by a failed try before this one
            f.seek(self.size)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the chunks are on disk before the count says they exist
            f.seek(NTRKS_OFFSET)
            f.write(struct.pack(">h", self.tracks + len(chunks)))
        self.tracks += len(chunks)
        self.size += len(data)
        return len(data)

    def compact(self) -> None:
        """Rewrite as one track per name (through a temporary file and a rename)."""
        parts = [(name, events) for name, events in read_tracks(self.path).items() if events]
        if parts:
            write_messages(self.path, parts)  # the tempo goes in the first part's track
        else:  # nothing recorded in all those chunks: the empty file it began as
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(_empty())
            tmp.replace(self.path)
        self.tracks = max(1, len(parts))
        self.size = self.path.stat().st_size


def _empty() -> bytes:
    """A MIDI file of its tempo alone."""
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=TEMPO, time=0)])
    return struct.pack(">4sLhhh", b"MThd", 6, 1, 1, TICKS_PER_BEAT) + _chunk(conductor)


def _track(name: str, events: list[tuple[float, mido.Message]]) -> mido.MidiTrack:
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    for t, msg in sorted(events, key=lambda e: e[0]):  # stable: same-time order kept
        tick = round(t * TICKS_PER_SECOND)  # from the file's start: each chunk starts at tick 0
        track.append(msg.copy(time=tick - now))
        now = tick
    return track


def _chunk(track: mido.MidiTrack) -> bytes:
    buf = io.BytesIO()
    write_track(buf, track)
    return buf.getvalue()
