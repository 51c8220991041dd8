"""With --overlap, a call played over an answer is heard by the model when that
answer is cut for it (its phrase ended): the next answer comes from a state that
heard the call, not one that lost it."""
from livejam.model import vocab


class Ears:
    """The model, with every token sequence it is run on noted."""

    def __init__(self, model) -> None:
        self.model, self.runs = model, []

    def run(self, tokens, state):
        self.runs.append([int(x) for x in tokens[0]])
        return self.model.run(tokens, state)

    def __getattr__(self, name):
        return getattr(self.model, name)


def test_a_call_played_over_an_answer_is_heard_when_it_ends(rig):
    # Answers stay in 40..80: the model cannot have sampled the call's 100 and 103 itself.
    r = rig(overlap=True, answer_seconds=8.0, lowest=40, highest=80)
    ears = Ears(r.engine.listener.model)
    r.engine.listener.model = ears
    r.phrase()
    r.run(1.5)
    assert r.conv.answer is not None and not r.conv.answer.done  # mid-answer
    for p in (100, 103):
        r.play("note_on", note=p, velocity=90)
        r.run(0.2)
        r.play("note_off", note=p, velocity=0)
    assert r.conv.answer is not None  # --overlap: it played on
    r.run(r.cfg.silence + 0.1)  # the call over it ended: that answer is cut, the call answered
    heard = [t for run in ears.runs for t in run]
    assert vocab.note_on(100) in heard and vocab.note_on(103) in heard
    assert heard.index(vocab.note_on(100)) < heard.index(vocab.note_on(103))
    r.run(9.0)
    assert r.out.hanging() == {}
