"""Training: the whole CLI pipeline on a tiny corpus, exact resume, early stopping, config."""
import json

import pytest
import torch

from training import cli
from training.train import TrainConfig, fit

SMALL = dict(seq_len=32, batch=4, eval_every=3, eval_tokens=2000, warmup=2, threads=1,
             model={"embedding": 16, "hidden": 32, "layers": 2, "dropout": 0.1})


def small(tiny_corpus, out, **kw):
    return TrainConfig.from_dict({**SMALL, "data": str(tiny_corpus), "out": str(out), **kw})


def test_cli_corpus_fit_export_eval_sample(tiny_corpus, tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({k: v for k, v in SMALL.items()}))
    cli.main(["corpus", str(tiny_corpus)])
    cli.main(["fit", "--data", str(tiny_corpus), "--out", str(tmp_path / "run"), "--config", str(cfg),
              "--max-steps", "8", "--lr", "0.01"])
    run = tmp_path / "run"
    assert (run / "best.pt").exists() and (run / "loss.png").stat().st_size > 1000
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [3, 6, 8]
    assert {"valid_nll", "valid_accuracy", "tokens_per_s", "lr"} <= set(rows[0])
    assert rows[-1]["valid_nll"] < rows[0]["valid_nll"] < 6.0  # it learns
    capsys.readouterr()
    cli.main(["export", str(run), "--out", str(tmp_path / "m.onnx")])
    report = json.loads(capsys.readouterr().out)
    assert report["max_abs_diff"] < 1e-4
    cli.main(["eval", "--model", str(tmp_path / "m.onnx"), "--data", str(tiny_corpus), "--json"])
    ev = json.loads(capsys.readouterr().out)
    best = min(r["valid_nll"] for r in rows)
    assert ev["valid"]["nll"] == pytest.approx(best, rel=1e-4)  # ORT scores what torch scored
    # Fine-tuning from those weights (here with no learning at all): it starts where they ended.
    cli.main(["fit", "--data", str(tiny_corpus), "--out", str(tmp_path / "tuned"), "--config", str(cfg),
              "--init", str(run / "best.pt"), "--dropout", "0", "--max-steps", "3", "--lr", "1e-12"])
    tuned = [json.loads(l) for l in (tmp_path / "tuned" / "metrics.jsonl").read_text().splitlines()]
    assert tuned[0]["valid_nll"] == pytest.approx(best, rel=1e-4)
    capsys.readouterr()
    cli.main(["eval", "--baseline", "ngram", "--data", str(tiny_corpus), "--json"])
    ng = json.loads(capsys.readouterr().out)
    assert set(ng["test"]["nll_by_order"]) == {"3", "4", "5", "6", "7"}
    cli.main(["sample", "--model", str(tmp_path / "m.onnx"), "--out", str(tmp_path / "s"), "--takes", "1", "--seconds", "2"])
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert len(lines) == 4 and all((tmp_path / "s").glob("*.mid"))


def test_resume_is_exact(tiny_corpus, tmp_path):
    torch.set_num_threads(1)
    fit(small(tiny_corpus, tmp_path / "straight", max_steps=6), progress=False)
    fit(small(tiny_corpus, tmp_path / "split", max_steps=6, stop_after=3), progress=False)
    assert torch.load(tmp_path / "split" / "ckpt.pt", weights_only=True)["state"]["step"] == 3
    fit(small(tiny_corpus, tmp_path / "split", max_steps=6), progress=False)
    a = torch.load(tmp_path / "straight" / "ckpt.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "ckpt.pt", weights_only=True)
    assert a["state"]["step"] == b["state"]["step"] == 6
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert a["state"]["history"][-1]["valid_nll"] == b["state"]["history"][-1]["valid_nll"]


def test_early_stopping_stops_when_validation_stalls(tiny_corpus, tmp_path):
    # A zero learning rate after warmup can never improve on the first evaluation.
    s = fit(small(tiny_corpus, tmp_path / "r", max_steps=100, lr=1e-9, patience=2, eval_every=1), progress=False)
    assert s["stopped"] == "early_stopping" and s["step"] < 10


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="unknown training setting"):
        TrainConfig.from_dict({"learning_rate": 1})
    with pytest.raises(ValueError, match="unknown model setting"):
        TrainConfig.from_dict({"model": {"hiden": 3}})
