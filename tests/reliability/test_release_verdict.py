""""stopped: every note released" is said only when it was: a last release that
could not be sent (the synth gone, the watchdog's port failing or its pipe stuck)
is said as such, with the command that frees a stuck synth. On the engine with an
output that refuses, and on the ALSA fake with the watchdog and a synth unplugged."""
import mido

from livejam.app.rig import LiveRig
from livejam.settings.config import LivejamConfig
from tests.midi_systems import install, until


class Refusing:
    name = "gone synth"

    def __init__(self) -> None:
        self.refuse = False

    def send(self, msg: mido.Message) -> None:
        if self.refuse:
            raise OSError("the device is gone")

    def close(self) -> None:
        pass


def test_the_engine_knows_whether_its_last_releases_went_out(rig):
    r = rig(thru=True)
    out = Refusing()
    r.engine.scheduler.output = out
    r.play("note_on", note=60, velocity=90)
    out.refuse = True
    r.engine.stop()
    assert r.engine.released is False
    r2 = rig(thru=True)
    r2.play("note_on", note=60, velocity=90)
    r2.engine.stop()
    assert r2.engine.released is True and r2.out.hanging() == {}


def live_rig(monkeypatch, tiny_model):
    graph = install(monkeypatch, "alsa")
    keys = graph.plug("KeyStep 37", destination=False)
    synth = graph.plug("Synth", source=False)
    rig = LiveRig(LivejamConfig.from_dict({"api": "alsa", "inputs": ["KeyStep"], "output": "Synth", "thru": True,
                                           "record": False, "model": str(tiny_model)}))
    rig.start()
    keys.play([0x90, 60, 90])
    assert until(lambda: [0x90, 60, 90] in synth.received, 10)
    return graph, synth, rig


def test_a_synth_gone_before_the_quit_is_not_said_released(monkeypatch, tiny_model):
    graph, synth, rig = live_rig(monkeypatch, tiny_model)
    graph.unplug(synth)  # its releases cannot reach it now
    rig.stop()
    assert rig.released is False
    assert rig.stopped_line().startswith("stopped, but the last releases did not all reach Synth")
    assert "`livejam panic --out Synth`" in rig.stopped_line()


def test_a_clean_quit_is_said_released(monkeypatch, tiny_model):
    graph, synth, rig = live_rig(monkeypatch, tiny_model)
    rig.stop()
    assert rig.released is True and rig.stopped_line() == "stopped: every note released"
    assert [0x80, 60, 0] in synth.received or [0x90, 60, 0] in synth.received
