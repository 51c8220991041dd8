"""The watchdog's faults, on the MIDI systems' fakes (tests/midi_systems.py) and with
a real process that stops reading: a watchdog whose send is stuck (RtMidi's JACK
sendMessage spins on a full ring buffer when the server is gone) never blocks
livejam's sends nor its quit, and is replaced with one line; a send that fails is
said once and tried again, a named output replugged between two looks of the port
watcher is opened again, and "back" is said; a reply that comes too late to one
reopen is not taken for the next."""
import os
import subprocess
import sys
import threading

import mido
import pytest

from livejam import pipes
from livejam.midi import system, watchdog
from livejam.midi.watchdog import WatchedOutput
from livejam.midi.watchdog_process import frame, serve
from tests.midi_systems import install, until

# A watchdog whose send is stuck: it opened its port, then takes nothing more.
STUCK = "import threading; print('open livejam out', flush=True); threading.Event().wait()"


def stuck_process(argv):
    return subprocess.Popen([sys.executable, "-c", STUCK], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            bufsize=0, start_new_session=True)


def test_a_watchdog_that_stops_taking_never_blocks_a_send_or_the_quit_and_is_replaced(monkeypatch):
    install(monkeypatch, "alsa")
    monkeypatch.setattr(watchdog, "spawn_process", stuck_process)
    monkeypatch.setattr(pipes, "BEHIND_SECONDS", 0.5)
    monkeypatch.setattr(watchdog, "CLOSE_SECONDS", 0.5)
    said = []
    out = WatchedOutput(system.api_id("alsa"), None, on_restart=said.append)
    first = out.proc

    def play() -> None:  # far more than a pipe holds (64 KiB): a blocking write would stop here
        for k in range(30000):
            out.send(mido.Message("note_on" if k % 2 == 0 else "note_off", note=60, velocity=90 * (k % 2 == 0)))

    sender = threading.Thread(target=play, daemon=True)
    sender.start()
    sender.join(60)
    assert not sender.is_alive(), "a send waited on the watchdog"
    assert until(lambda: any("stopped taking" in line and "started a new one" in line for line in said), 20), said
    assert first.poll() is not None and out.proc is not first  # the stuck one ended, another in its place
    closer = threading.Thread(target=out.close, daemon=True)
    closer.start()
    closer.join(30)
    assert not closer.is_alive(), "quitting waited on a stuck watchdog"
    assert out.proc.poll() is not None


class Flaky:
    """A port whose sends of one pitch fail (a device gone for a moment)."""

    def __init__(self, failing_note: int) -> None:
        self.failing_note, self.sent = failing_note, []

    def send(self, data: bytes) -> None:
        if data[1] == self.failing_note:
            raise OSError("the device is gone")
        self.sent.append(bytes(data))


def test_a_failed_send_is_said_once_and_the_next_ones_are_tried_again():
    port, said = Flaky(62), []
    r, w = os.pipe()
    messages = [bytes([0x90, 60, 90]), bytes([0x90, 62, 90]), bytes([0x80, 62, 0]), bytes([0x90, 64, 90])]
    os.write(w, b"".join(frame(m) for m in messages) + frame(b"bye"))
    assert serve(r, port, said.append) == 0
    os.close(r), os.close(w)
    assert said == ["lost the device is gone", "back"]  # the second failure in a row is not said again
    assert port.sent == [messages[0], messages[3]]  # the one after the failures went out


def test_a_named_output_replugged_between_two_looks_is_opened_again_and_said(monkeypatch, tiny_model):
    graph = install(monkeypatch, "winmm")
    monkeypatch.setattr(watchdog, "RECOVER_SECONDS", 0.05)
    synth = graph.plug("Synth", source=False)
    events = []
    out = WatchedOutput(system.api_id("winmm"), "Synth", on_lost=lambda why, back: events.append(back))
    try:
        out.send(mido.Message("note_on", note=60, velocity=90))
        assert until(lambda: [0x90, 60, 90] in synth.received)
        graph.unplug(synth)
        out.send(mido.Message("note_off", note=60))  # fails: said once
        assert until(lambda: events == [False])
        synth = graph.plug("Synth", source=False)  # the same name again: the watcher saw nothing
        assert until(lambda: _sent_and_heard(out, synth), 10), "the replugged output was never opened again"
        assert until(lambda: events[-1] is True)  # "works again" said
    finally:
        out.close()


def _sent_and_heard(out, synth) -> bool:
    out.send(mido.Message("note_on", note=67, velocity=80))
    return until(lambda: [0x90, 67, 80] in synth.received, 0.2)


def test_a_reopen_reply_that_comes_too_late_is_not_taken_for_the_next(monkeypatch):
    graph = install(monkeypatch, "alsa")
    graph.plug("Synth", source=False)
    out = WatchedOutput(system.api_id("alsa"), "Synth")
    try:
        with out.replied:  # a late reply to an earlier reopen (1), then this one's (2)
            out.replies += ["1 failed too late", "2 open Synth:0"]
        out.requests = 1
        assert out._reply(1.0, 2) == ("open", "Synth:0")
        assert out.replies == []
    finally:
        out.close()


class Stuck:
    """A port whose send never returns (RtMidi's JACK send on a server that is gone)."""

    name = "livejam out"

    def __init__(self, *args) -> None:
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sent.append(bytes(data))
        threading.Event().wait()

    def open(self) -> str:
        return self.name

    def close(self, process_ends: bool = False) -> None:
        pass


@pytest.mark.parametrize("what", ["one send too long", "livejam ended"])
def test_the_watchdog_sees_a_stuck_send_and_livejams_end_while_it_is_stuck(monkeypatch, what):
    """Its pipe is read apart from the sending: before, a send stuck for good hid
    livejam's end, and the watchdog lived on holding the port."""
    from livejam.midi import watchdog_process

    if what == "livejam ended":  # the send alone would not be called stuck yet
        monkeypatch.setattr(watchdog_process, "STUCK_SECONDS", 3600.0)
        monkeypatch.setattr(watchdog_process, "END_SECONDS", 0.2)
    else:
        monkeypatch.setattr(watchdog_process, "STUCK_SECONDS", 0.2)
    read, write = os.pipe()
    gave_up: list[str] = []
    port = Stuck()
    server = threading.Thread(target=serve, args=(read, port, lambda line: None, gave_up.append), daemon=True)
    server.start()
    os.write(write, frame(mido.Message("note_on", note=60, velocity=90).bytes()))
    assert until(lambda: port.sent, 5)
    if what == "livejam ended":
        os.close(write)  # livejam died while the send was stuck
    assert until(lambda: gave_up, 10), "the stuck sending was never noticed"
    assert ("after livejam's end" if what == "livejam ended" else "one send has taken") in gave_up[0]
    if what != "livejam ended":
        os.close(write)  # (the pipe's reader ends on it)


def test_a_stuck_watchdog_process_ends_itself_and_says_why(tmp_path):
    """The real process (its port replaced by one whose send never returns): livejam
    dies mid-send, and the process ends within its deadline, saying it was stuck."""
    script = ("import sys, threading\n"
              "from livejam.midi import watchdog_process as w\n"
              "from tests.reliability.test_watchdog_faults import Stuck\n"
              "w.Port = Stuck\n"
              "w.STUCK_SECONDS = 3600.0\n"
              "w.END_SECONDS = 0.3\n"
              "sys.exit(w.main(['--api', 'jack']))\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=False,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert proc.stdout.readline().startswith(b"open ")
    proc.stdin.write(frame(mido.Message("note_on", note=60, velocity=90).bytes()))
    proc.stdin.close()  # livejam is gone
    rc = proc.wait(30)
    said = proc.stdout.read().decode()
    from livejam.midi.watchdog_process import STUCK_EXIT

    assert rc == STUCK_EXIT and said.startswith("stuck "), (rc, said)


def test_livejam_says_why_a_watchdog_ended_itself_stuck_and_starts_another(monkeypatch):
    install(monkeypatch, "alsa")
    started: list = []

    def says_stuck(argv):
        if started:  # the next one: the fake's watchdog on its thread
            return install_thread(argv)
        started.append(1)
        script = "print('open livejam out', flush=True); print('stuck one send has taken 2.1 s', flush=True)"
        return subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                bufsize=0)

    from tests.midi_systems import WatchdogThread as install_thread

    monkeypatch.setattr(watchdog, "spawn_process", says_stuck)
    said: list[str] = []
    out = WatchedOutput(system.api_id("alsa"), None, on_restart=said.append)
    try:
        assert until(lambda: said, 10)
        assert said[0].startswith("the watchdog's send was stuck (one send has taken 2.1 s): it ended; "
                                  "started a new one"), said
    finally:
        out.close()
