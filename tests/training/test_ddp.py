"""Multi-process data-parallel training through torchrun (gloo on CPU), 2 processes."""
import json
import os
import subprocess
import sys

import torch


def test_torchrun_two_processes(tiny_corpus, tmp_path):
    cfg = {"seq_len": 32, "batch": 4, "eval_every": 2, "eval_tokens": 1000, "warmup": 1, "threads": 1,
           "max_steps": 4, "model": {"embedding": 16, "hidden": 32, "layers": 1}}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "training", "fit", "--data", str(tiny_corpus), "--out", str(tmp_path / "run"),
         "--config", str(tmp_path / "cfg.json")],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["step"] == 4 and summary["stopped"] == "max_steps"
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # Two processes, one batch each per step: twice the tokens of one process.
    assert rows and all(r["step"] in (2, 4) for r in rows)
    ckpt = torch.load(tmp_path / "run" / "ckpt.pt", weights_only=True)
    assert ckpt["state"]["step"] == 4
