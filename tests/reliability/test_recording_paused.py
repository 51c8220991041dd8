"""Pausing the recording (`r`): it pauses this session only, never every later
one, and a pause mid-note ends that note (and the pedal) in the file, so no note
without its end reaches `bin/train personal`."""
import tomllib

import mido
import pytest

from livejam.midi.sounding import hanging
from livejam.settings import settings_file
from tests.livejam.app.tui.test_app import make_app, until


def test_pausing_mid_note_ends_the_note_and_the_pedal_in_the_file(rig, tmp_path):
    from livejam.recording.recorder import SessionRecorder

    r = rig(record=True)
    r.engine.recorder = SessionRecorder(tmp_path, r.clock)
    r.engine.recording = True
    r.play("control_change", control=64, value=127)
    r.play("note_on", note=60, velocity=80)
    r.run(0.5)
    r.engine.command("record", False)
    r.run(0.5)
    r.play("note_off", note=60, velocity=0)  # released while paused: not in the file
    r.play("control_change", control=64, value=0)
    mid = mido.MidiFile(str(r.engine.recorder.close()))
    player = mid.tracks[0]
    t, timed = 0, []
    for m in player:
        t += m.time
        timed.append((t, m))
    assert hanging(timed) == {}
    assert [(m.control, m.value) for _, m in timed if m.type == "control_change"] == [(64, 127), (64, 0)]
    off = [t for t, m in timed if m.type == "note_off"][0]
    assert abs(off / mid.ticks_per_beat / 2 - 0.5) < 0.02  # ended where the pause was (120 BPM file time)


@pytest.mark.asyncio
async def test_r_pauses_this_session_only(tiny_model, tmp_path):
    app, rig, _ = make_app(tiny_model, record=True, record_dir=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        assert await until(lambda: not rig.engine.recording)
        await pilot.press("plus")
        assert await until(lambda: abs(rig.cfg.temperature - 1.0) < 1e-9)
        await pilot.press("q")
    saved = tomllib.loads(settings_file.settings_path().read_text())
    assert "record" not in saved and saved["temperature"] == 1.0
