"""The synth livejam plays into disappears in the middle of an answer and comes
back: reported, re-opened by name, the next call answered there; livejam runs on."""
import mido
import pytest

from livejam.midi import system
from tests.jack import receive
from tests.jack_peer import Peer

pytestmark = pytest.mark.usefixtures("jack_server")


def synth(api):
    return Peer("in", "vanishing-synth", "midi in")  # its own process: unplugging it unregisters nothing here


def heard(s, timeout: float) -> list[mido.Message]:
    """What the synth receives until the first answer note-on (or the timeout)."""
    return receive(s, lambda got: any(m.type == "note_on" and m.velocity > 0 for m in got), timeout)


def test_the_synth_vanishing_mid_answer_and_coming_back(api, livejam):
    s = synth(api)
    lj = livejam("--virtual", "--out", "vanishing-synth:midi in", "--answer-seconds", "4", "--silence", "0.4")
    keys = Peer("out", "keys", target=system.VIRTUAL_IN)
    try:
        def call(pitches):
            for p in pitches:
                keys.send_message([0x90, p, 90])
                keys.send_message([0x80, p, 0])

        def answered(synth_port, pitches) -> bool:
            """A call, played again if no answer came (a JACK server without real-time
            priority drops a whole period's MIDI on an xrun: the call may not arrive)."""
            for _ in range(3):
                call(pitches)
                if any(m.type == "note_on" for m in heard(synth_port, 5)):
                    return True
            return False

        assert answered(s, [60, 64, 67]), "no answer reached the synth"
        s.close()  # gone, mid-answer
        assert lj.wait_event("port_lost", 5), lj.events
        s = synth(api)
        assert lj.wait_event("port_back", 5), lj.events
        assert answered(s, [62, 65]), "no answer after the synth came back"
        assert lj.proc.poll() is None
    finally:
        rc = lj.stop()
        keys.close()
        s.close()
    assert rc == 0


class GoneOutput:
    """A synth that is unplugged (every send fails) until `back` is set."""

    name = "gone"

    def __init__(self) -> None:
        self.back, self.sent = False, []

    def send(self, msg) -> None:
        if not self.back:
            raise OSError("the port is gone")
        self.sent.append(msg)

    def close(self) -> None:
        pass


def test_an_output_that_is_gone_is_said_once_not_once_a_message(tiny_model):
    """With --clock-out, 48 messages a second fail while the synth is away: one line, and one more
    only after a send worked again and then failed."""
    from livejam.conversation.engine import Engine
    from livejam.conversation.events import Problem
    from livejam.model.onnx_model import OnnxModel
    from livejam.offline import driver
    from livejam.settings.config import LivejamConfig
    from livejam.timing.wallclock import FakeClock

    clock, out = FakeClock(), GoneOutput()
    eng = Engine(LivejamConfig.from_dict({"record": False, "bpm": 120, "clock_out": True}), OnnxModel(tiny_model),
                 out, clock=clock)
    said = []
    eng.subscribe(lambda e: said.append(e) if isinstance(e, Problem) else None)
    eng.tempo.restart(clock.now())
    driver.advance(eng, clock, clock.now() + 2.0)
    assert len(said) == 1 and "said once" in said[0].message
    out.back = True
    driver.advance(eng, clock, clock.now() + 0.5)
    assert out.sent and len(said) == 1
    out.back = False
    driver.advance(eng, clock, clock.now() + 2.0)
    assert len(said) == 2
