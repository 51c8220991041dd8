"""livejam killed (kill -9, a crash, the OOM killer) on each MIDI system's faithful
fake (tests/midi_systems.py): the watchdog, which owns the output port, releases
every note on every channel livejam sent on (answers and notes passed through),
lifts the pedal and stops the clock it was sending, to whoever listens: a synth
subscribed to the virtual port (ALSA), a listener livejam cannot see (CoreMIDI),
a named output (WinMM, which has no virtual ports). tests/reliability/
test_sudden_death.py does it through real JACK, with livejam a real process."""

import mido
import pytest

from livejam.app.rig import LiveRig
from livejam.midi.system import VIRTUAL_OUT
from livejam.settings.config import LivejamConfig
from tests.midi_systems import SYSTEMS, MidiIn, install, livejam_dies, until

pytestmark = pytest.mark.parametrize("kind", SYSTEMS)

SENT = [mido.Message("start"),
        mido.Message("note_on", channel=0, note=60, velocity=90),  # the answer
        mido.Message("note_on", channel=1, note=48, velocity=70),  # the player's note, passed through
        mido.Message("control_change", channel=1, control=64, value=127),  # and the pedal
        mido.Message("note_on", channel=0, note=64, velocity=90),
        mido.Message("note_off", channel=0, note=64),
        mido.Message("clock")]


def tag(m: mido.Message) -> str:
    """The scheduler source each message goes out under, as the engine sends it."""
    return "clock" if m.type in ("start", "clock") else "answer" if m.channel == 0 else "thru"


class Synth:
    """Whatever hears livejam's output: a device opened by name, or a listener on
    the virtual port (an ALSA subscription; a CoreMIDI listener the sender cannot see)."""

    def __init__(self, graph, kind: str) -> None:
        self.graph, self.got = graph, []
        if kind == "winmm":
            self.device = graph.plug("Synth", source=False)
            self.listener = None
        else:
            self.device = None
            self.listener = MidiIn(graph, name="synth")

    def listen(self) -> None:
        if self.listener is not None:
            ports = self.listener.get_ports()
            self.listener.open_port(next(i for i, p in enumerate(ports) if VIRTUAL_OUT in p))

    def heard(self) -> list[mido.Message]:
        self.graph.settle()
        if self.device is not None:
            raw = list(self.device.received)
        else:
            raw, ev = [], self.listener.get_message()
            while ev is not None:
                raw.append(ev[0])
                ev = self.listener.get_message()
            self.got += raw
            raw = self.got
        return [mido.Message.from_bytes(m) for m in raw]


def rig_on(monkeypatch, kind, tiny_model):
    graph = install(monkeypatch, kind)
    graph.plug("KeyStep 37", destination=False)
    synth = Synth(graph, kind)
    cfg = {"api": kind, "record": False, "model": str(tiny_model)}
    if kind == "winmm":
        cfg |= {"inputs": ["KeyStep"], "output": "Synth"}
    rig = LiveRig(LivejamConfig.from_dict(cfg))
    synth.listen()
    return rig, synth


def test_killed_mid_answer_every_channel_the_pedal_and_the_clock_are_released(monkeypatch, kind, tiny_model):
    rig, synth = rig_on(monkeypatch, kind, tiny_model)
    try:
        for m in SENT:
            rig.engine.scheduler.send_now(m, tag(m))
        assert until(lambda: len(synth.heard()) == len(SENT)), "the watchdog passes what livejam sends"
        livejam_dies(rig)
        after = synth.heard()[len(SENT):]
        offs = {(m.channel, m.note) for m in after if m.type == "note_off"}
        assert offs == {(0, 60), (1, 48)}  # exactly what still sounded, on both channels
        ccs = [(m.channel, m.control, m.value) for m in after if m.type == "control_change"]
        assert ccs == [(ch, c, 0) for ch in (0, 1) for c in (123, 64, 120)]  # the pedal lifted too
        assert after[-1].type == "stop"  # the DAW following our clock stops
        assert all(after.index(m) > max(after.index(n) for n in after if n.type == "note_off")
                   for m in after if m.type == "control_change")
    finally:
        for p in rig.inputs:
            p.close()
        rig.output.close()


def test_an_orderly_stop_sends_the_watchdog_home_without_a_second_release(monkeypatch, kind, tiny_model):
    rig, synth = rig_on(monkeypatch, kind, tiny_model)
    for m in SENT[1:3]:
        rig.engine.scheduler.send_now(m, tag(m))
    rig.stop()  # livejam's own panic, then `bye`
    heard = synth.heard()
    assert rig.output.proc.returncode == 0
    offs = [m for m in heard if m.type == "note_off"]
    assert sorted((m.channel, m.note) for m in offs) == [(0, 60), (1, 48)]  # once each: livejam's, not the watchdog's too
