"""Recordings: listed with date, length and notes; exported whole or player-only;
deleted only when confirmed; a corrupt or half-written one named, never fatal."""
import mido
import pytest

from livejam.app import cli
from livejam.recording import recordings
from livejam.timing.wallclock import FakeClock
from livejam.errors import LivejamError
from livejam.recording.recorder import SessionRecorder


def record(folder, clock, notes, answers):
    rec = SessionRecorder(folder, clock)
    for i, p in enumerate(notes):
        rec.player(mido.Message("note_on", note=p, velocity=80), clock.now() + i * 0.5)
        rec.player(mido.Message("note_off", note=p), clock.now() + i * 0.5 + 0.4)
    for i, p in enumerate(answers):
        rec.answer(mido.Message("note_on", note=p, velocity=70), clock.now() + 3 + i * 0.25)
        rec.answer(mido.Message("note_off", note=p), clock.now() + 3.2 + i * 0.25)
    rec.close()
    return rec.path


def test_sessions_are_listed_exported_and_deleted(tmp_path, capsys, monkeypatch):
    clock = FakeClock(100.0)
    first = record(tmp_path, clock, [60, 62, 64], [67, 65, 64, 62])
    clock.advance(1.0)
    second = record(tmp_path, clock, [72, 71], [])
    (tmp_path / "livejam-20261128-120000.mid.tmp").write_bytes(b"MThd")  # a save cut short
    (tmp_path / "broken.mid").write_bytes(b"MThd\x00\x00")
    recs = {r.name: r for r in recordings.list_recordings(tmp_path)}
    a = recs[first.stem]
    assert (a.played, a.answered) == (3, 4) and abs(a.seconds - 3.95) < 0.01 and not a.problem
    assert recs[second.stem].played == 2
    assert "half-written" in recs["livejam-20261128-120000.mid.tmp"].problem
    assert recs["broken"].problem
    cli.main(["recordings", "--record-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "2 sessions, 5 notes played" in out and "half-written" in out

    cli.main(["recordings", "export", first.stem, str(tmp_path / "mine.mid"), "--record-dir", str(tmp_path),
              "--player-only"])
    only = recordings.tracks(tmp_path / "mine.mid")
    assert list(only) == ["player"] and sum(m.type == "note_on" for _, m in only["player"]) == 3

    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(SystemExit):
        cli.main(["recordings", "delete", second.stem, "--record-dir", str(tmp_path)])  # not confirmed
    assert second.exists()
    assert "--yes" in capsys.readouterr().err
    cli.main(["recordings", "delete", second.stem, "--record-dir", str(tmp_path), "--yes"])
    assert not second.exists() and first.exists()
    with pytest.raises(LivejamError, match="livejam recordings"):
        recordings.find("nothing-like-it", tmp_path)


def test_a_midi_file_from_elsewhere_is_all_player(tmp_path):
    mid = mido.MidiFile(ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=1_000_000, time=0),
                                      mido.Message("note_on", note=60, velocity=90, time=0),
                                      mido.Message("note_off", note=60, time=960)]))
    mid.save(str(tmp_path / "take.mid"))
    got = recordings.tracks(tmp_path / "take.mid")
    assert list(got) == ["player"] and [round(t, 3) for t, _ in got["player"]] == [0.0, 2.0]  # 60 bpm
