"""A file that ends with the sustain pedal still down keeps its last notes: they
end at the file's last release, as Magenta's note_seq ends them, never vanish
(ingest for training and `respond` read files this way)."""
import mido

from livejam.midi.files import read_messages
from livejam.model.encoder import notes_from_messages


def write(path, events, end):
    """events: (seconds, message) at 120 BPM, 480 ticks a beat; end of track at `end`."""
    mid = mido.MidiFile(ticks_per_beat=480)
    track, now = mido.MidiTrack(), 0
    for t, msg in sorted(events, key=lambda e: e[0]):
        tick = round(t * 960)
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=round(end * 960) - now))
    mid.tracks.append(track)
    mid.save(str(path))


def test_notes_sustained_at_the_end_of_a_file_end_at_the_last_release(tmp_path):
    on = lambda p: mido.Message("note_on", note=p, velocity=80)  # noqa: E731
    off = lambda p: mido.Message("note_off", note=p)  # noqa: E731
    path = tmp_path / "pedal.mid"
    write(path, [(2.95, on(60)), (3.0, mido.Message("control_change", control=64, value=127)),
                 (3.05, off(60)), (3.1, on(64)), (3.2, off(64)), (3.5, on(67)), (4.0, off(67))], end=5.0)
    notes, _ = notes_from_messages(read_messages(path))
    got = [(n.pitch, round(n.start, 2), round(n.end, 2)) for n in notes]
    assert got == [(60, 2.95, 4.0), (64, 3.1, 4.0), (67, 3.5, 4.0)]
