"""The keyboard corpus command: each collection found and rendered by path, every
piece credited with its licence, failures named with their reason, nothing twice."""
import json
import shutil

import mido
import pytest

from training.keyboard import build_keyboard

LY = r'''\version "2.18.2"
\header { title = "Little Piece" composer = "Somebody" maintainer = "A. Typesetter"
  footer = "Mutopia-2020/01/01-1" license = "Creative Commons Attribution-ShareAlike 4.0" }
\score { \new PianoStaff << \new Staff { \relative c'' { c4 d e f g2 g a4 a a a g1 } }
  \new Staff { \clef bass \relative c { c2 e f e d g c,1 } } >> \layout { } \midi { } }
'''
BROKEN_LY = r'''\version "2.18.2"
\score { \new Staff { c4 d e \undefinedCommand } \midi { } }
'''


def write_midi(path, pitches):
    mid = mido.MidiFile()
    t = mido.MidiTrack()
    mid.tracks.append(t)
    for p in pitches:
        t.append(mido.Message("note_on", note=p, velocity=70, time=0))
        t.append(mido.Message("note_off", note=p, velocity=0, time=240))
    path.parent.mkdir(parents=True, exist_ok=True)
    mid.save(path)


@pytest.fixture
def sources(tmp_path):
    src = tmp_path / "corpus"
    m = src / "mutopia"
    for name, text in (("SomebodyA/little", LY), ("SomebodyA/broken", BROKEN_LY)):
        (m / "ftp" / name).mkdir(parents=True)
        (m / "ftp" / name / f"{name.split('/')[1]}.ly").write_text(text)
    (m / "MANIFEST.tsv").write_text(
        "piece\tcomposer\ttitle\tinstrument\tstyle\tlicense\tfiles\n"
        "ftp/SomebodyA/little\tSomebodyA\tLittle Piece\tPiano\tClassical\tCreative Commons Attribution-ShareAlike 4.0\t1\n"
        "ftp/SomebodyA/broken\tSomebodyA\tBroken Piece\tPiano\tClassical\tPublic Domain\t1\n")
    p = src / "pianomidi"
    write_midi(p / "midis" / "Chopin" / "chp_a.mid", [60, 62, 64, 65, 67, 69, 71, 72] * 3)
    write_midi(p / "midis" / "Chopin" / "chp_tiny.mid", [60, 62])  # too few notes to be music
    (p / "metadata.csv").write_text("composer,title,year,midi,duration\n"
                                    "Chopin,Prelude_A,1839,midis/Chopin/chp_a.mid,10\n"
                                    "Chopin,Tiny,1839,midis/Chopin/chp_tiny.mid,1\n")
    return src


def test_pianomidi_pieces_are_taken_as_they_are_and_credited(sources, tmp_path):
    out = tmp_path / "out"
    s = build_keyboard(sources, out, workers=1, collections=("pianomidi",))
    assert s["pieces"] == 1 and s["share_alike"]
    assert any("chp_tiny" in f and "under 16" in f for f in s["failed"])
    pieces = json.loads((out / "PIECES.json").read_text())
    assert list(pieces) == ["pianomidi/midis/Chopin/chp_a/0.mid"]
    assert pieces["pianomidi/midis/Chopin/chp_a/0.mid"]["composer"] == "Chopin"
    credits = (out / "ATTRIBUTION.md").read_text()
    assert "Bernd Krueger" in credits and "Prelude A" in credits and "CC BY-SA 3.0 DE" in credits
    assert "Tiny" not in credits  # only what the model learned from
    again = build_keyboard(sources, out, workers=1, collections=("pianomidi",))  # done once, not redone
    assert again["pieces"] == 1


@pytest.mark.skipif(shutil.which("lilypond") is not None, reason="LilyPond is installed here")
def test_without_lilypond_mutopia_says_what_to_install(sources, tmp_path):
    with pytest.raises(ValueError, match="apt install lilypond"):
        build_keyboard(sources, tmp_path / "out", workers=1, collections=("mutopia",))


@pytest.mark.skipif(shutil.which("lilypond") is None, reason="LilyPond renders Mutopia; CI does not install it")
def test_mutopia_renders_through_lilypond_and_a_broken_score_is_named(sources, tmp_path):
    out = tmp_path / "out"
    s = build_keyboard(sources, out, workers=2, collections=("mutopia",))
    assert s["pieces"] == 1 and s["by_collection"]["mutopia"]["licences"] == {"CC BY-SA 4.0": 1}
    assert len(s["failed"]) == 1 and s["failed"][0].startswith("mutopia/SomebodyA/broken")
    notes = [m for m in mido.MidiFile(out / "mutopia/SomebodyA/little/0.mid") if m.type == "note_on" and m.velocity]
    assert len(notes) == 18  # both staves (11 + 7), every note
    credits = (out / "ATTRIBUTION.md").read_text()
    assert "A. Typesetter" in credits and "Mutopia-2020/01/01-1" in credits
    assert "mutopia/SomebodyA/broken: rendered 3 notes" in (out / "SOURCES.md").read_text()  # an error, then 3 notes


def test_lieder_scores_are_read_through_music21_voice_and_piano_alike(tmp_path):
    from music21 import chord, note, stream

    src = tmp_path / "corpus"
    folder = src / "lieder" / "scores" / "Schubert,_Franz" / "Op.1" / "Erlkönig"
    folder.mkdir(parents=True)
    voice, piano = stream.Part(), stream.Part()
    for p in ["G4", "A4", "B4", "C5", "D5", "E5", "D5", "C5"] * 2:
        voice.append(note.Note(p, quarterLength=1))
    for _ in range(4):
        piano.append(chord.Chord(["C3", "E3", "G3"], quarterLength=4))
    score = stream.Score([voice, piano])
    score.write("mxl", fp=str(folder / "lc1.mxl"))
    out = tmp_path / "out"
    s = build_keyboard(src, out, workers=1, collections=("lieder",))
    assert s["pieces"] == 1 and s["by_collection"]["lieder"]["licences"] == {"CC0 1.0": 1} and not s["share_alike"]
    notes = [m for m in mido.MidiFile(out / "lieder/Schubert,_Franz/Op.1/Erlkönig/lc1/0.mid")
             if m.type == "note_on" and m.velocity]
    assert len(notes) == 16 + 12
    assert "Schubert: Op.1 / Erlkönig" in (out / "ATTRIBUTION.md").read_text()
