"""The built-in synth on a running rig: switched on and off (the TUI's S) with the
choice said for the screen to save, offered once when nobody listens to livejam
out and there is an audio device, not offered when something listens. How many
listen is read from the ALSA sequencer's own table (a faithful copy of
/proc/asound/seq/clients here) or JACK's graph (tests/livejam/app/test_jack.py)."""
import time

import pytest

from livejam.app import synth_switch
from livejam.app.nomidi import NoMidiRig
from livejam.conversation.events import Notice, SettingChanged
from livejam.settings.config import LivejamConfig
from livejam.sound import live, synth_link
from tests.waiting import until

ALSA = '''Client info
  cur  clients : 4
  peak clients : 4
  max  clients : 192

Client   0 : "System" [Kernel]
  Port   0 : "Timer" (Rwe-)
  Port   1 : "Announce" (R-e-)
    Connecting To: 128:0
Client  14 : "Midi Through" [Kernel]
  Port   0 : "Midi Through Port-0" (RWe-)
Client 128 : "livejam" [User Legacy]
  Port   0 : "livejam in" (-We-)
    Connected From: 24:0
Client 129 : "livejam" [User Legacy]
  Port   0 : "livejam out" (R-e-)
%s
Client 130 : "Qsynth" [User Legacy]
  Port   0 : "Synth input port (130)" (-We-)
'''


def test_alsa_says_how_many_listen_to_livejam_out():
    assert synth_switch.alsa_listeners(ALSA % "") == 0
    assert synth_switch.alsa_listeners(ALSA % "    Connecting To: 130:0") == 1
    assert synth_switch.alsa_listeners(ALSA % "    Connecting To: 130:0, 131:0[real:0]\n    Connected From: 14:0") == 2
    assert synth_switch.alsa_listeners(ALSA.replace('"livejam out"', '"other"') % "") is None  # no such port


@pytest.fixture
def null_audio(monkeypatch):
    """The synth's own process on miniaudio's null backend: real blocks, no sound card."""
    monkeypatch.setattr(synth_link, "AUDIO", "null")


def said(rig):
    events = []
    rig.engine.subscribe(events.append)
    return events


def test_the_switch_turns_the_synth_on_and_off_and_says_so_for_the_screen_to_save(tiny_model, null_audio):
    rig = NoMidiRig(LivejamConfig.from_dict({"record": False, "model": str(tiny_model)}), "no MIDI")
    events = said(rig)
    try:
        rig.toggle_synth()
        assert rig.audio is not None and rig.audio.output in rig.engine.scheduler.taps
        assert rig.cfg.synth == "default"
        rig.toggle_synth()
        assert rig.audio is None and rig.engine.scheduler.taps == [] and rig.cfg.synth == ""
    finally:
        rig.stop()
    changes = [e.value for e in events if isinstance(e, SettingChanged) and e.name == "synth"]
    assert changes == ["default", ""]
    assert any(isinstance(e, Notice) and "built-in synth" in e.message for e in events)


def test_a_missing_soundfont_is_one_line_and_the_synth_stays_off(tiny_model, null_audio, tmp_path):
    rig = NoMidiRig(LivejamConfig.from_dict({"record": False, "model": str(tiny_model)}), "no MIDI")
    rig.soundfont = str(tmp_path / "gone.sf2")
    events = said(rig)
    try:
        rig.toggle_synth()
    finally:
        rig.stop()
    problems = [e.message for e in events if type(e).__name__ == "Problem"]
    assert rig.audio is None and rig.cfg.synth == "" and len(problems) == 1 and "gone.sf2 not found" in problems[0]


def test_the_offer_when_nobody_listens_and_there_is_sound(tiny_model, monkeypatch):
    rig = NoMidiRig(LivejamConfig.from_dict({"record": False, "model": str(tiny_model)}), "no MIDI")
    monkeypatch.setattr(synth_switch, "has_audio", lambda api: True)
    assert "press S" in synth_switch.offer_line(rig)
    monkeypatch.setattr(synth_switch, "has_audio", lambda api: False)
    assert synth_switch.offer_line(rig) is None  # no sound device: nothing to offer


def test_no_offer_when_something_listens_or_the_output_is_named(tiny_model, monkeypatch):
    rig = NoMidiRig(LivejamConfig.from_dict({"record": False, "model": str(tiny_model)}), "no MIDI")
    rig.api = 1
    monkeypatch.setattr(synth_switch, "has_audio", lambda api: True)
    monkeypatch.setattr(synth_switch, "listeners", lambda api, port: 1)
    assert synth_switch.offer_line(rig) is None
    monkeypatch.setattr(synth_switch, "listeners", lambda api, port: None)  # CoreMIDI, WinMM: not known
    assert synth_switch.offer_line(rig).startswith("if nothing plays livejam out")
    rig.cfg.output = "Digital Piano"  # a named port: a synth or a DAW gets the answers
    assert synth_switch.offer_line(rig) is None


def test_the_offer_comes_once_after_start_if_the_player_never_chose(tiny_model, monkeypatch):
    monkeypatch.setattr(synth_switch, "OFFER_AFTER", 0.0)
    monkeypatch.setattr(synth_switch, "has_audio", lambda api: True)
    rig = NoMidiRig(LivejamConfig.from_dict({"record": False, "model": str(tiny_model)}), "no MIDI")
    rig.offer_synth = True
    got = []
    rig.engine.subscribe(lambda e: got.append(e) if isinstance(e, Notice) else None)
    rig.start()
    try:
        until(lambda: got, 10)  # the offer's thread
    finally:
        rig.stop()
    assert len(got) == 1 and "press S" in got[0].message


def test_a_sound_device_that_stops_is_said_once_and_livejam_goes_on_over_midi(tiny_model, null_audio, monkeypatch):
    """In livejam's process (as on Windows), where the device can be stopped from here."""
    monkeypatch.setattr(synth_link, "IN_PROCESS", True)
    monkeypatch.setattr(live, "STALLED_SECONDS", 0.2)
    rig = NoMidiRig(LivejamConfig.from_dict({"record": False, "model": str(tiny_model), "synth": "default"}), "no MIDI")
    events = said(rig)
    try:
        assert rig.audio.output in rig.engine.scheduler.taps
        rig.audio.device.stop()  # as a device unplugged: no more blocks asked for
        assert until(lambda: rig.audio.output not in rig.engine.scheduler.taps, 10)
        time.sleep(0.5)  # more than the stall twice over: a second line would have come by now
        problems = [e.message for e in events if type(e).__name__ == "Problem"]
        assert len(problems) == 1 and "sound device" in problems[0], problems
        assert rig.engine.scheduler.taps == []  # nothing piles up for a device that takes no more
        rig.toggle_synth()  # S: the audio opened again
        assert rig.audio is not None and rig.audio.output in rig.engine.scheduler.taps
    finally:
        rig.stop()


def test_the_synths_process_ending_is_said_once_and_livejam_goes_on_over_midi(tiny_model, null_audio):
    """The child killed under it (as by the kernel's out-of-memory killer): one line,
    the tap off the wire, notes still scheduled without waiting on it, S starts a new one."""
    import mido

    rig = NoMidiRig(LivejamConfig.from_dict({"record": False, "model": str(tiny_model), "synth": "default"}), "no MIDI")
    events = said(rig)
    try:
        first = rig.audio
        assert isinstance(first, synth_link.SynthProcess) and first.output in rig.engine.scheduler.taps
        first.proc.kill()
        assert until(lambda: first.output not in rig.engine.scheduler.taps, 10)
        for _ in range(3):  # a write into the dead pipe: no second line, no exception
            first.output.send(mido.Message("note_on", note=60))
        problems = [e.message for e in events if type(e).__name__ == "Problem"]
        assert len(problems) == 1 and "synth" in problems[0] and "MIDI goes on" in problems[0], problems
        assert rig.engine.scheduler.taps == []
        rig.toggle_synth()  # S: a new process
        assert rig.audio is not first and rig.audio.proc.poll() is None
        assert rig.audio.output in rig.engine.scheduler.taps
    finally:
        rig.stop()
    assert first.proc.poll() is not None
