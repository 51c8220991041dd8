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
import time
from typing import Callable

import mido

from ..errors import LivejamError
from ..pipes import Pipe
from .ports import ByName
from .system import VIRTUAL_OUT, api_name
from .watchdog_process import frame

START_SECONDS = 20.0  # the watchdog's Python start and python-rtmidi import, on a loaded machine
REOPEN_SECONDS = 5.0
CLOSE_SECONDS = 2.0  # quitting waits this long at most for the watchdog to take the last releases
RECOVER_SECONDS, RECOVER_TRIES = 0.5, 120  # a named output that failed a send: reopened this often, a minute long


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
    can watch): each message goes into the watchdog's pipe, which never blocks the
    sender (pipes.py). A watchdog that stops taking is replaced, one that fails a
    send says so and sends again when it can; both are said once, in one line."""

    kind = "out"

    def __init__(self, api: int, wanted: str | None, virtual_name: str = VIRTUAL_OUT,
                 on_restart: Callable[[str], None] | None = None,
                 on_lost: Callable[[str, bool], None] | None = None) -> None:
        self.api, self.wanted, self.virtual_name = api, wanted, virtual_name
        self.on_restart, self.on_lost = on_restart, on_lost
        self.lock = threading.RLock()  # starts, restarts, reopens and the close, one at a time; never a send
        self.replies: list[str] = []
        self.replied = threading.Condition()
        self.requests = 0  # reopen requests made: each reply names its own
        self.closing = False
        self.connected = False
        self.ended_why = ""  # why livejam ended the last watchdog itself (it stopped taking)
        self.failing = False  # its port failed a send and has not sent since
        self.name = virtual_name if wanted is None else wanted
        self._start()

    # -- the process -----------------------------------------------------------
    def _start(self) -> None:
        argv = ["--api", api_name(self.api), "--virtual-name", self.virtual_name]
        if self.wanted is not None:
            argv += ["--out", self.name if self.connected else self.wanted]
        proc = spawn_process(argv)  # looked up here: tests put a thread in its place
        self.replies.clear()
        self.proc = proc
        # The one file object of the pipe's write end, kept so closing it closes the fd.
        self.stdin = proc.stdin
        self.pipe = Pipe(proc.stdin.fileno(), lambda why: self._stopped_taking(proc, why), name="livejam-watchdog")
        self.reader = threading.Thread(target=self._read, args=(proc,), name="livejam-watchdog", daemon=True)
        self.reader.start()
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
            word, _, rest = line.decode(errors="replace").rstrip("\n").partition(" ")
            if word in ("lost", "back"):  # a send failed, or works again: said, not a reply
                self.failing = word == "lost"
                if self.on_lost is not None and not self.closing:
                    self.on_lost(rest if word == "lost" else "", word == "back")
                if self.failing and self.wanted is not None:
                    threading.Thread(target=self._recover, name="livejam-watchdog-recover", daemon=True).start()
                continue
            if word == "stuck":  # its send is stuck: it ends itself, and is replaced with this said
                self.ended_why = f"the watchdog's send was stuck ({rest}): it ended"
                continue
            with self.replied:
                self.replies.append(f"{word} {rest}")
                self.replied.notify_all()
        with self.replied:  # the pipe closed: the watchdog is gone
            self.replies.append("gone ")
            self.replied.notify_all()
        if not self.closing and proc is self.proc:
            self._restart()

    def _reply(self, timeout: float, request: int | None = None) -> tuple[str, str]:
        """The next reply (to `request`, a reopen's number: replies to earlier ones,
        come too late, are dropped; a "gone" answers any)."""
        def mine(r: str) -> bool:
            return request is None or r.startswith(f"{request} ") or r.startswith("gone ")

        with self.replied:
            self.replied.wait_for(lambda: any(mine(r) for r in self.replies), timeout)
            for i, r in enumerate(self.replies):
                if mine(r):
                    del self.replies[:i + 1]
                    if request is not None and r.startswith(f"{request} "):
                        r = r.partition(" ")[2]
                    word, _, rest = r.partition(" ")
                    return word, rest
        return "", ""

    def _recover(self) -> None:
        """A named output failed a send: open it by name again until it works (a
        device replugged between two looks of the port watcher keeps its name, so
        the watcher never asks)."""
        for _ in range(RECOVER_TRIES):
            time.sleep(RECOVER_SECONDS)
            if not self.failing or self.closing:
                return
            if self.reopen():
                return

    def _stopped_taking(self, proc, why: str) -> None:
        """The pipe's verdict (under its lock: only hands over). A watchdog that
        stopped taking (its send stuck on a dead server) is ended, so its reader
        starts another; one whose process ended is restarted by its reader anyway."""
        if self.closing or proc is not self.proc or "stopped taking" not in why:
            return
        self.ended_why = why
        threading.Thread(target=proc.kill, name="livejam-watchdog-end", daemon=True).start()

    def _restart(self) -> None:
        with self.lock:
            if self.closing:
                return
            try:
                self.stdin.close()
            except OSError:
                pass
            self.proc.wait()  # it is gone: reap it
            why, self.ended_why = self.ended_why or "the watchdog process died", ""
            try:
                self._start()
            except LivejamError as exc:
                self.connected = False
                self._say(f"{why} and could not be restarted: {exc}")
                return
        self._say(f"{why}; started a new one"
                  + ("" if self.wanted else f" (connect your synth to '{self.virtual_name}' again)"))

    def _say(self, line: str) -> None:
        if self.on_restart is not None:
            self.on_restart(line)

    def _end(self) -> None:
        try:
            self.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    # -- the Output interface --------------------------------------------------
    def send(self, msg: mido.Message) -> None:
        if not self.connected:
            raise LivejamError(f"MIDI output {self.name} is gone")
        self.pipe.write(frame(msg.bytes()))  # never waits; a watchdog that stopped taking is being replaced

    def close(self) -> bool:
        """livejam released everything itself: the watchdog goes home quietly (what
        waits in the pipe first, CLOSE_SECONDS at most: a stuck one cannot hold the quit).
        True if it took everything, its port sending, and ended as asked."""
        with self.lock:
            self.closing = True
            took = self.pipe.write(frame(b"bye")) and self.pipe.drain(CLOSE_SECONDS)
            self.connected = False
            self._end()
            self.reader.join(CLOSE_SECONDS)  # its last lines read: a send that failed on the way out is known
            return took and self.proc.returncode == 0 and not self.failing

    # -- what the port watcher asks besides present() (an output by name can vanish and come back) --
    def lost(self) -> None:
        self.connected = False

    def reopen(self, raise_errors: bool = False) -> bool:
        with self.lock:
            self.requests += 1
            n = self.requests
            if not self.pipe.write(frame(b"reopen %d" % n)):
                return False
            word, rest = self._reply(REOPEN_SECONDS, n)
            if word == "open":
                self.name, self.connected = rest, True
                return True
        if raise_errors:
            raise LivejamError(f"could not open MIDI output {self.wanted}: {rest or 'no answer from the watchdog'}")
        return False
