"""Models that go wrong while playing: one that loads but fails on its first step
is refused and the old one plays on; a kept model whose file was deleted starts
the default with one line; the model picker reads the models' cards on a thread
(once per file), never on the screen's thread."""
import threading

import pytest

from livejam.conversation.events import Problem
from livejam.model import registry


def fails_on_its_first_step(good, path):
    """A real ONNX model that passes every load-time check, then fails when run:
    its logits reshaped to the state's shape, known only at run time."""
    import onnx
    from onnx import helper

    m = onnx.load(str(good))
    for node in m.graph.node:
        node.output[:] = ["logits_raw" if o == "logits" else o for o in node.output]
    m.graph.node.append(helper.make_node("Shape", ["state"], ["run_time_shape"]))
    m.graph.node.append(helper.make_node("Reshape", ["logits_raw", "run_time_shape"], ["logits"]))
    onnx.save(m, str(path))
    return path


def test_a_model_that_fails_on_its_first_step_is_refused_and_the_old_one_plays_on(rig, tiny_model, tmp_path):
    r = rig(answer_seconds=2.0)
    bad = fails_on_its_first_step(tiny_model, tmp_path / "fails.onnx")
    old = r.engine.model
    r.engine.command("model", str(bad))
    r.run(0.01)
    problems = [e.message for e in r.said if isinstance(e, Problem)]
    assert len(problems) == 1 and "fails.onnx loads but fails on its first step" in problems[0]
    assert "\n" not in problems[0] and r.engine.model is old
    r.phrase()
    r.run(3.0)
    assert r.out.notes_on() and r.out.hanging() == {}


def test_a_kept_model_that_was_deleted_starts_the_default_and_says_so(tiny_model, tmp_path):
    import argparse
    import shutil

    from livejam.app import cli
    from livejam.settings import settings_file

    mine = tmp_path / "mine.onnx"
    shutil.copy(tiny_model, mine)
    settings_file.update({"model": str(mine)})
    mine.unlink()  # deleted between sessions
    notices: list[str] = []
    cfg = cli._config(argparse.Namespace(), use_settings=True, notices=notices)
    assert cfg.model == "" and len(notices) == 1 and "mine.onnx" in notices[0] and "is gone" in notices[0]


@pytest.mark.asyncio
async def test_the_model_picker_reads_the_cards_off_the_screens_thread_once(tiny_model, tmp_path, monkeypatch):
    import shutil

    from tests.livejam.app.tui.test_app import make_app, until

    monkeypatch.setattr(registry, "models_dir", lambda: tmp_path)
    for name in ("a", "b", "c"):
        shutil.copy(tiny_model, tmp_path / f"{name}.onnx")
    read_on, real = [], registry._read_entry

    def spy(path, kind):
        read_on.append((path.name, threading.current_thread() is threading.main_thread()))
        return real(path, kind)

    monkeypatch.setattr(registry, "_read_entry", spy)
    monkeypatch.setattr(registry, "_READ", {})
    app, rig, _ = make_app(tiny_model)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(2):
            await pilot.press("n")
            assert await until(lambda: app.screen.__class__.__name__ == "ModelScreen")
            assert await until(lambda: app.screen.query_one("#models").option_count == 4)
            await pilot.press("escape")
            assert await until(lambda: app.screen.__class__.__name__ != "ModelScreen")
        await pilot.press("q")
    assert read_on and not any(main for _, main in read_on)  # never on the screen's thread
    assert sorted(n for n, _ in read_on) == ["a.onnx", "b.onnx", "c.onnx", "default.onnx"]  # each once
