"""Session recordings: two tracks, flushed whole after each phrase, held notes closed."""
import mido

from livejam.timing.wallclock import FakeClock
from livejam.recording.recorder import SessionRecorder


def test_flush_writes_both_tracks_and_close_releases_held_keys(tmp_path):
    clock = FakeClock(0.0)
    r = SessionRecorder(tmp_path, clock)
    r.player(mido.Message("note_on", note=60, velocity=80), 0.5)
    r.player(mido.Message("note_off", note=60), 1.0)
    r.answer(mido.Message("note_on", note=67, velocity=70), 1.8)
    r.answer(mido.Message("note_off", note=67), 2.3)
    path = r.flush()
    mid = mido.MidiFile(str(path))
    assert [t.name for t in mid.tracks] == ["player", "livejam"]
    assert sum(1 for m in mid.tracks[1] if m.type == "note_on") == 1
    assert not list(tmp_path.glob("*.tmp"))  # written through a temporary file, then renamed
    assert r.flush() is None  # nothing new
    r.player(mido.Message("note_on", note=62, velocity=80), 3.0)  # still down when we quit
    clock.t = 4.0
    mid = mido.MidiFile(str(r.close()))
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
