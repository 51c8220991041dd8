"""The last line of defence against a stuck note, on every MIDI system: livejam's
output port lives in a tiny process of its own (watchdog_process.py: no model,
no onnxruntime), and livejam's answers pass through it.

When livejam dies without saying goodbye (kill -9, a crash in a native library,
the OOM killer), the kernel closes the pipe; the watchdog still holds the port,
so it releases every note still on, on every channel (answers, notes passed
through, the metronome), lifts the sustain pedal, sends Stop if MIDI clock was
running, to whoever listens: a synth connected to the virtual port on ALSA or
JACK, a CoreMIDI virtual source's unseen listeners, a named output anywhere.
No connection graph to learn, nothing to tell it but the messages themselves.

If the watchdog itself dies, livejam starts another at once and says so once;
it owns a fresh port, so the engine releases everything through it (a synth
on the virtual port must be connected again: the old port went with it).
"""
from __future__ import annotations

import subprocess
import sys
import threading
from typing import Callable

import mido

from ..errors import LivejamError
from .ports import ByName
from .system import VIRTUAL_OUT, api_name
from .watchdog_process import frame

START_SECONDS = 20.0  # the watchdog's Python start and python-rtmidi import, on a loaded machine
REOPEN_SECONDS = 5.0


# Windows' process-creation flags (subprocess names them only on Windows).
DETACHED_PROCESS, CREATE_NEW_PROCESS_GROUP = 0x00000008, 0x00000200


def spawn_options(platform: str = sys.platform) -> dict:
    """How the watchdog is started apart from livejam's terminal, so what ends livejam
    there does not end it too: a Ctrl-C, a hang-up, a console window closing. POSIX:
    a session of its own. Windows: no console at all (closing livejam's console
    sends every process attached to it CTRL_CLOSE_EVENT, and the default handler
    ends them at once), and a process group of its own (no Ctrl-C or Ctrl-Break)."""
    if platform.startswith("win"):
        return {"creationflags": DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def spawn_process(argv: list[str]):
    """The watchdog as its own process (tests may run it on a thread instead)."""
    return subprocess.Popen([sys.executable, "-m", "livejam.midi.watchdog_process", *argv],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, **spawn_options())


class WatchedOutput(ByName):
    """livejam's output (the Output interface of outputs.py, and a port the watcher
    can watch): each message goes into the watchdog's pipe, one write each."""

    kind = "out"

    def __init__(self, api: int, wanted: str | None, virtual_name: str = VIRTUAL_OUT,
                 on_restart: Callable[[str], None] | None = None) -> None:
        self.api, self.wanted, self.virtual_name, self.on_restart = api, wanted, virtual_name, on_restart
        self.lock = threading.RLock()  # one writer at a time; a restart in between
        self.replies: list[str] = []
        self.replied = threading.Condition()
        self.closing = False
        self.connected = False
        self.name = virtual_name if wanted is None else wanted
        self._start()

    # -- the process -----------------------------------------------------------
    def _start(self) -> None:
        argv = ["--api", api_name(self.api), "--virtual-name", self.virtual_name]
        if self.wanted is not None:
            argv += ["--out", self.name if self.connected else self.wanted]
        self.proc = spawn_process(argv)  # looked up here: tests put a thread in its place
        self.pipe = self.proc.stdin  # unbuffered: each record is one write(), atomic under PIPE_BUF
        self.replies.clear()
        threading.Thread(target=self._read, args=(self.proc,), name="livejam-watchdog", daemon=True).start()
        word, rest = self._reply(START_SECONDS)
        if word != "open":
            self.closing = True  # its reader must not start another
            self._end()
            what = f"MIDI output {self.wanted}" if self.wanted else "the virtual MIDI output"
            raise LivejamError(f"could not open {what}: {rest or 'the watchdog did not start'} "
                               "(is another program holding it?)")
        self.name, self.connected = rest, True

    def _read(self, proc) -> None:
        for line in proc.stdout:
            with self.replied:
                self.replies.append(line.decode(errors="replace").rstrip("\n"))
                self.replied.notify_all()
        with self.replied:  # the pipe closed: the watchdog is gone
            self.replies.append("gone ")
            self.replied.notify_all()
        if not self.closing and proc is self.proc:
            self._restart()

    def _reply(self, timeout: float) -> tuple[str, str]:
        with self.replied:
            self.replied.wait_for(lambda: any(not r.startswith("lost ") for r in self.replies), timeout)
            for i, r in enumerate(self.replies):
                if not r.startswith("lost "):
                    del self.replies[i]
                    word, _, rest = r.partition(" ")
                    return word, rest
        return "", ""

    def _restart(self) -> None:
        with self.lock:
            if self.closing:
                return
            try:
                self.pipe.close()
            except OSError:
                pass
            self.proc.wait()  # it is gone: reap it
            try:
                self._start()
            except LivejamError as exc:
                self.connected = False
                self._say(f"the watchdog process died and could not be restarted: {exc}")
                return
        self._say("the watchdog process died; started a new one"
                  + ("" if self.wanted else f" (connect your synth to '{self.virtual_name}' again)"))

    def _say(self, line: str) -> None:
        if self.on_restart is not None:
            self.on_restart(line)

    def _end(self) -> None:
        try:
            self.pipe.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    # -- the Output interface --------------------------------------------------
    def send(self, msg: mido.Message) -> None:
        with self.lock:
            if not self.connected:
                raise LivejamError(f"MIDI output {self.name} is gone")
            self._put(msg.bytes())

    def _put(self, payload: bytes) -> bool:
        try:
            self.pipe.write(frame(payload))
            return True
        except (OSError, ValueError):
            return False  # the watchdog died this instant (its reader restarts it), or was sent home

    def close(self) -> None:
        """livejam released everything itself: the watchdog goes home quietly."""
        with self.lock:
            self.closing = True
            self._put(b"bye")
            self.connected = False
            self._end()

    # -- what the port watcher asks besides present() (an output by name can vanish and come back) --
    def lost(self) -> None:
        with self.lock:
            self.connected = False

    def reopen(self, raise_errors: bool = False) -> bool:
        with self.lock:
            if not self._put(b"reopen"):
                return False
            word, rest = self._reply(REOPEN_SECONDS)
            if word == "open":
                self.name, self.connected = rest, True
                return True
        if raise_errors:
            raise LivejamError(f"could not open MIDI output {self.wanted}: {rest}")
        return False
