"""A feedback loop: livejam's output routed back to its input (a DAW monitoring
the track). With thru on, messages would circle for ever; the loop is found,
said once, thru pauses, and the echoes never reach the conversation or the
recording as the player's. A player's own fast repeated note is not a loop.
The engine on a fake clock, its output patched back to its input; then through JACK."""
import signal
import subprocess

import mido
import pytest

from livejam.midi import system
from livejam.midi.outputs import RecordingOutput
from tests.jack import receive  # noqa: F401
from livejam.bench.loopback import Loopback

LOOP_SECONDS = 0.004  # a JACK period or so, out and back in


CABLE_LIMIT = 2000  # messages the cable carries back: a loop that is never found ends the test, failing


class Patched(RecordingOutput):
    """The synth, and a cable from livejam out back to livejam in."""

    def __init__(self, clock, engine=None) -> None:
        super().__init__(clock)
        self.engine = engine

    def send(self, msg) -> None:
        super().send(msg)
        if self.engine is not None and len(self.messages) < CABLE_LIMIT:
            self.engine.feed_midi(msg, self.clock.now() + LOOP_SECONDS)


def loop_rig(rig, **cfg):
    r = rig(**cfg)
    out = Patched(r.clock, r.engine)
    r.engine.scheduler.output = r.out = out
    return r


def test_thru_into_a_loop_is_found_said_once_and_paused(rig):
    r = loop_rig(rig, thru=True, answer_seconds=1.0)
    r.phrase(pitches=(60, 62, 64, 65, 67))
    r.run(0.1)
    problems = [d["message"] for k, d in r.events() if k == "error"]
    assert len(problems) == 1 and problems[0].startswith("feedback loop")
    assert r.cfg.thru is False
    r.run(3.0)  # the answer plays into the loop too
    assert len(r.out.messages) < 200  # nothing circled
    assert r.engine.inbox.qsize() == 0 and r.conv.state == "waiting"
    kinds = [k for k, _ in r.events()]
    # The call answered once; the answer's echoes never heard as an interruption or a call of their own.
    assert kinds.count("phrase") == 1 and "interrupted" not in kinds and r.engine.answers == 1
    assert r.out.hanging() == {}


def test_answers_looped_back_with_thru_off_do_not_cut_the_answer_or_become_a_call(rig):
    r = loop_rig(rig, answer_seconds=2.0)
    r.phrase()
    r.run(3.0)
    kinds = [k for k, _ in r.events()]
    assert "interrupted" not in kinds and kinds.count("phrase") == 1 and r.engine.answers == 1


def test_a_players_fast_repeated_note_at_one_velocity_is_not_a_loop(rig):
    r = rig(thru=True)
    for _ in range(12):  # 12 strikes a second, fixed velocity, through thru (no loop)
        r.play("note_on", note=60, velocity=100)
        r.run(0.04)
        r.play("note_off", note=60, velocity=0)
        r.run(0.043)
    assert not [k for k, _ in r.events() if k == "error"] and r.cfg.thru
    assert sum(1 for _, m in r.out.notes_on()) == 12


@pytest.mark.usefixtures("jack_server")
def test_livejam_out_patched_to_livejam_in_through_jack(api, livejam):
    lj = livejam("--virtual", "--thru", "--answer-seconds", "1", "--silence", "0.5")
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    ports = subprocess.run(["jack_lsp"], capture_output=True, text=True, check=True).stdout.split("\n")
    out = next(p for p in ports if p.endswith(":livejam out") and p.startswith("livejam"))
    inp = next(p for p in ports if p.endswith(":livejam in") and p.startswith("livejam"))
    subprocess.run(["jack_connect", out, inp], check=True)
    try:
        lb.play([60, 64, 67], each=0.1)
        assert lj.wait_event("error", 10), lj.events
        said = [e["message"] for e in lj.events if e["event"] == "error"]
        assert len(said) == 1 and said[0].startswith("feedback loop")
        assert lj.wait_event("answer", 10), lj.events
        assert not [e for e in lj.events if e["event"] == "interrupted"]
    finally:
        lb.close()
    assert lj.stop(signal.SIGINT) == 0
