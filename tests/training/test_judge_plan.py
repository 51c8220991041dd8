"""The plan judge (training/judge_plan.py) on the live engine with a small model:
it finds the planned notes among those played, and says when one is not."""
import pytest

from tests.livejam.conftest import tiny_model  # noqa: F401  (fixture)
from training import judge_plan
from training.judge_calls import CALLS, call_notes


@pytest.mark.parametrize("bpm", [0.0, 100.0])
def test_an_answers_plan_is_what_it_then_plays(tiny_model, bpm):  # noqa: F811
    from livejam.model.onnx_model import OnnxModel

    b, events = next(iter(CALLS.values()))
    r = judge_plan.plan_of_call(OnnxModel(tiny_model), call_notes(b, events), bpm, seed=0)
    assert r["planned"] >= 5 and r["kept"] == r["planned"] and not r["interrupted"]
    assert r["lead_max"] >= (0.4 if not bpm else 0.05)  # decided ahead (in bars, for now, the scheduling horizon)


def test_a_note_not_played_as_planned_is_counted(tiny_model, monkeypatch):  # noqa: F811
    from livejam.model.onnx_model import OnnxModel

    monkeypatch.setattr(judge_plan, "TOLERANCE", -1.0)  # nothing can match: every planned note is a miss
    b, events = next(iter(CALLS.values()))
    r = judge_plan.plan_of_call(OnnxModel(tiny_model), call_notes(b, events), 0.0, seed=0)
    assert r["planned"] >= 5 and r["kept"] == 0
