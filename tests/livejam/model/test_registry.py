"""Models by name: the default and personal ones, listed with what they know, the
better personal model offered, an unusable file named with its reason."""
import json
import shutil

import pytest

from livejam.app import cli
from livejam.model import registry
from livejam.errors import LivejamError
from livejam.model.onnx_model import DEFAULT_MODEL


def personal(tiny_model, folder, name, base, mine):
    import onnx

    m = onnx.load(str(tiny_model))
    m.metadata_props.add(key="personal", value=json.dumps({
        "created": "2026-11-28 10:00", "sessions": 12, "notes": 3400, "minutes": 21.5,
        "heldout_nll": {"base": base, "personal": mine}}))
    onnx.save(m, str(folder / f"{name}.onnx"))


def test_models_are_listed_found_by_name_and_the_better_one_offered(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(registry, "models_dir", lambda: tmp_path)
    personal(tiny_model, tmp_path, "worse", base=1.2, mine=1.4)
    assert registry.recommended() is None  # a personal model that did not beat the default is not offered
    personal(tiny_model, tmp_path, "mine", base=1.2, mine=0.9)
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    listed = registry.list_models()
    assert [m.name for m in listed][0] == "default" and {m.name for m in listed} == {"default", "mine", "worse", "broken"}
    by_name = {m.name: m for m in listed}
    assert by_name["mine"].beats_base and not by_name["worse"].beats_base
    assert "12 sessions" in by_name["mine"].about and by_name["broken"].problem
    assert registry.recommended().name == "mine"
    assert registry.resolve("mine") == tmp_path / "mine.onnx"
    assert registry.resolve("") == DEFAULT_MODEL == registry.resolve("default")
    with pytest.raises(LivejamError, match="livejam models"):
        registry.resolve("nobody")
    cli.main(["models"])
    out = capsys.readouterr().out
    assert "0.900 vs 1.200" in out and "not better than" in out and "unusable" in out
    assert "--model mine" in out
    assert "'mine'" in cli._offer(cli._config(cli_args(model="")))()  # found on a thread once playing
    assert cli._offer(cli._config(cli_args(model="mine"))) is None


def cli_args(**kw):
    import argparse

    return argparse.Namespace(**kw)


def test_a_model_name_on_the_command_line_is_the_models_path(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "models_dir", lambda: tmp_path)
    shutil.copy(tiny_model, tmp_path / "jazz.onnx")
    assert cli._config(cli_args(model="jazz")).model == str(tmp_path / "jazz.onnx")
    assert cli._config(cli_args(model=str(tiny_model))).model == str(tiny_model)


def test_a_model_is_listed_with_when_it_was_trained_not_the_files_date(tiny_model, tmp_path, monkeypatch):
    import onnx

    m = onnx.load(str(tiny_model))
    m.metadata_props.add(key="trained", value="2026-12-07 16:05")
    m.metadata_props.add(key="licence", value="CC BY-SA 4.0")
    onnx.save(m, str(tmp_path / "copied.onnx"))  # written now: the file's date is today's
    monkeypatch.setattr(registry, "models_dir", lambda: tmp_path)
    entry = {e.name: e for e in registry.list_models()}["copied"]
    assert entry.created == "2026-12-07 16:05" and "model licence CC BY-SA 4.0" in entry.about
    shutil.copy(tiny_model, tmp_path / "plain.onnx")  # an older model without the entry: the file's date
    plain = {e.name: e for e in registry.list_models()}["plain"]
    assert plain.created != "2026-12-07 16:05" and "licence" not in plain.about
