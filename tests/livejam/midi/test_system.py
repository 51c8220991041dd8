"""The MIDI system: port names (exact, unique substring, ambiguous, missing), and
which system livejam finds when none is named."""
import pytest

from livejam.errors import LivejamError
from livejam.midi.system import resolve

PORTS = ["Midi Through:Midi Through Port-0 14:0", "KeyStep 37:KeyStep 37 MIDI 1 20:0", "KeyStep Pro:MIDI 1 24:0"]


def test_exact_then_unique_substring():
    assert resolve(PORTS[1], PORTS, "input") == 1
    assert resolve("keystep 37", PORTS, "input") == 1
    assert resolve("Pro", PORTS, "input") == 2


def test_ambiguous_and_missing_say_what_to_do():
    with pytest.raises(LivejamError, match="several input ports.*give more of the name"):
        resolve("KeyStep", PORTS, "input")
    with pytest.raises(LivejamError, match="livejam devices"):
        resolve("Launchkey", PORTS, "input")


def test_asked_for_no_midi_system_it_tries_jack_after_the_platforms_own(monkeypatch):
    from livejam.midi import system
    from livejam.errors import NoMidiSystem

    def listing(api):
        if system.api_name(api) == "jack":
            return ["kbd:out"], ["synth:in"]
        raise NoMidiSystem("no ALSA sequencer")

    monkeypatch.setattr(system, "list_ports", listing)
    monkeypatch.setattr(system.sys, "platform", "linux")
    api, ins, outs = system.find_system("")
    assert system.api_name(api) == "jack" and outs == ["synth:in"]
    with pytest.raises(NoMidiSystem, match="no ALSA sequencer"):
        system.find_system("alsa")  # asked for by name: no second guess


def test_on_a_pipewire_desktop_the_alsa_sequencer_is_chosen_and_said_as_bridged(monkeypatch, tmp_path):
    """A PipeWire desktop: ALSA's sequencer works (PipeWire bridges it), rtmidi's JACK
    cannot reach PipeWire's JACK. livejam takes the platform's own (ALSA) first and
    says why it works there; without PipeWire it says only "alsa"."""
    from livejam.midi import system
    from livejam.errors import NoMidiSystem

    def listing(api):
        if system.api_name(api) == "alsa":
            return ["Keystation:Keystation MIDI 1 24:0"], ["Midi Through:Midi Through Port-0 14:0"]
        raise NoMidiSystem(system.no_midi_system_message(api))

    monkeypatch.setattr(system, "list_ports", listing)
    monkeypatch.setattr(system.sys, "platform", "linux")
    monkeypatch.delenv("PIPEWIRE_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("PIPEWIRE_REMOTE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    api, ins, _ = system.find_system("")
    assert system.in_words(api) == "alsa" and ins  # no PipeWire socket: plain ALSA
    (tmp_path / "pipewire-0").touch()  # PipeWire's socket, where libpipewire looks for it
    api, ins, _ = system.find_system("")
    assert system.api_name(api) == "alsa" and "PipeWire bridges" in system.in_words(api)
    with pytest.raises(NoMidiSystem, match="cannot reach PipeWire's JACK; leave out --api jack"):
        system.find_system("jack")


class FakeClient:
    """An rtmidi client that notes what was asked of it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def close_port(self) -> None:
        self.calls.append("close_port")

    def delete(self) -> None:
        self.calls.append("delete")


@pytest.mark.parametrize("api_name, process_ends, closed", [
    ("jack", True, False),  # left for the process's end: unregistering can crash libjack
    ("jack", False, True),  # a port switch, a test's rig: closed now
    ("alsa", True, True),  # ALSA has no such race: closed as ever
])
def test_a_jack_client_is_left_to_the_process_end_only_when_it_ends(monkeypatch, api_name, process_ends, closed):
    import sys

    from livejam.midi import system

    from livejam.midi import jack_settle

    monkeypatch.setattr(system, "api_name", lambda api: api_name)
    midi = FakeClient()
    monkeypatch.setattr(jack_settle, "settle", lambda: midi.calls.append("settle"))
    refs = sys.getrefcount(midi)
    system.close_client(midi, 0, process_ends)
    # On JACK the port goes once the server has finished with the graph's changes (jack_settle.py).
    settled = ["settle"] if api_name == "jack" else []
    assert midi.calls == ([*settled, "close_port", "delete"] if closed else [])
    # Left behind, it is kept alive for good: its C++ destructor would unregister the port.
    assert sys.getrefcount(midi) == refs + (0 if closed else 1)


def test_hushing_stderr_from_two_threads_that_overlap_gives_it_back():
    """The synth's audio opening while a port opens: both hush fd 2. The one that
    hushed second used to save the hushed fd and put it back last: stderr stayed
    silenced for the rest of the night."""
    import os
    import threading

    from livejam.midi.system import quiet_stderr

    before = os.fstat(2)
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with quiet_stderr():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with quiet_stderr():
            b_in.set()
            a_out.wait(5)  # A leaves first, while B still hushes
            assert os.fstat(2).st_ino != before.st_ino  # still hushed for B

    ts = [threading.Thread(target=f) for f in (a, b)]
    [t.start() for t in ts]
    [t.join(10) for t in ts]
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
