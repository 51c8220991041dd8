"""The rig's stop, on a faithful fake MIDI system: what it hands the MIDI system to
close, and whether the program's end is to take the ports (system.close_client)."""
import pytest

from livejam.app.rig import LiveRig
from livejam.midi import system
from livejam.settings.config import LivejamConfig
from tests.midi_systems import install


@pytest.mark.parametrize("ends", [False, True])
def test_stop_leaves_the_inputs_to_the_process_end_only_when_the_program_ends(monkeypatch, tiny_model, ends):
    graph = install(monkeypatch, "alsa")
    graph.plug("KeyStep 37", destination=False)
    graph.plug("Synth", source=False)
    graph.plug("DAW clock", destination=False)
    closed = []
    real = system.close_client

    def noting(midi, api, process_ends=False):
        closed.append(process_ends)
        real(midi, api, process_ends)

    monkeypatch.setattr(system, "close_client", noting)
    rig = LiveRig(LivejamConfig.from_dict({"api": "alsa", "inputs": ["KeyStep"], "output": "Synth", "record": False,
                                           "clock_port": "DAW clock", "model": str(tiny_model)}))
    rig.process_ends_on_stop = ends  # what cli.py sets for the program's own rig
    rig.start()
    rig.stop()
    # The keyboard, the clock port, and the watchdog's output (a thread here: its process does not end).
    assert closed == [ends, ends, False]
