"""The bundled corpus: music21's scores to MIDI, no downloads."""
from collections import defaultdict, deque

from music21 import corpus

from livejam.midi.files import read_messages

from training.bundled import build_bundled, score_notes


def test_notes_match_music21s_own_midi_writer(tmp_path):
    # bwv66.6 has ties across bar lines and four parts.
    score = corpus.parse("bach/bwv66.6")
    ours = sorted((round(a, 3), round(b, 3), p) for a, b, p, _ in score_notes(score))
    score.write("midi", fp=str(tmp_path / "ref.mid"))
    open_, theirs = defaultdict(deque), []  # music21's notes, each key's presses paired first in, first out
    for t, m in read_messages(tmp_path / "ref.mid"):
        if m.type == "note_on" and m.velocity > 0:
            open_[(m.channel, m.note)].append(t)
        elif m.type in ("note_on", "note_off") and open_[(m.channel, m.note)]:
            theirs.append((round(open_[(m.channel, m.note)].popleft(), 3), round(t, 3), m.note))
    theirs.sort()
    shift = theirs[0][0] - ours[0][0]  # music21 may add a start delay
    assert [(round(a + shift, 3), round(b + shift, 3), p) for a, b, p in ours] == theirs


def test_build_writes_midi_and_a_sources_file(tmp_path):
    s = build_bundled(tmp_path / "b", workers=1, limit=4)
    mids = list((tmp_path / "b").rglob("*.mid"))
    assert s["pieces"] == len(mids) >= 4
    text = (tmp_path / "b" / "SOURCES.md").read_text()
    assert "public domain" in text and "| collection | pieces |" in text
