"""Ports that go and come back, on each MIDI system's faithful fake
(tests/midi_systems.py) and on the real JACK server: a keyboard (or the MIDI clock source) unplugged and
plugged back is heard again, under ALSA's new client number too; a second device
with a similar name does not hide a loss; a synth that comes back under a new
name is where the answers and the watchdog's release go; a port switch that fails changes
nothing. The watcher is driven by hand (check()), so nothing waits on its second."""
import queue
import time

import mido
import pytest

from livejam.app.port_switch import switch_ports
from livejam.app.rig import LiveRig
from livejam.conversation.events import ClockWaiting, Played
from livejam.errors import LivejamError
from livejam.settings.config import LivejamConfig
from tests.jack import JackGraph
from tests.midi_systems import SYSTEMS, install, livejam_dies, until

pytestmark = pytest.mark.parametrize("kind", [*SYSTEMS, "jack"])


@pytest.fixture
def graph(request, monkeypatch, kind):
    """The MIDI system the rig runs on: a fake one, or the real JACK server with
    this test's own clients as the devices."""
    if kind != "jack":
        return install(monkeypatch, kind)
    request.getfixturevalue("jack_server")
    g = JackGraph()
    request.addfinalizer(g.close)
    return g


@pytest.fixture
def make_rig(graph, kind, tiny_model):
    """A rig on the system's Synth, reading its KeyStep; stopped after the test
    (once: rig.stop() stops the watcher and closes each port, and python-rtmidi
    crashes on a second close of a deleted port)."""
    rigs = []

    def make(**cfg):
        keys = graph.plug("KeyStep 37", destination=False)
        synth = graph.plug("Synth", source=False)
        daw = graph.plug("DAW clock", destination=False)
        rigs.append(LiveRig(LivejamConfig.from_dict({"api": kind, "inputs": ["KeyStep"], "output": "Synth",
                                                     "record": False, "model": str(tiny_model), **cfg})))
        return rigs[-1], keys, synth, daw

    yield make
    for rig in rigs:
        rig.stop()


def heard(rig, count: int, timeout: float = 5.0) -> list:
    """What reaches the engine's inbox (the engine thread is not started: it stays
    there), until `count` items have come; then a moment for any surplus."""
    out, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            item = rig.engine.inbox.get(timeout=0.05 if len(out) >= count else end - time.monotonic())
        except queue.Empty:
            if len(out) >= count:
                break
            continue
        if isinstance(item, ClockWaiting):  # the --clock port's messages wait in their own queue
            while rig.engine.clock_queue:
                out.append(rig.engine.clock_queue.popleft().msg)
            continue
        out.append(item.msg if isinstance(item, Played) else item)
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


def test_a_replugged_keyboard_is_heard_again(graph, make_rig):
    rig, keys, _, _ = make_rig()
    said = reports(rig)
    keys.play([0x90, 60, 90])
    assert notes(heard(rig, 1)) == [60]
    graph.unplug(keys)
    rig.watcher.check()
    keys = graph.plug("KeyStep 37", destination=False)  # ALSA: a new client number, a new name
    rig.watcher.check()
    assert [k for k, _ in said] == ["port_lost", "port_back"]
    keys.play([0x90, 62, 90])
    assert notes(heard(rig, 1)) == [62], "the keyboard came back deaf"


def test_the_midi_clock_source_replugged_is_followed_again(graph, make_rig):
    rig, _, _, daw = make_rig(clock_port="DAW clock")
    reports(rig)
    graph.unplug(daw)
    rig.watcher.check()
    daw = graph.plug("DAW clock", destination=False)
    rig.watcher.check()
    daw.play([0xFA], [0xF8])  # Start, a tick
    assert [m.type for m in heard(rig, 2) if isinstance(m, mido.Message)] == ["start", "clock"]


def test_a_similar_name_does_not_hide_a_lost_keyboard(graph, kind, make_rig):
    rig, keys, _, _ = make_rig()
    said = reports(rig)
    graph.plug("KeyStep Pro", destination=False)  # also matches "KeyStep"
    graph.unplug(keys)
    rig.watcher.check()
    assert said[:1] == [("port_lost", "KeyStep 37:KeyStep 37 MIDI 1 21:0" if kind == "alsa" else
                                      "KeyStep 37 0" if kind == "winmm" else
                                      "KeyStep 37:out" if kind == "jack" else "KeyStep 37")], said


def test_a_synth_back_under_a_new_name_gets_the_answers_and_the_watchdogs_release(graph, make_rig):
    rig, _, synth, _ = make_rig()
    said = reports(rig)
    graph.unplug(synth)
    rig.watcher.check()
    with pytest.raises(LivejamError):
        rig.output.send(mido.Message("note_on", note=60, velocity=90))
    synth = graph.plug("Synth", source=False)  # ALSA: a new client number, a new name
    rig.watcher.check()
    assert [k for k, _ in said] == ["port_lost", "port_back"]
    assert rig.output.name == graph.port_name(synth, 0)
    rig.output.send(mido.Message("note_on", note=64, velocity=90))
    assert until(lambda: synth.received == [[0x90, 64, 90]])
    # The watchdog owns the port: when livejam dies, the release goes there too.
    livejam_dies(rig)
    assert until(lambda: synth.received[-1:] == [[0xB0, 120, 0]]) and [0x80, 64, 0] in synth.received


def test_a_port_switch_that_fails_changes_nothing(graph, make_rig):
    rig, keys, synth, _ = make_rig()
    rig.watch_ports()
    before_in, before_out = list(rig.inputs), rig.output
    with pytest.raises(LivejamError, match="no MIDI input port matches 'Launchkey'"):
        switch_ports(rig, ["KeyStep", "Launchkey"], "Synth")
    assert rig.inputs == before_in and rig.output is before_out
    keys.play([0x90, 67, 90])
    assert notes(heard(rig, 1)) == [67]  # the old keyboard still plays
    assert rig.watcher.thread.is_alive()  # and is still watched
    rig.output.send(mido.Message("note_on", note=67, velocity=90))
    assert until(lambda: synth.received[-1:] == [[0x90, 67, 90]])
