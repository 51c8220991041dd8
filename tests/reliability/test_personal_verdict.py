"""The personal-model verdict ("better than the base", which decides whether
livejam offers the model) is measured on sessions used neither for training nor
for the early stop; too little playing to judge on is a clear refusal; a file
`respond` wrote is the player's call only; a changed learning rate is a new run."""
import mido
import pytest

from livejam.recording import recordings
from livejam.timing.wallclock import FakeClock
from tests.livejam.conftest import tiny_model  # noqa: F401  (fixture)
from tests.training.test_personal import session
from training.personal import choose_holdout, gather, personal


def sessions(notes):
    return [{"name": f"s{i}", "notes": n, "started": f"2026-12-{i + 1:02d} 10:00"} for i, n in enumerate(notes)]


@pytest.mark.parametrize("notes", [[100, 100, 100], [100] * 10, [500, 20, 20, 20, 20], [10, 10, 900]])
def test_the_verdict_stop_and_training_sessions_never_overlap(notes):
    verdict, stop = choose_holdout(sessions(notes))
    names = {s["name"] for s in sessions(notes)}
    train = names - set(verdict) - set(stop)
    assert verdict and stop and train and not set(verdict) & set(stop)
    newest = sorted(names, reverse=True)
    assert verdict == newest[: len(verdict)]  # the newest judge, the ones before them stop
    assert stop == newest[len(verdict): len(verdict) + len(stop)]


def test_the_run_trains_and_stops_on_other_sessions_than_it_is_judged_on(tiny_model, tmp_path):  # noqa: F811
    rec_dir, work = tmp_path / "rec", tmp_path / "work"
    clock = FakeClock(1000.0)
    for _ in range(4):
        session(rec_dir, clock, 48)
    done = personal(rec_dir, models=tmp_path / "models", work=work, base=tiny_model, steps=10, say=lambda *a: None)
    judged, stopped = set(done["held_out_sessions"]), set(done["early_stop_sessions"])
    trained = {p.stem for p in (work / "corpus").glob("*.mid")} - stopped
    assert judged and stopped and trained and not judged & (stopped | trained)
    assert {p.stem for p in (work / "verdict").glob("*.mid")} == judged


def test_too_little_playing_to_judge_on_is_refused_in_one_line(tiny_model, tmp_path):  # noqa: F811
    rec_dir = tmp_path / "rec"
    clock = FakeClock(1000.0)
    for n in (48, 48, 48):
        session(rec_dir, clock, n)
    verdict, _ = choose_holdout(gather(rec_dir, say=lambda *a: None))
    newest = rec_dir / f"{verdict[0]}.mid"
    rec = recordings.tracks(newest)
    # The newest session: its notes all on the drum channel, which ingest drops (judged: 0 notes).
    mid = mido.MidiFile(str(newest))
    for track in mid.tracks:
        for i, m in enumerate(track):
            if m.type in ("note_on", "note_off"):
                track[i] = m.copy(channel=9)
    mid.save(str(newest))
    assert rec["player"]
    with pytest.raises(SystemExit, match="too little"):
        personal(rec_dir, models=tmp_path / "models", work=tmp_path / "work", base=tiny_model, steps=10,
                 say=lambda *a: None)


def test_a_file_respond_wrote_is_the_call_not_the_answer(tmp_path):
    from livejam.midi.files import write_messages

    on = lambda p, t: (t, mido.Message("note_on", note=p, velocity=80))  # noqa: E731
    path = tmp_path / "answered.mid"
    write_messages(path, [("call", [on(60, 0.0), on(62, 0.5)]), ("livejam", [on(90, 1.0)])])
    found = recordings.tracks(path)
    assert [m.note for _, m in found[recordings.PLAYER]] == [60, 62]
    assert [m.note for _, m in found[recordings.ANSWERS]] == [90]


def test_a_changed_learning_rate_is_a_new_run_not_the_old_one_resumed(tiny_model, tmp_path):  # noqa: F811
    rec_dir, work = tmp_path / "rec", tmp_path / "work"
    clock = FakeClock(1000.0)
    for _ in range(3):
        session(rec_dir, clock, 48)
    for lr in (1e-3, 3e-4):
        personal(rec_dir, models=tmp_path / "models", work=work, base=tiny_model, steps=10, stop_after=4, lr=lr,
                 say=lambda *a: None)
    assert len(list((work / "runs").iterdir())) == 2
