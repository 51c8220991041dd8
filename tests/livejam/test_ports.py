"""Port names: exact, unique substring, ambiguous, missing."""
import pytest

from livejam.errors import LivejamError
from livejam.ports import resolve

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
