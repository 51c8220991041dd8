"""Export: ONNX Runtime equals PyTorch; the contract and metadata are inside the
file; the runtime refuses a model that does not fit."""
import json

import numpy as np
import onnx
import pytest
import torch

from livejam.model import vocab
from livejam.errors import LivejamError
from livejam.model.onnx_model import OnnxModel
from training.export import export, parity
from training.model import ModelConfig, PerformanceGRU


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exp")
    torch.manual_seed(0)
    model = PerformanceGRU(ModelConfig(embedding=24, hidden=48, layers=2)).eval()
    torch.save({"model": model.state_dict(), "config": {"model": model.cfg.to_dict()},
                "metrics": {"valid_nll": 1.5, "step": 10}, "data": {"pieces": 3}}, tmp / "best.pt")
    report = export(tmp, tmp / "m.onnx", summary="test model")
    return model, tmp / "m.onnx", report


def test_onnx_matches_pytorch_for_one_step_and_many(exported):
    model, path, report = exported
    assert report["one_step"] < 1e-4 and report["many_steps"] < 1e-4
    again = parity(model, path, seed=5)
    assert again["max_abs_diff"] < 1e-4


def test_io_names_shapes_and_metadata(exported):
    _, path, _ = exported
    model = OnnxModel(path)
    ins = {i.name: i for i in model.runtime.get_inputs()}
    assert ins["tokens"].type == "tensor(int64)" and ins["state"].type == "tensor(float)"
    assert [o.name for o in model.runtime.get_outputs()] == ["logits", "state_out"]
    assert model.metadata["vocab"] == vocab.VOCAB_ID
    assert model.metadata["model_config"]["hidden"] == 48
    assert model.metadata["metrics"]["valid_nll"] == 1.5
    assert len(model.metadata["content_hash"]) == 16 and model.metadata["summary"] == "test model"
    logits, state = model.run(np.zeros((2, 7), np.int64), model.initial_state(2))  # dynamic batch and time
    assert logits.shape == (2, 7, vocab.VOCAB_SIZE) and state.shape == (2, 2, 48)


def test_runtime_refuses_a_model_for_another_vocabulary(exported, tmp_path):
    _, path, _ = exported
    m = onnx.load(str(path))
    for p in m.metadata_props:
        if p.key == "vocab":
            p.value = "perf999-v9"
    onnx.save(m, str(tmp_path / "other.onnx"))
    with pytest.raises(LivejamError, match="vocabulary 'perf999-v9'"):
        OnnxModel(tmp_path / "other.onnx")


def test_runtime_refuses_a_model_whose_shapes_disagree(exported, tmp_path):
    _, path, _ = exported
    m = onnx.load(str(path))
    for p in m.metadata_props:
        if p.key == "model_config":
            cfg = json.loads(p.value)
            cfg["hidden"] = 64
            p.value = json.dumps(cfg)
    onnx.save(m, str(tmp_path / "bad.onnx"))
    with pytest.raises(LivejamError, match="state shape"):
        OnnxModel(tmp_path / "bad.onnx")


def test_not_a_model_is_one_clear_line(tmp_path):
    (tmp_path / "x.onnx").write_bytes(b"garbage")
    with pytest.raises(LivejamError) as e:
        OnnxModel(tmp_path / "x.onnx")
    assert "\n" not in str(e.value) and "bin/train export" in str(e.value)


def test_a_model_trained_on_the_rendered_corpus_carries_its_licence_and_credits(tmp_path):
    from training.keyboard import summarise, write_manifests

    data = tmp_path / "keyboard"
    data.mkdir()
    results = [
        {"piece": "mutopia/A/a", "collection": "mutopia", "composer": "BachJS", "title": "Invention 1",
         "licence": "Public Domain", "by": "Someone", "ref": "Mutopia-1", "files": ["mutopia/A/a/0.mid"],
         "notes": 100, "error": ""},
        {"piece": "pianomidi/b", "collection": "pianomidi", "composer": "Chopin", "title": "Op 28 No 4",
         "licence": "CC BY-SA 3.0 DE", "by": "Bernd Krueger", "ref": "chp_op28_4.mid",
         "files": ["pianomidi/b/0.mid"], "notes": 100, "error": ""},
        {"piece": "mutopia/C/c", "collection": "mutopia", "composer": "X", "title": "Lost", "licence": "Public Domain",
         "by": "", "ref": "", "files": [], "notes": 0, "error": "lilypond: error"},
    ]
    write_manifests(data, results, summarise(results, 1.0))
    credits = (data / "ATTRIBUTION.md").read_text()
    assert "Bernd Krueger" in credits and "Invention 1" in credits and "Lost" not in credits
    assert "CC BY-SA 4.0" in credits
    torch.manual_seed(0)
    model = PerformanceGRU(ModelConfig(embedding=16, hidden=24, layers=1)).eval()
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"model": model.state_dict(), "config": {"model": model.cfg.to_dict()},
                "metrics": {"valid_nll": 1.5, "step": 10}, "data": {"root": str(data), "pieces": 2}}, run / "best.pt")
    out = tmp_path / "shipped" / "default.onnx"
    report = export(run, out)
    meta = OnnxModel(out).metadata
    assert meta["licence"] == report["licence"] == "CC BY-SA 4.0"
    assert len(meta["trained"]) == 16 and (out.parent / "ATTRIBUTION.md").read_text() == credits
    # Only public-domain pieces: no share-alike term to carry.
    write_manifests(data, results[:1], summarise(results[:1], 1.0))
    assert export(run, out)["licence"] == "CC0 1.0" and "None is share-alike" in (out.parent / "ATTRIBUTION.md").read_text()
