"""A one-off flag must never turn anything off for good: a TUI run with
`--no-record --silence 0.3`, then a headless run with `--record-dir DIR`, which
records into DIR (through JACK, as a user would run it)."""
import argparse

import mido
import pytest

from livejam.app import cli
from livejam.midi import system
from livejam.settings import settings_file
from livejam.app.nomidi import NoMidiRig
from livejam.bench.loopback import Loopback
from livejam.model.onnx_model import OnnxModel
from livejam.app.tui.app import LivejamApp


def flags(*argv):
    p = argparse.ArgumentParser()
    cli._add_setting_flags(p, play=True)
    return p.parse_args(list(argv))


@pytest.mark.asyncio
@pytest.mark.usefixtures("jack_server")
async def test_a_tui_run_with_no_record_then_a_headless_run_with_record_dir_records(api, livejam, tmp_path, tiny_model):
    cfg = cli._config(flags("--no-record", "--silence", "0.3", "--model", str(tiny_model)), use_settings=True)
    app = LivejamApp(NoMidiRig(cfg, "test", model=OnnxModel(tiny_model)), save_settings=settings_file.update)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("plus")  # the player changes one thing on screen
        await pilot.press("q")
    saved = settings_file.load()
    assert "record" not in saved and "silence" not in saved and "temperature" in saved

    rec = tmp_path / "takes"
    lj = livejam("--virtual", "--record-dir", str(rec), "--answer-seconds", "1", "--silence", "0.4")
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        lb.play([60, 63, 67], each=0.1)
        assert lj.wait_event("answer", 10), lj.events
    finally:
        lb.close()
        assert lj.stop() == 0
    files = list(rec.glob("*.mid"))
    assert len(files) == 1
    player = [m.note for m in mido.MidiFile(str(files[0])).tracks[0] if m.type == "note_on" and m.velocity > 0]
    assert player == [60, 63, 67]


@pytest.mark.asyncio
async def test_a_change_on_screen_is_saved_while_livejam_runs_not_only_at_a_clean_quit(tiny_model, monkeypatch):
    """A crash, kill -9 or a hang after the soundcheck must not lose it: what changed on
    screen is written a moment after the changes pause (a knob turned is one write)."""
    from livejam.app.tui import app as tui_app
    from livejam.app.tui.app import LivejamApp
    from tests.livejam.app.tui.test_app import make_app, until

    monkeypatch.setattr(tui_app, "SAVE_SECONDS", 0.2)
    _, rig, _ = make_app(tiny_model)
    saves: list[dict] = []
    app = LivejamApp(rig, save_settings=saves.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("plus", "plus", "plus")  # temperature up three times
        want = rig.cfg.temperature
        assert await until(lambda: saves and abs(saves[-1].get("temperature", 0) - want) < 1e-9, 5), \
            "nothing saved while running"
        assert app.is_running  # saved before any quit
        during = len(saves)
    assert during <= 3  # debounced: never more writes than changes
