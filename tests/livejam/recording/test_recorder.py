"""Session recordings: appended after each phrase, held notes closed, two tracks at the end."""
import mido

from livejam.timing.wallclock import FakeClock
from livejam.midi.files import read_tracks
from livejam.recording.recorder import SessionRecorder


def test_flush_writes_both_tracks_and_close_releases_held_keys(tmp_path):
    clock = FakeClock(0.0)
    r = SessionRecorder(tmp_path, clock)
    r.player(mido.Message("note_on", note=60, velocity=80), 0.5)
    r.player(mido.Message("note_off", note=60), 1.0)
    r.answer(mido.Message("note_on", note=67, velocity=70), 1.8)
    r.answer(mido.Message("note_off", note=67), 2.3)
    path = r.flush()
    parts = read_tracks(path)
    assert list(parts) == ["track 0", "player", "livejam"]  # the tempo chunk, then what was played
    assert sum(1 for _, m in parts["livejam"] if m.type == "note_on") == 1
    assert r.flush() is None  # nothing new
    r.player(mido.Message("note_on", note=62, velocity=80), 3.0)  # still down when we quit
    clock.t = 4.0
    mid = mido.MidiFile(str(r.close()))
    assert [t.name for t in mid.tracks] == ["player", "livejam"]  # compacted at the end
    assert not list(tmp_path.glob("*.tmp"))  # through a temporary file, then renamed
    msgs = [m for m in mid.tracks[0] if m.type in ("note_on", "note_off")]
    assert msgs[-1].type == "note_off" and msgs[-1].note == 62
    total = sum(m.time for m in mid.tracks[0])
    assert abs(total / 960 - 4.0) < 0.01


def test_unwritable_folder_is_one_clear_line(tmp_path):
    import pytest

    from livejam.errors import LivejamError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LivejamError, match="--record-dir"):
        SessionRecorder(blocker / "sub", FakeClock())


def test_the_file_is_complete_after_every_write_even_with_a_chunk_cut_off_by_a_crash(tmp_path):
    clock = FakeClock(0.0)
    r = SessionRecorder(tmp_path, clock)
    for i in range(3):  # three phrases, each written as it ends
        r.player(mido.Message("note_on", note=60 + i, velocity=80), i)
        r.player(mido.Message("note_off", note=60 + i), i + 0.5)
        r.answer(mido.Message("note_on", note=70 + i, velocity=80), i + 0.6)
        r.answer(mido.Message("note_off", note=70 + i), i + 0.9)
        size = r.path.stat().st_size
        r.flush()
        assert r.path.stat().st_size - size == r.written  # appended: the earlier phrases are not written again
    with open(r.path, "ab") as f:
        f.write(b"MTrk\x00\x00\x01\x00\x00\x90")  # livejam killed in the middle of the next write
    parts = read_tracks(r.path)  # what a crash leaves is read as it was before that write
    assert [m.note for _, m in parts["player"] if m.type == "note_on"] == [60, 61, 62]
    assert [round(t, 2) for t, m in parts["livejam"] if m.type == "note_on"] == [0.6, 1.6, 2.6]


def test_at_32767_chunks_the_file_is_compacted_and_still_reads(tmp_path):
    """A long-running installation: the count of appended chunks reaches what a
    signed 16-bit number holds, as mido reads it (the writer thread used to die
    raising at 32,768, and mido would have read such a file as empty)."""
    import struct

    from livejam.recording.appending import MAX_TRACKS, NTRKS_OFFSET, AppendingMidiFile

    f = AppendingMidiFile(tmp_path / "long.mid")
    empty = b"MTrk" + struct.pack(">L", 4) + b"\x00\xff\x2f\x00"  # a chunk as many phrases' writes leave
    with open(f.path, "r+b") as raw:  # as after 32,766 appended chunks
        raw.seek(0, 2)
        raw.write(empty * (MAX_TRACKS - 1))
        raw.seek(NTRKS_OFFSET)
        raw.write(struct.pack(">h", MAX_TRACKS))
    f.tracks, f.size = MAX_TRACKS, f.path.stat().st_size
    note = [(0.0, mido.Message("note_on", note=60, velocity=80)), (0.5, mido.Message("note_off", note=60))]
    assert f.append([("player", note)]) > 0
    raw = (tmp_path / "long.mid").read_bytes()
    assert 0 < struct.unpack(">h", raw[NTRKS_OFFSET:NTRKS_OFFSET + 2])[0] <= 3  # compacted, then appended
    assert [m.note for _, m in read_tracks(tmp_path / "long.mid")["player"] if m.type == "note_on"] == [60]


def test_a_close_that_gives_up_on_a_slow_writer_appends_after_it_not_beside_it(tmp_path):
    import threading

    clock = FakeClock(0.0)
    rec = SessionRecorder(tmp_path, clock)
    inside, let_go, overlaps = threading.Event(), threading.Event(), []
    real = rec.file.append

    def slow_append(parts):
        overlaps.append(inside.is_set())
        inside.set()
        let_go.wait(5)
        try:
            return real(parts)
        finally:
            inside.clear()

    rec.file.append = slow_append
    rec.player(mido.Message("note_on", note=60, velocity=80), 0.1)
    writer = threading.Thread(target=rec.flush)  # the writer thread, stuck on a slow disk
    writer.start()
    assert inside.wait(5)
    rec.player(mido.Message("note_on", note=64, velocity=80), 0.2)
    closer = threading.Thread(target=rec.flush)  # the close's own flush, after its join gave up
    closer.start()
    let_go.set()
    writer.join(5), closer.join(5)
    assert overlaps == [False, False]  # never two appends at once
    notes = [m.note for _, m in read_tracks(rec.path)["player"] if m.type == "note_on"]
    assert notes == [60, 64]
