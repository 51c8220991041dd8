"""`bin/train phrase-end`: the Lieder's rests labelled from their words, fermatas and
bars; each rest heard through the model as a call; the head fitted to tell an ending
from a breath, and written into the model where the runtime finds it."""
import numpy as np
import pytest

from livejam.conversation.listener import Listener
from livejam.conversation.phrase import CALL_FEATURES, ELAPSED_FEATURES
from livejam.model.onnx_model import OnnxModel
from tests.livejam.conftest import tiny_model  # noqa: F401  (fixture)
from training.phrase_end import SILENCE, _fit_logistic, expand, figures, first_end, fit_head, listen, moments, write_head
from training.phrase_labels import voice_line


def song():
    """A voice with words over a piano, at 60 BPM (a quarter is a second)."""
    from music21 import bar, expressions, meter, note, stream, tempo

    def sung(pitch, ql, words=None, fermata=False, tie=None):
        n = note.Note(pitch, quarterLength=ql)
        if words:
            n.lyric = words
        if fermata:
            n.expressions.append(expressions.Fermata())
        if tie:
            n.tie = __import__("music21").tie.Tie(tie)
        return n

    bars = [
        [sung("C4", 1, "one"), sung("D4", 1, "two,"), note.Rest(quarterLength=1), sung("E4", 1, "three")],
        [sung("F4", 1, "four"), note.Rest(quarterLength=1), sung("G4", 1, "five"), note.Rest(quarterLength=1)],
        [sung("A4", 2, "six", fermata=True), note.Rest(quarterLength=1), sung("B4", 0.5, "sev"), sung("C5", 0.5, "en")],
        [sung("D5", 1, "eight."), sung("E5", 2, "nine", tie="start"), sung("E5", 1, tie="stop")],
        [note.Rest(quarterLength=4)],
    ]
    voice, piano = stream.Part(), stream.Part()
    for i, content in enumerate(bars):
        m = stream.Measure(number=i + 1)
        if i == 0:
            m.append(meter.TimeSignature("4/4"))
            m.append(tempo.MetronomeMark(number=60))
        for el in content:
            m.append(el)
        if i == 1:
            m.rightBarline = bar.Barline("double")  # "five" has no stop, but the double bar ends it
        voice.append(m)
        pm = stream.Measure(number=i + 1)
        pm.append(note.Note("C3", quarterLength=4))
        piano.append(pm)
    score = stream.Score()
    score.insert(0, piano)  # the voice need not come first: it is the part with the words
    score.insert(0, voice)
    return score


def test_each_rest_of_the_voice_is_an_ending_a_comma_or_a_breath():
    notes, gaps = voice_line(song())
    assert [p for _, _, p, _ in notes] == [60, 62, 64, 65, 67, 69, 71, 72, 74, 76]  # the tie is one note
    assert notes[-1][:2] == pytest.approx((13.0, 16.0))
    by_word = {notes[i][2]: cls for i, cls in gaps}
    assert by_word == {62: "comma", 65: "breath", 67: "end", 69: "end", 76: "end"}
    # "eight." ends a sentence but the voice sings straight on: no rest, nothing to label.
    assert 74 not in by_word


def line(phrases, each=0.25):
    """Phrases of a C major line: each (pitches, its last note's length, the rest after it, class)."""
    notes, gaps, t = [], [], 0.0
    for pitches, last, rest, cls in phrases:
        for k, p in enumerate(pitches):
            d = last if k == len(pitches) - 1 else each
            notes.append([t, t + d, p, 80])
            t += d
        gaps.append((len(notes) - 1, cls))
        t += rest
    return notes, gaps


ENDING = ([60, 64, 67, 65, 64, 62, 60], 1.0, 1.2, "end")  # down to the tonic, held, a long rest
BREATH = ([60, 62, 64, 65, 67, 69, 71], 0.25, 0.3, "breath")  # up to the leading tone, a short rest


def test_each_labelled_rest_is_heard_as_a_live_call(tiny_model):  # noqa: F811
    notes, gaps = line([BREATH, ENDING, BREATH, BREATH, ENDING])
    rows = listen(OnnxModel(tiny_model), notes, gaps, layers=(1,))
    assert [cls for _, cls, _, _ in rows] == ["breath", "end", "breath", "breath", "end"]
    assert [round(rest, 2) for _, _, rest, _ in rows[:4]] == [0.3, 1.2, 0.3, 0.3]
    x = rows[2][0]
    assert len(x) == 32 + len(CALL_FEATURES) + 1  # the state's layer, the call's features, its pace
    assert x[-1] == pytest.approx(0.25)  # the call since the last ending: its notes a quarter of a second apart
    assert all(0.15 <= odds <= SILENCE for *_, odds in rows)  # the gap-odds rule's moment, for comparison


def test_rests_are_judged_at_each_moment_of_their_silence():
    x = np.array([[1.0, 0.25], [2.0, 0.5]])  # a feature, then the call's pace
    xs, ys = expand(x, np.array([1, 0]), np.array([2.0, 0.3]))
    t = moments()
    inner = t[t < 0.3]
    assert len(ys) == len(t) + len(inner) and ys[:len(t)].all() and not ys[len(t):].any()
    assert xs.shape[1] == 1 + len(ELAPSED_FEATURES) and xs[len(t), 0] == 2.0
    p = np.zeros((2, len(t)))
    p[0, 2] = p[1, 1] = 0.9  # the ending called at its third moment, the breath at its second
    at = first_end(p, 0.5)
    assert at.tolist() == pytest.approx([t[2], t[1]])
    f = figures(at, np.array([1, 0]), np.array([2.0, 0.3]))
    assert f["mean_wait"] == pytest.approx(t[2]) and f["inner_rests_ended_inside"] == 1.0
    assert figures(first_end(p, 0.95), np.array([1, 0]), np.array([2.0, 0.3]))["mean_wait"] == SILENCE


def test_the_logistic_fit_finds_the_side_a_feature_points():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    w, b = _fit_logistic(x, (x[:, 1] > 0).astype(float), l2=1.0)
    assert w[1] > 3 * max(abs(w[0]), abs(w[2])) and w[1] > 1


def test_the_head_learns_endings_from_breaths_and_rides_in_the_model(tiny_model, tmp_path):  # noqa: F811
    labels, groups = {}, {}
    for k in range(60):
        piece = f"lieder/Composer{k % 30},_A/Song_{k}/lc{k}"
        notes, gaps = line([BREATH, ENDING, BREATH, ENDING, BREATH, BREATH, ENDING])
        labels[piece] = {"notes": notes, "gaps": gaps}
        groups[f"{piece}/0.mid"] = {"piece": piece, "composer": f"Composer{k % 30}"}
    fitted = fit_head(tiny_model, labels, groups, seed=0, layers=(1,), say=lambda *a: None)
    report, spec = fitted["report"], fitted["spec"]
    assert report["test"]["inner_rests_ended_inside"] <= 0.05
    assert report["test"]["mean_wait"] < 0.3  # these endings are plain: the head hears them at once
    assert report["gap_odds"]["test"]["endings"] == report["test"]["endings"]
    out = tmp_path / "with_head.onnx"
    write_head(tiny_model, out, spec)
    model = OnnxModel(out)
    assert model.metadata["summary"] == OnnxModel(tiny_model).metadata["summary"]  # the rest kept
    head = Listener(model, 0.0).phrase_head
    assert head is not None and head.layers == (1,) and head.threshold == spec["threshold"]
    import onnx

    write_head(out, out, spec)  # written again: one head, not two
    keys = [p.key for p in onnx.load(str(out)).metadata_props]
    assert keys.count("phrase_head") == 1 and "content_hash" in keys
