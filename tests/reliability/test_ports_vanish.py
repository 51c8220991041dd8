"""The synth livejam plays into disappears in the middle of an answer and comes
back: reported, re-opened by name, the next call answered there; livejam runs on."""
import mido
import pytest

from livejam.midi import system
from tests.jack import receive

pytestmark = pytest.mark.usefixtures("jack_server")


def synth(api):
    s = system.client("in", api, "vanishing-synth")
    s.open_virtual_port("midi in")
    return s


def heard(s, timeout: float) -> list[mido.Message]:
    """What the synth receives until the first answer note-on (or the timeout)."""
    return receive(s, lambda got: any(m.type == "note_on" and m.velocity > 0 for m in got), timeout)


def test_the_synth_vanishing_mid_answer_and_coming_back(api, livejam):
    s = synth(api)
    lj = livejam("--virtual", "--out", "vanishing-synth:midi in", "--answer-seconds", "4", "--silence", "0.4")
    keys = system.client("out", api, "keys")
    keys.open_port(system.resolve(system.VIRTUAL_IN, keys.get_ports(), "output"))
    try:
        def call(pitches):
            for p in pitches:
                keys.send_message([0x90, p, 90])
                keys.send_message([0x80, p, 0])

        call([60, 64, 67])
        assert any(m.type == "note_on" for m in heard(s, 10)), "no answer reached the synth"
        s.delete()  # gone, mid-answer
        assert lj.wait_event("port_lost", 5), lj.events
        s = synth(api)
        assert lj.wait_event("port_back", 5), lj.events
        call([62, 65])
        assert any(m.type == "note_on" for m in heard(s, 10)), "no answer after the synth came back"
        assert lj.proc.poll() is None
    finally:
        rc = lj.stop()
        keys.delete()
        s.delete()
    assert rc == 0
