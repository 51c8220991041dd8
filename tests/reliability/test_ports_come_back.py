"""Ports that go and come back, on each MIDI system's faithful fake
(tests/midi_systems.py): a keyboard (or the MIDI clock source) unplugged and
plugged back is heard again, under ALSA's new client number too; a second device
with a similar name does not hide a loss; a synth that comes back under a new
name is where the answers and the watchdog go; a port switch that fails changes
nothing. The watcher is driven by hand (check()), so nothing waits on its second."""
import mido
import pytest

from livejam.app.port_switch import switch_ports
from livejam.app.rig import LiveRig
from livejam.conversation.events import MidiClockIn, Played
from livejam.errors import LivejamError
from livejam.settings.config import LivejamConfig
from tests.midi_systems import SYSTEMS, install

pytestmark = pytest.mark.parametrize("kind", SYSTEMS)


class ToldWatchdog:
    """livejam's side of the watchdog, recording what it is told."""

    def __init__(self) -> None:
        self.aimed: list[str] = []

    def aim_at(self, output: str) -> None:
        self.aimed.append(output)

    def set_channels(self, channels) -> None:
        pass


def make_rig(monkeypatch, kind, tiny_model, **cfg):
    graph = install(monkeypatch, kind)
    keys = graph.plug("KeyStep 37", destination=False)
    synth = graph.plug("Synth", source=False)
    daw = graph.plug("DAW clock", destination=False)
    rig = LiveRig(LivejamConfig.from_dict({"api": kind, "inputs": ["KeyStep"], "output": "Synth", "record": False,
                                           "model": str(tiny_model), **cfg}))
    return graph, rig, keys, synth, daw


def heard(rig) -> list:
    """What reached the engine's inbox (the engine thread is not started: it stays there)."""
    out = []
    while not rig.engine.inbox.empty():
        item = rig.engine.inbox.get()
        out.append(item.msg if isinstance(item, (Played, MidiClockIn)) else item)
    return out


def notes(items) -> list[int]:
    return [m.note for m in items if isinstance(m, mido.Message) and m.type == "note_on"]


def reports(rig) -> list[tuple[str, str]]:
    """What the watcher reports, noted on its way to the rig."""
    said, to_rig = [], rig.watcher.report

    def report(kind, name):
        said.append((kind, name))
        to_rig(kind, name)

    rig.watcher.report = report
    return said


def test_a_replugged_keyboard_is_heard_again(monkeypatch, kind, tiny_model):
    graph, rig, keys, _, _ = make_rig(monkeypatch, kind, tiny_model)
    said = reports(rig)
    try:
        keys.play([0x90, 60, 90])
        graph.settle()
        assert notes(heard(rig)) == [60]
        graph.unplug(keys)
        rig.watcher.check()
        keys = graph.plug("KeyStep 37", destination=False)  # ALSA: a new client number, a new name
        rig.watcher.check()
        assert [k for k, _ in said] == ["port_lost", "port_back"]
        keys.play([0x90, 62, 90])
        graph.settle()
        assert notes(heard(rig)) == [62], "the keyboard came back deaf"
    finally:
        rig.watcher.stop()
        rig.stop()


def test_the_midi_clock_source_replugged_is_followed_again(monkeypatch, kind, tiny_model):
    graph, rig, _, _, daw = make_rig(monkeypatch, kind, tiny_model, clock_port="DAW clock")
    reports(rig)
    try:
        graph.unplug(daw)
        rig.watcher.check()
        daw = graph.plug("DAW clock", destination=False)
        rig.watcher.check()
        daw.play([0xFA], [0xF8])  # Start, a tick
        graph.settle()
        assert [m.type for m in heard(rig) if isinstance(m, mido.Message)] == ["start", "clock"]
    finally:
        rig.watcher.stop()
        rig.stop()


def test_a_similar_name_does_not_hide_a_lost_keyboard(monkeypatch, kind, tiny_model):
    graph, rig, keys, _, _ = make_rig(monkeypatch, kind, tiny_model)
    said = reports(rig)
    try:
        graph.plug("KeyStep Pro", destination=False)  # also matches "KeyStep"
        graph.unplug(keys)
        rig.watcher.check()
        assert said[:1] == [("port_lost", "KeyStep 37:KeyStep 37 MIDI 1 21:0" if kind == "alsa" else
                                          "KeyStep 37 0" if kind == "winmm" else "KeyStep 37")], said
    finally:
        rig.watcher.stop()
        rig.stop()


def test_a_synth_back_under_a_new_name_gets_the_answers_and_the_watchdog(monkeypatch, kind, tiny_model):
    graph, rig, _, synth, _ = make_rig(monkeypatch, kind, tiny_model)
    said = reports(rig)
    rig.watchdog = ToldWatchdog()
    try:
        graph.unplug(synth)
        rig.watcher.check()
        with pytest.raises(LivejamError):
            rig.output.send(mido.Message("note_on", note=60, velocity=90))
        synth = graph.plug("Synth", source=False)
        rig.watcher.check()
        assert [k for k, _ in said] == ["port_lost", "port_back"]
        rig.output.send(mido.Message("note_on", note=64, velocity=90))
        assert synth.received == [[0x90, 64, 90]]
        assert rig.watchdog.aimed == [rig.output.name]  # where it is now, whatever ALSA named it
    finally:
        rig.watcher.stop()
        rig.watchdog = None
        rig.stop()


def test_a_port_switch_that_fails_changes_nothing(monkeypatch, kind, tiny_model):
    graph, rig, keys, synth, _ = make_rig(monkeypatch, kind, tiny_model)
    try:
        rig.watch_ports()
        before_in, before_out = list(rig.inputs), rig.output
        with pytest.raises(LivejamError, match="no MIDI input port matches 'Launchkey'"):
            switch_ports(rig, ["KeyStep", "Launchkey"], "Synth")
        assert rig.inputs == before_in and rig.output is before_out
        keys.play([0x90, 67, 90])
        graph.settle()
        assert notes(heard(rig)) == [67]  # the old keyboard still plays
        assert rig.watcher.thread.is_alive()  # and is still watched
        rig.output.send(mido.Message("note_on", note=67, velocity=90))
        assert synth.received[-1] == [0x90, 67, 90]
    finally:
        rig.stop()  # closes each port once (a second close of a deleted port would crash python-rtmidi)
