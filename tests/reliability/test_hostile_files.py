"""Hostile MIDI files for the runtime's reader (`livejam respond CALL.mid`): cut at
every byte of a real file, lying chunk lengths, huge delta times, running status with
no status, sysex with lying lengths, not MIDI at all. Each either loads (leniently)
and is answered, or is refused in one line; never a traceback, never a hang.
(The training reader, ingest, has its own hypothesis tests in tests/training.)"""
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livejam.settings.config import LivejamConfig
from livejam.errors import LivejamError
from livejam.midi.sounding import hanging
from livejam.offline.respond import read_call, respond
from tests.conftest import write_melody


@pytest.fixture(scope="module")
def real_file(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("hostile") / "call.mid"
    write_melody(path, seed=3, notes=12)
    return path.read_bytes()


def outcome(data: bytes, tmp_path, name="x.mid"):
    path = tmp_path / name
    path.write_bytes(data)
    try:
        return read_call(path)
    except LivejamError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return None


def test_a_file_cut_at_every_byte_loads_or_is_refused_in_one_line(real_file, tmp_path):
    loaded = 0
    for n in range(len(real_file)):
        call = outcome(real_file[:n], tmp_path)
        loaded += call is not None
    assert loaded < len(real_file)  # most cuts are refused...
    assert outcome(real_file, tmp_path) is not None  # ...and the whole file loads


def track(events: bytes) -> bytes:
    return b"MTrk" + struct.pack(">I", len(events)) + events


HEADER = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
NOTE = b"\x00\x90\x3c\x50\x60\x80\x3c\x00"  # a C, on then off after 96 ticks
END = b"\x00\xff\x2f\x00"


@pytest.mark.parametrize("name, data", [
    ("not MIDI at all", b"RIFF\x00\x00\x00\x00WAVEfmt "),
    ("empty", b""),
    ("chunk length lies long", HEADER + b"MTrk" + struct.pack(">I", 0x7FFFFFFF) + NOTE + END),
    ("chunk length lies short", HEADER + b"MTrk" + struct.pack(">I", 3) + NOTE + END),
    ("running status with no status", HEADER + track(b"\x00\x3c\x50" + NOTE + END)),
    ("sysex that says it is huge", HEADER + track(b"\x00\xf0\x8f\xff\xff\x7f\x01\x02" + NOTE + END)),
    ("meta that says it is huge", HEADER + track(b"\x00\xff\x01\x8f\xff\xff\x7f" + NOTE + END)),
    ("header says 100 tracks", b"MThd" + struct.pack(">IHHH", 6, 1, 100, 480) + track(NOTE + END)),
    ("zero ticks per beat", b"MThd" + struct.pack(">IHHH", 6, 0, 1, 0) + track(NOTE + END)),
])
def test_broken_structure_loads_leniently_or_is_refused_in_one_line(name, data, tmp_path):
    outcome(data, tmp_path)


def test_a_huge_delta_time_is_answered_without_waiting_for_it(tmp_path):
    # A note, then another ~4 days later (the largest delta a file can hold).
    data = HEADER + track(NOTE + b"\xff\xff\xff\x7f\x90\x3e\x50\x60\x80\x3e\x00" + END)
    call = outcome(data, tmp_path)
    assert call is not None and call[-1][0] > 3600
    answer = respond(call, LivejamConfig(seed=1, record=False))
    assert answer and hanging(answer) == {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bytes_mangled_anywhere_load_or_are_refused_in_one_line(real_file, tmp_path, data):
    raw = bytearray(real_file)
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    outcome(bytes(raw), tmp_path)


def test_a_mangled_file_that_loads_is_answered_with_every_note_ended(real_file, tmp_path):
    raw = bytearray(real_file)
    first_on = raw.index(0x90, raw.index(b"MTrk"))
    raw[first_on] = 0xA0  # the first note-on became poly aftertouch: its note-off now ends nothing
    call = outcome(bytes(raw), tmp_path)
    assert call is not None, "the mangled file was meant to load"  # else nothing below would run
    def ons(c):
        return sum(1 for _, m in c if m.type == "note_on" and m.velocity > 0)

    assert ons(call) < ons(outcome(real_file, tmp_path))  # notes fewer (running status too): it took effect
    answer = respond(call, LivejamConfig(seed=1, record=False))
    assert answer and hanging(answer) == {}
