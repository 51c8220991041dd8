"""A personal model from recordings, end to end on CPU: only the player's track,
held-out whole sessions, fine-tuned from a base, better than the base on the
held-out sessions and closer to the player's style; resumable; incremental."""
import json

import mido
import numpy as np
import pytest

from livejam.recording import recordings
from livejam.model import vocab
from livejam.conversation.call import pitch_class_weights
from livejam.timing.wallclock import FakeClock
from livejam.model.registry import list_models
from livejam.recording.recorder import SessionRecorder
from livejam.model.onnx_model import OnnxModel
from tests.livejam.conftest import tiny_model  # noqa: F401  (fixture)
from training.export import export
from training.personal import personal
from training.train import TrainConfig, fit

STYLE = [64, 66, 68, 71, 73, 71, 68, 66]  # E major pentatonic (three sharps: far from C), even eighths


@pytest.fixture(scope="module")
def c_major_base(tiny_corpus, tmp_path_factory):
    """A small 'default' that knows the test corpus (random walks in C major)."""
    out = tmp_path_factory.mktemp("base")
    cfg = TrainConfig(data=str(tiny_corpus), out=str(out / "run"), max_steps=150, batch=16, seq_len=128, lr=3e-3,
                      eval_every=150, threads=2)
    cfg.model.embedding, cfg.model.hidden, cfg.model.layers = 32, 64, 2
    fit(cfg, progress=False)
    export(out / "run", out / "base.onnx")
    return out / "base.onnx"


def session(folder, clock, n_notes, shift=0):
    rec = SessionRecorder(folder, clock)
    t = clock.now()
    for i in range(n_notes):
        p = STYLE[i % len(STYLE)] + shift
        rec.player(mido.Message("note_on", note=p, velocity=80), t + i * 0.2)
        rec.player(mido.Message("note_off", note=p), t + i * 0.2 + 0.18)
    for i in range(n_notes):  # livejam's answers, in another key altogether: must not be learned
        p = 61 + (i * 5) % 12
        rec.answer(mido.Message("note_on", note=p, velocity=60), t + 100 + i * 0.1)
        rec.answer(mido.Message("note_off", note=p), t + 100.05 + i * 0.1)
    rec.close()
    clock.advance(2.0)  # the next session's file name is a later time
    return rec.path


def style_distance(model):
    """How far the pitch classes a model would answer a call in the style with are
    from the style's: its next-note distribution after the call (no sampling noise),
    summed over pitches by pitch class, against the call's pitch classes."""
    call = [(i * 0.2, i * 0.2 + 0.18, p, 80) for i, p in enumerate(STYLE * 2)]
    onnx_model = OnnxModel(model)
    tokens = np.array([list(vocab.encode(call)) + vocab.shift_tokens(30)], np.int64)
    logits, _ = onnx_model.run(tokens, onnx_model.initial_state(1))
    z = logits[0, -1, vocab.NOTE_ON : vocab.NOTE_ON + 128].astype(np.float64)
    p = np.exp(z - z.max())
    got = np.bincount(np.arange(128) % 12, weights=p / p.sum(), minlength=12)
    want = pitch_class_weights(call)
    return 0.5 * float(np.abs(want / want.sum() - got).sum())


def test_personal_model_learns_the_players_style_and_not_the_answers(c_major_base, tmp_path):
    rec_dir, models, work = tmp_path / "rec", tmp_path / "models", tmp_path / "work"
    clock = FakeClock(1000.0)
    for k in range(6):
        session(rec_dir, clock, 64, shift=(0, 2, -2, 0, 3, 0)[k])
    said = []
    # Interrupted part-way, then run again: it resumes the same run.
    first = personal(rec_dir, models=models, work=work, base=c_major_base, steps=120, stop_after=20, say=said.append)
    assert first["stopped"] == "stop_after"
    done = personal(rec_dir, models=models, work=work, base=c_major_base, steps=120, name="mine", say=said.append)
    steps = [json.loads(x)["step"] for x in next((work / "runs").rglob("metrics.jsonl")).read_text().splitlines()]
    assert 20 in steps and steps == sorted(set(steps))  # went on from step 20, not again from 0

    # Only the player's track went in: no pitch of the answers' key is in the corpus.
    pcs = {m.note % 12 for f in (work / "corpus").glob("*.mid") for _, m in recordings.tracks(f)["player"]
           if m.type == "note_on"}
    assert pcs <= {p % 12 for s in (0, 2, -2, 3) for p in (x + s for x in STYLE)}
    # Held out by session: the newest whole session(s), named in the model.
    assert done["held_out_sessions"] and all(n.startswith("livejam-") for n in done["held_out_sessions"])
    h = done["heldout_nll"]
    assert h["personal"] < h["base"] and done["better"]
    mine, base = style_distance(done["model"]), style_distance(c_major_base)
    assert mine < base, (mine, base)
    entry = next(m for m in list_models(models) if m.name == "mine")
    assert entry.beats_base and (models / "mine.md").read_text().count("better") >= 1
    assert any("bin/livejam --model mine" in s for s in said)


def test_a_later_run_continues_from_the_last_personal_model(tiny_model, tmp_path):  # noqa: F811
    rec_dir, models, work = tmp_path / "rec", tmp_path / "models", tmp_path / "work"
    clock = FakeClock(1000.0)
    for _ in range(3):
        session(rec_dir, clock, 48)
    from livejam.conversation.phrase import CALL_FEATURES, ELAPSED_FEATURES
    from training.phrase_end import write_head

    n = len(CALL_FEATURES + ELAPSED_FEATURES)
    head = {"features": list(CALL_FEATURES + ELAPSED_FEATURES), "layers": [], "weights": [0.5] * n, "bias": -1.0,
            "mean": [0.0] * n, "scale": [1.0] * n, "threshold": 0.9}
    headed = tmp_path / "headed.onnx"
    write_head(tiny_model, headed, head)
    personal(rec_dir, models=models, work=work, base=headed, steps=40, name="one", say=lambda *a: None)
    session(rec_dir, clock, 48)  # a new session
    again = personal(rec_dir, models=models, work=work, steps=40, name="two", say=lambda *a: None)
    assert again["base"] == "one.onnx" and again["sessions"] == 4
    # The base's phrase head reads no state: it goes with each model fine-tuned from it.
    assert OnnxModel(models / "one.onnx").metadata["phrase_head"] == head
    assert OnnxModel(models / "two.onnx").metadata["phrase_head"] == head
    fresh = personal(rec_dir, models=models, work=work, steps=10, name="three", from_scratch=True,
                     say=lambda *a: None)
    assert fresh["base"] == "default.onnx"


def test_torchrun_two_processes_make_one_personal_model(tiny_model, tmp_path):  # noqa: F811
    """Large folders: `torchrun ... -m training personal` trains on N processes; one
    writes the corpus and the model, and the user's folders are where platformdirs says."""
    import os
    import subprocess
    import sys

    rec_dir = tmp_path / "rec"
    clock = FakeClock(1000.0)
    for _ in range(3):
        session(rec_dir, clock, 48)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    r = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "training", "personal", "--data", str(rec_dir), "--base", str(tiny_model), "--steps", "6",
         "--threads", "1", "--name", "ddp"],
        capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    models = tmp_path / "data" / "livejam" / "models"
    assert (models / "ddp.onnx").exists() and "Personal model `ddp`" in (models / "ddp.md").read_text()
    assert r.stdout.count("fine-tuning") == 1  # rank 0 speaks; the other only trains
    info = OnnxModel(models / "ddp.onnx").metadata["personal"]
    assert info["steps"] == 6 and info["sessions"] == 3
