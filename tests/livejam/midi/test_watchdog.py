"""The watchdog's own logic, without a MIDI system: what it learns from the
messages passing through (notes on every channel, the pedal, a running clock),
the release it sends when livejam dies, and the pipe's records."""
import os

import mido

from livejam.midi.watchdog_process import Keeper, frame, records, serve


def fed(*msgs) -> Keeper:
    k = Keeper()
    for m in msgs:
        k.saw(bytes(m.bytes()))
    return k


def test_it_releases_what_still_sounds_on_every_channel_then_lifts_the_pedal():
    k = fed(mido.Message("note_on", channel=0, note=60, velocity=90),
            mido.Message("note_on", channel=3, note=40, velocity=90),
            mido.Message("note_on", channel=3, note=41, velocity=90),
            mido.Message("note_on", channel=3, note=41, velocity=0),  # a note-off by velocity 0
            mido.Message("control_change", channel=5, control=64, value=127),  # only the pedal here
            mido.Message("note_on", channel=9, note=76, velocity=100),
            mido.Message("note_off", channel=9, note=76))  # a metronome click, over
    out = [mido.Message.from_bytes(b) for b in k.release()]
    assert [(m.channel, m.note) for m in out if m.type == "note_off"] == [(0, 60), (3, 40)]
    assert [(m.channel, m.control) for m in out if m.type == "control_change"] == [
        (ch, c) for ch in (0, 3, 5, 9) for c in (123, 64, 120)]
    assert not any(m.type == "stop" for m in out)


def test_it_stops_a_clock_it_saw_started_and_not_one_already_stopped():
    assert fed(mido.Message("start"), mido.Message("clock")).release()[-1] == bytes([0xFC])
    assert fed(mido.Message("start"), mido.Message("stop")).release() == []
    assert fed(mido.Message("continue")).release() == [bytes([0xFC])]


class Port:
    def __init__(self) -> None:
        self.sent = []

    def send(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def open(self) -> str:
        return "again"


def run(*payloads: bytes):
    r, w = os.pipe()
    os.write(w, b"".join(map(frame, payloads)))
    os.close(w)
    port, said = Port(), []
    rc = serve(r, port, said.append)
    os.close(r)
    return rc, port.sent, said


def test_bye_goes_home_quietly_and_a_closed_pipe_releases():
    on = bytes(mido.Message("note_on", note=60, velocity=90).bytes())
    rc, sent, _ = run(on, b"bye")
    assert rc == 0 and sent == [on]
    rc, sent, _ = run(on)  # livejam died: no bye
    assert rc == 1 and sent[0] == on and sent[1] == bytes([0x80, 60, 0]) and sent[-1] == bytes([0xB0, 120, 0])


def test_records_split_however_the_pipe_delivers_them_and_reopen_is_answered():
    r, w = os.pipe()
    data = b"".join(map(frame, (b"\x90\x3c\x40", b"reopen", b"\x80\x3c\x00")))
    for i in range(len(data)):  # one byte at a time
        os.write(w, data[i:i + 1])
    os.close(w)
    assert list(records(r)) == [b"\x90\x3c\x40", b"reopen", b"\x80\x3c\x00"]
    os.close(r)
    assert run(b"reopen", b"bye")[2] == ["open again"]
