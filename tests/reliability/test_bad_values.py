"""Values a player can get wrong: each refused in one line saying what to fix, or
taken as they meant it; never a traceback, never a value silently changed."""
import pytest

from livejam.errors import LivejamError
from livejam.settings import settings_file
from livejam.settings.config import LivejamConfig
from tests.livejam.app.tui.test_app import make_app, until
from tests.livejam.settings.test_config import parse


def test_a_negative_seed_is_one_line():
    with pytest.raises(LivejamError, match=r"seed must be 0\.\."):
        parse("--seed", "-1")
    assert parse("--seed", "0").seed == 0


def test_a_typo_in_the_settings_file_is_reported_with_the_setting_meant(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("temprature = 1.2\n")
    with pytest.raises(LivejamError, match=r"no setting 'temprature' \(did you mean temperature\?\); fix or delete"):
        settings_file.load(path)
    path.write_text("seed = 3\n")  # a setting, but one given per run
    with pytest.raises(LivejamError, match="seed is not kept between runs"):
        settings_file.load(path)


@pytest.mark.asyncio
async def test_a_step_key_steps_from_a_saved_value_outside_the_knobs_sweep(tiny_model):
    # 10 s is a valid silence (0.1..60) beyond what a CC sweeps (0.2..3): `]` makes it 10.1, not 3.
    app, rig, _ = make_app(tiny_model, silence=10.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right_square_bracket")
        assert await until(lambda: abs(rig.cfg.silence - 10.1) < 1e-9)
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert await until(lambda: abs(rig.cfg.silence - 9.9) < 1e-9)
        await pilot.press("q")


def test_config_refuses_a_boolean_where_a_number_goes():
    with pytest.raises(ValueError, match="must be a whole number"):
        LivejamConfig.from_dict({"channel": True})
