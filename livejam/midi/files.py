"""Notes <-> Standard MIDI Files, with mido (the runtime's only MIDI file code)."""
from __future__ import annotations

import bisect
from pathlib import Path

import mido

TICKS_PER_BEAT = 480
TEMPO = 500_000  # 120 bpm: 960 ticks per second
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 / TEMPO


# What a file's reader keeps: notes, controllers, and the player's bends and pressure
# (a recording compacted at the session's end keeps what was played).
PLAYED = ("note_on", "note_off", "control_change", "pitchwheel", "aftertouch", "polytouch")


class MidiFileError(Exception):
    """A file mido cannot read as MIDI; the message is mido's reason, one line."""


def read_tracks(path: Path) -> dict[str, list[tuple[float, mido.Message]]]:
    """Each track's notes and controllers, [(seconds, message)] in time order, by
    track name (unnamed: "track N"), the file's tempo map followed whichever track
    holds it."""
    try:
        mid = mido.MidiFile(str(path), clip=True)  # data bytes over 127 clipped, not refused
        seconds = _clock(mid)
        out: dict[str, list] = {}
        for i, track in enumerate(mid.tracks):
            name = next((m.name for m in track if m.type == "track_name"), "") or f"track {i}"
            out.setdefault(name, []).extend((seconds(tick), msg.copy(time=0)) for tick, msg in _ticked(track)
                                            if not msg.is_meta and msg.type in PLAYED)
    except Exception as exc:  # noqa: BLE001 - a hostile file can break the parser in any way (even 0 ticks per beat)
        raise MidiFileError(str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__) from None
    return out


def read_messages(path: Path) -> list[tuple[float, mido.Message]]:
    """The notes and controllers of a MIDI file as one performance: every track
    merged, [(seconds, message)] in time order (at one time, in track order)."""
    return sorted((x for msgs in read_tracks(path).values() for x in msgs), key=lambda x: x[0])


def _ticked(track):
    tick = 0
    for msg in track:
        tick += msg.time
        yield tick, msg


def _clock(mid: mido.MidiFile):
    """Ticks -> seconds by the file's tempo map (its set_tempo events, in any track)."""
    changes = sorted((tick, msg.tempo) for track in mid.tracks for tick, msg in _ticked(track) if msg.type == "set_tempo")
    points, sec, last_tick, tempo = [(0, 0.0, TEMPO)], 0.0, 0, TEMPO
    for tick, new in changes:
        sec += mido.tick2second(tick - last_tick, mid.ticks_per_beat, tempo)
        last_tick, tempo = tick, new
        points.append((tick, sec, tempo))
    ticks = [p[0] for p in points]

    def seconds(tick: int) -> float:
        t0, s0, tp = points[bisect.bisect_right(ticks, tick) - 1]
        return s0 + mido.tick2second(tick - t0, mid.ticks_per_beat, tp)

    return seconds


def write_tracks(path: Path, tracks: list[tuple[str, list]], channels: list[int] | None = None) -> None:
    """One track per (name, notes); notes are (start s, end s, pitch, velocity)."""
    timed = []
    for i, (name, notes) in enumerate(tracks):
        ch = channels[i] if channels else 0
        events = []
        for start, end, pitch, vel in notes:
            events.append((end, 0, int(pitch), 0))
            events.append((start, 1, int(pitch), int(vel)))
        events.sort()  # at one time, offs before ons: a re-struck key sounds again
        timed.append((name, [(t, mido.Message("note_on" if on else "note_off", channel=ch, note=p, velocity=v))
                             for t, on, p, v in events]))
    write_messages(path, timed)


def write_messages(path: Path, tracks: list[tuple[str, list]]) -> None:
    """One track per (name, [(seconds, mido message)]), in time order. Written to a
    temporary file first and renamed, so a reader never sees half a file."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    for i, (name, events) in enumerate(tracks):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
        if i == 0:
            track.append(mido.MetaMessage("set_tempo", tempo=TEMPO, time=0))
        now = 0
        for t, msg in sorted(events, key=lambda e: e[0]):  # stable: same-time order kept
            tick = round(t * TICKS_PER_SECOND)
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    mid.save(str(tmp))
    tmp.replace(path)
