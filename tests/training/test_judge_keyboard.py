"""The keyboard judge's measures: each feature reads what it names, the
overlapping area is 1 for one distribution and near 0 for disjoint ones, calls are
cut from a piece with what it really played next."""
import numpy as np
import pytest

from livejam.conversation.call import estimate_key
from training.judge_keyboard import CALL_SECONDS, features, overlap_area

# Four beats of a C major chord under a melody in eighths (120 bpm), then a bass octave.
CHORDS = [(b * 0.5, b * 0.5 + 0.5, p, 70) for b in range(4) for p in (48, 52, 55)]
MELODY = [(i * 0.25, i * 0.25 + 0.25, p, 90) for i, p in enumerate([72, 74, 76, 77, 79, 77, 76, 74])]


def test_features_read_what_they_name():
    f = features(CHORDS + MELODY, estimate_key(CHORDS + MELODY))
    assert f["range"] == 79 - 48
    assert f["chords"] == pytest.approx(0.5)  # the beats carry the chord, the off-beats the melody alone
    assert f["ioi"] == pytest.approx(0.25)
    assert f["length"] == pytest.approx(0.5)  # 12 chord notes of 0.5 s, 8 melody notes of 0.25 s
    assert f["polyphony"] == pytest.approx(4.0)
    assert f["rate"] == pytest.approx(20 / 2.0)
    assert f["in_key"] == 1.0
    line = features(MELODY)
    assert line["chords"] == 0.0 and line["polyphony"] == pytest.approx(1.0)
    assert line["pc_entropy"] == pytest.approx(-(3 * 0.25 * np.log2(0.25) + 2 * 0.125 * np.log2(0.125)))
    f_sharp = [(s, e, p + 6, v) for s, e, p, v in MELODY]
    assert features(f_sharp, estimate_key(MELODY))["in_key"] < 0.5


def test_overlapping_area_is_one_for_the_same_and_near_zero_apart():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 400)
    assert overlap_area(a, a) == pytest.approx(1.0, abs=0.01)
    assert overlap_area(a, rng.normal(0, 1, 400)) > 0.85
    assert overlap_area(a, rng.normal(8, 1, 400)) < 0.01
    assert 0.2 < overlap_area(a, rng.normal(2, 1, 400)) < 0.5  # two normals 2 sd apart share 0.32


def test_calls_are_cut_with_what_the_piece_played_next(tmp_path):
    from livejam.midi.files import write_tracks
    from training.data import ingest
    from training.judge_keyboard import cut_calls

    notes = [(i * 0.25, i * 0.25 + 0.2, 60 + i % 12, 80) for i in range(200)]  # 50 s, a rising line
    write_tracks(tmp_path / "piece.mid", [("p", notes)])
    corpus = ingest(tmp_path, quiet=True)
    pairs = cut_calls(corpus, [0], per_piece=3, seed=1)
    assert len(pairs) == 3
    for p in pairs:
        call, cont = p["call"], p["continuation"]
        assert call[:, 0].min() >= 0 and call[:, 1].max() <= CALL_SECONDS + 1e-6
        assert cont[:, 0].min() >= 0 and cont[:, 0].max() < CALL_SECONDS
        # The continuation is the piece's next notes: the line goes on by its step.
        assert (cont[0, 2] - call[-1, 2]) % 12 == 1


def test_the_judge_scores_held_out_pieces_and_composers_and_answers_them(tiny_corpus, tmp_path):
    import json
    import shutil

    from livejam.model.onnx_model import DEFAULT_MODEL
    from training.data import find_midi_files
    from training.judge_keyboard import judge_keyboard, report_keyboard

    root = tmp_path / "kb"
    shutil.copytree(tiny_corpus, root, ignore=shutil.ignore_patterns(".livejam-cache"))
    files = [str(f.relative_to(root)) for f in find_midi_files(root)]
    # Forty pieces by forty composers: the small ones the split holds out whole land in the test split.
    (root / "PIECES.json").write_text(json.dumps(
        {f: {"piece": f, "collection": "x", "composer": f"Poet{i}A", "title": f, "licence": "CC0 1.0"}
         for i, f in enumerate(files)}))
    r = judge_keyboard(DEFAULT_MODEL, root, {"again": str(DEFAULT_MODEL)}, per_piece=2, max_calls=8)
    held = r["nll"]["composers held out"]
    assert held["pieces"] >= 1 and held["composers"] == held["pieces"]
    assert held["model"] == pytest.approx(held["again"]) and 0 < held["model"] < held["ngram"] * 3
    f = r["features"]["model"]
    assert 0 < f["phrases"] <= 8 and f["phrases"] % 2 == 0
    assert 0 <= f["answers_vs_continuations"]["mean"] <= 1 and 0 <= f["ceiling"]["mean"] <= 1
    assert "composers held out" in report_keyboard(r) and "ceiling" in report_keyboard(r)
