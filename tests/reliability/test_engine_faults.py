"""Faults inside the engine and its conversation, each named for what it tries, on
a fake clock with a recording output: whatever happens, no note is left sounding,
nothing the player did is lost, and the next call is answered."""
import re

import mido
import numpy as np
import pytest

from livejam.model import vocab
from livejam.conversation.events import Problem
from livejam.recording.recorder import SessionRecorder


class Flaky:
    """The model model, failing once on its n-th run."""

    def __init__(self, model, fail_at: int) -> None:
        self.model, self.fail_at, self.runs_seen = model, fail_at, 0
        self.heard: list[list[int]] = []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def run(self, tokens, state):
        self.runs_seen += 1
        self.heard.append([int(x) for x in tokens[0]])
        if self.runs_seen == self.fail_at:
            raise RuntimeError("the model fell over")
        return self.model.run(tokens, state)

    def step(self, token, state):
        logits, state = self.run(np.array([[token]], np.int64), state)
        return logits[0, -1], state


def answer_notes(r, channel=0):
    return [m for _, m in r.out.messages if m.type in ("note_on", "note_off") and m.channel == channel]


def test_an_error_in_the_middle_of_an_answer_releases_its_notes_and_the_next_call_is_answered(rig):
    r = rig(answer_seconds=4.0)
    r.phrase()
    r.run(1.0)  # answering
    assert r.conv.answer is not None and r.out.notes_on()
    flaky = r.engine.listener.model = Flaky(r.engine.model, fail_at=1)
    r.conv.answer.model = flaky
    r.run(1.0)
    assert r.out.hanging() == {}
    problems = [e for e in r.said if isinstance(e, Problem)]
    assert problems and "the model fell over" in problems[0].message
    assert r.conv.answer is None and r.engine.shown_state == "waiting"
    before = len(r.out.notes_on())
    r.phrase((64, 67))
    r.run(6.0)
    assert len(r.out.notes_on()) > before  # it answered the next call
    assert r.out.hanging() == {}


def test_a_channel_change_mid_answer_keeps_the_answers_note_offs_on_its_channel(rig):
    r = rig(answer_seconds=3.0)
    r.phrase()
    r.run(1.5)
    r.engine.command("channel", 5)
    r.run(3.0)
    assert r.out.hanging() == {}
    assert not answer_notes(r, channel=4)  # nothing of that answer went to the new channel
    r.phrase()
    r.run(2.0)
    assert answer_notes(r, channel=4)  # the next answer does


def test_turning_thru_off_with_a_key_held_releases_that_key(rig):
    r = rig(thru=True)
    r.play("note_on", note=50, velocity=90)
    assert r.out.hanging() == {(0, 50): 1}
    r.engine.command("thru", False)
    r.run(0)
    assert r.out.hanging() == {}


def test_nothing_starts_sounding_after_the_final_panic(rig):
    r = rig(answer_seconds=4.0)
    r.phrase()
    r.run(1.0)
    r.engine.scheduler.panic([0], final=True)
    r.engine.scheduler.schedule(r.clock.now(), mido.Message("note_on", note=70, velocity=90), "answer")
    r.engine.scheduler.send_now(mido.Message("note_on", note=71, velocity=90), "thru")
    r.run(1.0)
    assert r.out.hanging() == {}


def test_an_hour_of_silence_is_heard_as_a_short_rest(rig):
    r = rig()
    flaky = r.engine.listener.model = Flaky(r.engine.model, fail_at=-1)
    r.phrase((60,))
    r.run(3600.0)
    r.play("note_on", note=62, velocity=80)
    shifts = [t for t in flaky.heard[-1] if vocab.describe(t)[0] == "TIME_SHIFT"]
    assert sum(vocab.describe(t)[1] for t in shifts) <= 200  # at most 2 s, not 3,600 s of rests


def test_a_note_played_just_before_the_deadline_but_handled_after_it_does_not_split_the_call(rig):
    r = rig()
    r.phrase((60, 62))
    due = r.conv.phrases.due(False)
    r.engine.feed_midi(mido.Message("note_on", note=64, velocity=80), due - 0.01)  # played in time...
    r.clock.t = due + 0.02  # ...but the engine gets to it late
    r.engine.process(r.engine.inbox.get())
    assert not [k for k, _ in r.events() if k == "phrase"]
    assert r.conv.phrases.in_call and r.conv.phrases.notes == 3


def test_a_mod_wheel_during_the_silence_does_not_delay_the_answer(rig):
    r = rig()
    r.phrase()
    released = r.clock.now()
    for _ in range(7):
        r.run(0.1)
        r.play("control_change", control=1, value=64)
    r.run(0.2)
    ons = r.out.notes_on()
    assert ons and abs(ons[0][0] - (released + r.cfg.silence)) <= 0.002


def test_an_answer_prepared_and_thrown_away_draws_nothing_from_the_seed(rig):
    r = rig(seed=11)
    r.phrase()
    r.run(0.8 - 0.010)  # prepared ahead, not yet heard
    first = [(e[0], e[3].note) for e in r.engine.scheduler.heap]
    assert first
    r.conv.discard_upcoming()
    r.conv.tick(r.clock.now())  # prepared again for the same moment
    assert [(e[0], e[3].note) for e in r.engine.scheduler.heap] == first


def test_a_recording_folder_that_cannot_be_written_is_said_once_and_nothing_is_lost(tmp_path, monkeypatch):
    import os

    from livejam.midi.files import read_tracks
    from livejam.timing.wallclock import FakeClock

    said = []
    r = SessionRecorder(tmp_path, FakeClock(0.0))
    r.on_error = said.append
    real = os.fsync

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # the chunk is half on disk when the disk fills
    for i in range(3):
        r.player(mido.Message("note_on", note=60 + i, velocity=80), i)
        assert r.flush() is None
    assert len(said) == 1 and "No space left on device" in said[0]
    monkeypatch.setattr(os, "fsync", real)
    path = r.flush()  # room again: all of it is written, the half-written try cut away
    assert [m.note for _, m in read_tracks(path)["player"] if m.type == "note_on"] == [60, 61, 62]
    assert len(mido.MidiFile(str(path)).tracks) == 2  # the conductor, and one chunk: nothing written twice


@pytest.mark.parametrize("line, says", [
    ("temperature = 'hot'", "temperature must be a number"),
    ("lowest = 100\nhighest = 40", "lowest (100) must not be above highest (40)"),
    ("channel = 40", "channel must be 1..16"),
    ("temperature = [", "cannot read settings"),
])
def test_a_bad_saved_setting_is_one_line_naming_it(line, says, tmp_path, monkeypatch):
    from livejam.settings import settings_file
    from livejam.errors import LivejamError

    path = tmp_path / "saved.toml"
    path.write_text(line + "\n")
    with pytest.raises(LivejamError, match=re.escape(says)) as err:
        settings_file.load(path)
    assert "\n" not in str(err.value)


def test_a_corrupt_model_at_a_live_switch_is_refused_by_name_and_the_old_one_plays_on(rig, tmp_path):
    r = rig(answer_seconds=2.0)
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07 not a model at all")
    old = r.engine.model
    r.engine.command("model", str(bad))
    r.run(0.01)
    problems = [e.message for e in r.said if isinstance(e, Problem)]
    assert problems and "broken.onnx" in problems[0] and "\n" not in problems[0]
    assert r.engine.model is old
    r.phrase()
    r.run(3.0)
    assert r.out.notes_on() and r.out.hanging() == {}


def test_a_good_model_switch_mid_answer_releases_what_sounds(rig, tiny_model):
    r = rig(answer_seconds=4.0)
    r.phrase()
    r.run(1.5)
    assert r.conv.answer is not None
    r.engine.command("model", str(tiny_model))
    r.run(0.01)
    assert r.conv.answer is None and r.out.hanging() == {}
    assert [k for k, _ in r.events() if k == "model"]
