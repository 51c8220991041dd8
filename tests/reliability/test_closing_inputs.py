"""Closing an input while a DAW's clock (or a keyboard) streams into it: on ALSA,
CoreMIDI and WinMM python-rtmidi holds the interpreter lock through close_port
while RtMidi waits for the thread inside livejam's callback, which waits for that
lock: quitting or switching ports hung. Now the callback is cancelled and drained
first (midi/ports.py). On the fakes, which record such a close as the hang it
would be (tests/midi_systems.py), with a callback held in flight by the test."""
import threading

import mido
import pytest

from livejam.midi import ports, system
from livejam.timing.wallclock import WallClock
from tests.midi_systems import install
from tests.waiting import until


@pytest.mark.parametrize("kind", ["alsa", "coremidi", "winmm"])
@pytest.mark.parametrize("how", ["close", "lost", "reopen"])
def test_an_input_closed_with_a_callback_in_flight_waits_for_it_and_does_not_hang(monkeypatch, kind, how):
    graph = install(monkeypatch, kind)
    daw = graph.plug("DAW clock", destination=False)
    inside, go_on = threading.Event(), threading.Event()
    got: list[mido.Message] = []

    def sink(msg, t):  # the engine's enqueue, held up here: the callback is in flight
        got.append(msg)
        inside.set()
        assert go_on.wait(10)

    port = ports.InputPort(system.api_id(kind), "DAW clock", sink, WallClock(), timing=True)
    daw.play([0xF8])
    assert inside.wait(5)
    closing = threading.Thread(target={"close": port.close, "lost": port.lost, "reopen": port.reopen}[how])
    closing.start()
    assert until(lambda: port.midi.callback is None, 5)  # cancelled: no callback starts now
    assert closing.is_alive()  # and the close waits for the one in flight
    go_on.set()
    closing.join(5)
    assert not closing.is_alive()
    assert graph.hangs == []  # (the fixture in tests/conftest.py checks it too)
    assert [m.type for m in got] == ["clock"]
