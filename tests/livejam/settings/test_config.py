"""The settings table (config.py): each setting is described once, and the
command line, the settings file, the CCs and the TUI keys all come from it."""
import pytest

from livejam.app import cli
from livejam.settings import config, settings_file
from livejam.settings.config import LivejamConfig
from livejam.errors import LivejamError
from livejam.app.tui.app import LivejamApp


def parse(*argv):
    """The play command's config as the command line makes it (no settings file)."""
    import argparse

    p = argparse.ArgumentParser()
    cli._add_setting_flags(p, play=True)
    return cli._config(p.parse_args(list(argv)))


def test_every_flagged_setting_is_a_flag_with_its_default_in_the_help():
    import argparse

    p = argparse.ArgumentParser()
    cli._add_setting_flags(p, play=True)
    flags = {o for a in p._actions for o in a.option_strings}
    for name, s in config.SETTINGS.items():
        if s.flag is not None:
            assert (s.flag or "--" + name.replace("_", "-")) in flags
    assert {"--thru", "--no-thru", "--overlap", "--no-overlap", "--record", "--no-record"} <= flags


def test_flags_set_values_and_bad_ones_are_one_line():
    cfg = parse("--temperature", "1.3", "--no-record", "--in", "a", "--in", "b", "--answer-seconds", "4")
    assert (cfg.temperature, cfg.record, cfg.inputs, cfg.answer_seconds) == (1.3, False, ["a", "b"], 4.0)
    with pytest.raises(LivejamError, match=r"temperature must be 0.05..3, not 9.0"):
        parse("--temperature", "9")
    with pytest.raises(LivejamError, match="NAME=NUMBER"):
        parse("--cc", "panic=300")


def test_cc_flags_merge_with_the_saved_mapping_and_old_names_still_work():
    cfg = LivejamConfig.from_dict({"ccs": {"answer_length": 30, "mute": 31}})
    assert cfg.ccs["answer_seconds"] == 30 and cfg.ccs["muted"] == 31
    assert cfg.ccs["panic"] == config.DEFAULT_CCS["panic"]  # the rest keep their defaults
    with pytest.raises(ValueError, match="unknown CC control"):
        LivejamConfig.from_dict({"ccs": {"volume": 7}})


def test_cc_values_sweep_the_table_span():
    assert config.from_cc("temperature", 0) == pytest.approx(0.1)
    assert config.from_cc("temperature", 127) == pytest.approx(2.0)
    assert config.from_cc("silence", 127) == pytest.approx(3.0)
    assert config.from_cc("answer_seconds", 0) == 0.0 and config.from_cc("answer_seconds", 127) == pytest.approx(16.0)
    assert config.from_cc("muted", 64) is True and config.from_cc("muted", 63) is False
    assert config.from_cc("panic", 127) is True


def test_only_settings_marked_saved_go_to_the_file_over_what_was_there(tmp_path):
    path = settings_file.update({"silence": 1.5}, tmp_path / "s.toml")
    settings_file.update({"seed": 5, "virtual": True, "muted": True, "temperature": 1.2}, path)
    assert settings_file.load(path) == {"silence": 1.5, "temperature": 1.2}


def test_record_dir_asks_for_recording_and_the_no_flag_still_wins(tmp_path):
    assert parse("--record-dir", str(tmp_path)).record is True
    assert parse("--record-dir", str(tmp_path), "--no-record").record is False


def test_the_tui_keys_come_from_the_table():
    keys = {b.key: b.action for b in LivejamApp.BINDINGS}
    assert keys["minus"] == "step('temperature', -1)" and keys["plus,equals_sign"] == "step('temperature', 1)"
    assert keys["l"] == "change('answer_seconds')" and keys["m"] == "change('muted')"
    assert keys["space"] == "act('phrase_end')" and keys["p"] == "act('panic')"
    for name, s in config.SETTINGS.items():
        for k in s.keys:
            assert name in keys[k]


def test_config_set_keeps_a_value_checked_and_unset_forgets_it(capsys):
    cli.main(["config", "set", "silence", "1.2"])
    cli.main(["config", "set", "thru", "on"])
    cli.main(["config", "set", "inputs", "KeyStep, Launchkey"])
    assert settings_file.load() == {"silence": 1.2, "thru": True, "inputs": ["KeyStep", "Launchkey"]}
    for bad, says in ((["silence", "loud"], "silence takes float"), (["channel", "40"], "channel must be 1..16")):
        with pytest.raises(SystemExit):
            cli.main(["config", "set", *bad])
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1
    assert settings_file.load()["silence"] == 1.2  # a refused value changed nothing
    cli.main(["config", "unset", "silence"])
    assert "silence" not in settings_file.load()
    cli.main(["config", "show"])
    assert "silence = 0.8  (default)" in capsys.readouterr().out


def test_the_split_is_a_note_name_or_number_shown_by_name_and_kept(capsys):
    assert parse("--split", "C3").split == 48 and parse("--split", "F#2").split == 42
    assert parse("--split", "60").split == 60 and parse("--split", "off").split == 0
    with pytest.raises(SystemExit):
        parse("--split", "H2")
    assert "argument --split: a note is a name like C4" in capsys.readouterr().err
    assert config.shown("split", 48) == "C3" and config.shown("split", 0) == "off"
    assert config.coerce("split", "Bb2") == 46  # a command's text, as a key would send it
    cli.main(["config", "set", "split", "E3"])
    assert settings_file.load()["split"] == 52
    with pytest.raises(SystemExit):
        cli.main(["config", "set", "split", "X9"])
    assert "livejam: split: a note is a name like C4" in capsys.readouterr().err
