"""The bundled corpus: music21's scores to MIDI, no downloads."""
import symusic
from music21 import corpus

from training.bundled import build_bundled, score_notes


def test_notes_match_music21s_own_midi_writer(tmp_path):
    # bwv66.6 has ties across bar lines and four parts.
    score = corpus.parse("bach/bwv66.6")
    ours = sorted((round(a, 3), round(b, 3), p) for a, b, p, _ in score_notes(score))
    score.write("midi", fp=str(tmp_path / "ref.mid"))
    ref = symusic.Score(str(tmp_path / "ref.mid"), ttype="second")
    theirs = sorted((round(float(n.time), 3), round(float(n.time + n.duration), 3), n.pitch)
                    for t in ref.tracks for n in t.notes)
    shift = theirs[0][0] - ours[0][0]  # music21 may add a start delay
    assert [(round(a + shift, 3), round(b + shift, 3), p) for a, b, p in ours] == theirs


def test_build_writes_midi_and_a_sources_file(tmp_path):
    s = build_bundled(tmp_path / "b", workers=1, limit=4)
    mids = list((tmp_path / "b").rglob("*.mid"))
    assert s["pieces"] == len(mids) >= 4
    text = (tmp_path / "b" / "SOURCES.md").read_text()
    assert "public domain" in text and "| collection | pieces |" in text
