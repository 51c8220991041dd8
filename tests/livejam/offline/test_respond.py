"""`livejam respond`: a MIDI file in, the answer out as MIDI or audio."""
import wave

import mido
import numpy as np
import pytest

from livejam.app import cli
from livejam.midi.sounding import hanging
from tests.conftest import write_melody


@pytest.fixture
def call(tmp_path):
    write_melody(tmp_path / "call.mid", seed=5, notes=10)
    return tmp_path / "call.mid"


def test_answer_as_midi(call, tmp_path, tiny_model, capsys):
    cli.main(["respond", str(call), "-o", str(tmp_path / "a.mid"), "--model", str(tiny_model), "--seed", "3"])
    assert "answer notes" in capsys.readouterr().out
    mid = mido.MidiFile(str(tmp_path / "a.mid"))
    assert [t.name for t in mid.tracks] == ["call", "livejam"]
    t, timed = 0, []
    for m in mid.tracks[1]:
        t += m.time
        timed.append((t, m))
    first = next((t for t, m in timed if m.type == "note_on" and m.velocity > 0), None)
    assert first is not None and hanging(timed) == {}
    call_end = sum(m.time for m in mid.tracks[0] if True) / 960
    assert abs(first / 960 - (call_end + 0.8)) < 0.05  # answers when the silence is up


def test_same_seed_same_answer(call, tmp_path, tiny_model):
    for name in ("a", "b"):
        cli.main(["respond", str(call), "-o", str(tmp_path / f"{name}.mid"), "--model", str(tiny_model), "--seed", "9"])
    assert (tmp_path / "a.mid").read_bytes() == (tmp_path / "b.mid").read_bytes()


def test_answer_as_audio(call, tmp_path, tiny_model):
    cli.main(["respond", str(call), "-o", str(tmp_path / "a.wav"), "--model", str(tiny_model), "--seed", "3"])
    with wave.open(str(tmp_path / "a.wav")) as w:
        assert w.getframerate() == 44100 and w.getnchannels() == 2
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float)
    assert len(audio) / 2 / 44100 > 3
    assert np.sqrt((audio ** 2).mean()) > 100  # a real synth played notes: not silence


def test_errors_are_one_line(tmp_path, tiny_model, capsys):
    (tmp_path / "bad.mid").write_bytes(b"not midi")
    for args in (["respond", str(tmp_path / "bad.mid"), "-o", str(tmp_path / "x.mid")],
                 ["respond", str(tmp_path / "missing.mid"), "-o", str(tmp_path / "x.mid")]):
        with pytest.raises(SystemExit) as e:
            cli.main(args + ["--model", str(tiny_model)])
        assert e.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("livejam: ") and "\n" not in err
