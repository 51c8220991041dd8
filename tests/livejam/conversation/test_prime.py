"""`--prime FILE.mid`: a file's notes fed to live adaptation before the first call,
as if the player had played them (the drum channel left out, the pedal folded in);
F forgets them with the rest; a file that will not do is one line. The engine on a
fake clock; the style it moves answers toward is measured in `bin/train judge`."""
import mido
import pytest

from livejam.conversation.events import Notice, Problem
from livejam.errors import LivejamError
from livejam.midi.files import write_tracks


@pytest.fixture
def whole_tone(tmp_path):
    path = tmp_path / "whole tone.mid"
    write_tracks(path, [("prime", [(0.25 * k, 0.25 * k + 0.2, 60 + 2 * (k % 6), 80) for k in range(24)])])
    return path


def test_a_primed_engine_starts_with_the_files_notes_learned(rig, whole_tone):
    r = rig(prime=str(whole_tone))
    assert r.engine.primed == 24 and r.conv.style.size == 24
    assert set(int(p) % 12 for p in range(60, 72, 2)) == {pc for pc in range(12) if r.conv.style.pc[pc] > 0.5}
    r.engine.command("forget")
    r.run(0.01)
    assert r.conv.style.size == 0  # F forgets the primed notes with the rest


def test_priming_while_playing_is_said_and_learned(rig, whole_tone):
    r = rig()
    r.phrase((60, 62))  # two notes of the player's own first
    before = r.conv.style.size
    r.engine.command("prime", str(whole_tone))
    r.run(0.01)
    said = [e for e in r.said if isinstance(e, Notice)]
    assert r.conv.style.size == before + 24
    assert said and said[-1].message.startswith("live adaptation primed with 24 notes of whole tone.mid")


def test_the_drum_channel_is_not_learned(rig, tmp_path):
    path = tmp_path / "drums.mid"
    from livejam.midi.files import write_messages

    hits = [(0.1 * k, mido.Message("note_on", channel=9, note=36, velocity=100)) for k in range(8)]
    write_messages(path, [("drums", hits), ("melody", [(0.0, mido.Message("note_on", note=64, velocity=80)),
                                                       (0.5, mido.Message("note_off", note=64))])])
    r = rig(prime=str(path))
    assert r.engine.primed == 1


def test_a_file_that_will_not_do_is_one_line(rig, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not MIDI")
    with pytest.raises(LivejamError, match=r"^cannot prime from .*notes.txt: .*\(give a standard MIDI file\)$"):
        rig(prime=str(bad))
    empty = tmp_path / "empty.mid"
    write_tracks(empty, [("nothing", [])])
    r = rig()
    r.engine.command("prime", str(empty))
    r.run(0.01)
    problems = [e.message for e in r.said if isinstance(e, Problem)]
    assert problems == [f"cannot prime from {empty}: it has no notes"]
    r.engine.command("prime", str(tmp_path / "missing.mid"))
    r.run(0.01)
    assert len([e for e in r.said if isinstance(e, Problem)]) == 2
