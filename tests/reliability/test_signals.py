"""Signals a musician's desktop sends, through JACK: the terminal the TUI runs in
is closed (SIGHUP), and Ctrl-Z suspends headless livejam (SIGTSTP). Neither may
leave a note sounding; after `fg` livejam listens on."""
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

import pytest

from livejam.bench.loopback import Loopback
from livejam.midi import system
from livejam.midi.sounding import hanging
from livejam.model.onnx_model import DEFAULT_MODEL
from tests.jack import judge_releases

pytestmark = pytest.mark.usefixtures("jack_server")


def state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def connect(proc, timeout: float = 60.0) -> Loopback:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, "livejam exited before its ports appeared"
        try:
            return Loopback(system.api_id("jack"), system.VIRTUAL_IN, system.VIRTUAL_OUT)
        except Exception:  # its ports are not there yet
            time.sleep(0.2)
    raise AssertionError("livejam's ports did not appear")


class Screen:
    """The terminal window: reads what the TUI draws, so it never blocks on a full
    pty. Stopped (and joined) before the window closes: a thread still inside
    os.read() would hold the master open, and the kernel would hang up nobody."""

    def __init__(self, master: int) -> None:
        self.master, self.running = master, True
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while self.running:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    return

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        os.close(self.master)


def test_closing_the_terminal_of_the_tui_releases_every_note(tmp_path):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))

    def own_terminal():  # after setsid: the pty becomes this session's controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    settings = tempfile.NamedTemporaryFile(suffix=".toml", delete=False)
    env = {**os.environ, "LIVEJAM_SETTINGS": settings.name, "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "livejam", "play", "--api", "jack", "--virtual", "--model", str(DEFAULT_MODEL),
         "--seed", "1", "--answer-seconds", "8", "--silence", "0.4", "--record-dir", str(tmp_path)],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, preexec_fn=own_terminal)
    os.close(slave)
    screen, lb = Screen(master), None
    try:
        lb = connect(proc)
        lb.play([60, 64, 67], each=0.1)
        assert lb.wait_for(lambda: bool(hanging(lb.messages())), 10), "no answer note sounding"
        screen.close()  # the terminal window is closed: the kernel hangs up the session
        screen = None
        proc.wait(timeout=20)
        lb.wait_for(lambda: hanging(lb.messages()) == {}, 3)
        heard = lb.messages()
    finally:
        if screen is not None:
            screen.close()
        if proc.poll() is None:
            proc.kill()
        if lb is not None:
            lb.close()
        os.unlink(settings.name)
    judge_releases(tmp_path, heard)


def test_ctrl_z_releases_every_note_then_fg_listens_on(livejam, tmp_path):
    lj = livejam("--virtual", "--answer-seconds", "8", "--silence", "0.4", "--record-dir", str(tmp_path))
    lb = Loopback(system.api_id("jack"), system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        lb.play([60, 64, 67], each=0.1)
        assert lb.wait_for(lambda: bool(hanging(lb.messages())), 10), "no answer note sounding"
        lj.proc.send_signal(signal.SIGTSTP)
        assert lb.wait_for(lambda: state(lj.proc.pid) == "T", 5), "Ctrl-Z did not suspend livejam"
        lb.wait_for(lambda: hanging(lb.messages()) == {}, 2)
        while_suspended = hanging(lb.messages())
        assert lj.wait_event("panic", 1), lj.events
        lj.proc.send_signal(signal.SIGCONT)
        answered = sum(e["event"] == "answer" for e in lj.events)
        lb.play([62, 65], each=0.1)
        assert lj.wait_event("answer", 20, count=answered + 1), lj.events  # it listens on after `fg`
        assert lj.stop() == 0
        heard = lb.messages()
    finally:
        lb.close()
    if judge_releases(tmp_path, heard):
        assert while_suspended == {}, while_suspended
