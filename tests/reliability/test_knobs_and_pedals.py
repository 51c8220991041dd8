"""Knobs and pedals mapped to livejam's controls: a trigger fires on the rising
edge only (one sweep of a knob mapped to panic is one panic), a switch changes
when its side of 64 does, the default CCs stay off the block controllers use,
`--cc NAME=off` removes a mapping, a bad mapping is refused in one line, and MIDI
learn maps the next knob moved (engine on a fake clock; the TUI through Textual's
Pilot)."""
import asyncio
import tomllib

import pytest

from livejam.errors import LivejamError
from livejam.settings import config, settings_file
from livejam.settings.config import LivejamConfig


def sweep(r, control, values):
    for v in values:
        r.play("control_change", control=control, value=v)


def test_one_sweep_of_a_knob_mapped_to_panic_is_one_panic(rig):
    r = rig()
    sweep(r, r.cfg.ccs["panic"], [*range(0, 128, 4), 127, 127, *range(127, -1, -4)])
    assert [k for k, _ in r.events()].count("panic") == 1
    sweep(r, r.cfg.ccs["panic"], [0, 127])  # a second press
    assert [k for k, _ in r.events()].count("panic") == 1


def test_a_pedal_mapped_to_mute_changes_it_once_per_press(rig):
    r = rig()
    sweep(r, r.cfg.ccs["muted"], [0, 30, 64, 90, 127, 127, 100, 20, 0])
    changes = [d["value"] for k, d in r.events() if k == "setting"]
    assert changes == [False, True, False]


def test_the_default_ccs_are_off_the_block_controllers_use():
    assert all(102 <= cc <= 119 for cc in config.DEFAULT_CCS.values())
    assert len(set(config.DEFAULT_CCS.values())) == len(config.DEFAULT_CCS)


def test_cc_off_removes_a_mapping_and_a_number_moves_from_the_control_that_had_it():
    from tests.livejam.settings.test_config import parse

    cfg = parse("--cc", "panic=off", "--cc", f"echo={config.DEFAULT_CCS['temperature']}")
    assert cfg.ccs["panic"] == config.CC_OFF
    assert cfg.ccs["echo"] == config.DEFAULT_CCS["temperature"] and cfg.ccs["temperature"] == config.CC_OFF


@pytest.mark.parametrize("bad, said", [({"panic": True}, "0..119 or off"), ({"panic": 200}, "0..119 or off"),
                                       ({"panic": 17, "muted": 17}, "CC 17 is given to")])
def test_a_bad_cc_mapping_is_refused(bad, said, tmp_path):
    with pytest.raises(ValueError, match=said):
        LivejamConfig.from_dict({"ccs": bad})
    path = tmp_path / "settings.toml"
    path.write_text("[ccs]\n" + "".join(f"{k} = {str(v).lower()}\n" for k, v in bad.items()))
    with pytest.raises(LivejamError, match=said):
        settings_file.load(path)


def test_midi_learn_maps_the_next_knob_moved_and_not_the_sustain_pedal(rig):
    r = rig()
    r.engine.command("learn", "panic")
    r.run(0)
    r.play("control_change", control=64, value=127)  # the sustain pedal is playing, not a knob
    r.play("control_change", control=17, value=100)
    assert r.cfg.ccs["panic"] == 17
    said = r.events()
    assert ("panic" not in [k for k, _ in said]) and any(k == "setting" and d["name"] == "ccs" for k, d in said)
    sweep(r, 17, [0, 127])
    assert [k for k, _ in r.events()] == ["panic"]
    r.engine.command("unmap", "panic")
    r.run(0)
    sweep(r, 17, [0, 127])
    assert "panic" not in [k for k, _ in r.events()] and r.cfg.ccs["panic"] == config.CC_OFF


@pytest.mark.asyncio
async def test_midi_learn_in_the_tui_is_shown_saved_and_removable(tiny_model):
    import mido

    from tests.livejam.app.tui.test_app import make_app, until

    app, rig, _ = make_app(tiny_model)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("i")
        await pilot.pause()
        names = list(config.CONTROLS)
        for _ in range(names.index("phrase_end")):
            await pilot.press("down")
        await pilot.press("enter")
        assert await until(lambda: rig.engine.controls.learning == "phrase_end")
        rig.engine.feed_midi(mido.Message("control_change", control=21, value=127))
        assert await until(lambda: rig.cfg.ccs["phrase_end"] == 21)
        await pilot.pause()
        shown = "\n".join(str(app.screen.query_one("#learn").get_option_at_index(i).prompt) for i in range(len(names)))
        assert "CC 21" in shown
        await pilot.press("escape")
        await pilot.press("q")
    saved = tomllib.loads(settings_file.settings_path().read_text())
    assert saved["ccs"]["phrase_end"] == 21
    await asyncio.sleep(0)
