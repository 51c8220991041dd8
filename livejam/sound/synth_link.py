"""livejam's side of the built-in synth's own process (POSIX; synth_process.py is
the process itself): the tap that writes into its pipe, and the process handle.

Why a process: livejam's engine, model, screen and MIDI threads share one
interpreter lock; an audio callback in their process waits for it now and then,
and JACK's deadline passes (with the TUI on, 30-41 xruns naming livejam-synth in
3 minutes on a real-time JACK; docs/BENCHMARKS.md). In a process that holds only
the synth, the audio callback is the one Python thread at work: the process's
main thread sleeps until livejam ends.

The wire between them: each message the synth plays goes into the child's stdin
as one 16-byte record (`SynthTap`), stamped with when it was due on the machine's
monotonic clock, which both processes read (`time.perf_counter`). The audio
callback reads the pipe itself at the start of each cycle (`PipedOutput`: no
thread has to wake for it) and renders each message at its sample, as live.py
does in-process. The child says `ready`, `error` or `lost` in lines on its
stdout. A second pipe, never written, tells it livejam is gone: its end (livejam
quit, crashed or was killed -9) silences the voices and ends the process, so no
voice outlives livejam.

Windows keeps the synth in livejam's process (live.py): a pipe there cannot be
written without waiting before Python 3.12, and the scheduler must never wait."""
from __future__ import annotations

import collections
import json
import mmap
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable

from ..errors import LivejamError
from ..pipes import Pipe
from .live import CHANNEL_TYPES, ROLES

RECORD = struct.Struct("<dBBB3s2x")  # due time, kind, role, length, MIDI bytes: 16 bytes, atomic in a pipe
SEND, CUT, ALL_OFF = 0, 1, 2
OTHER = 255  # a source that is no role (a panic's CCs): every lane of its channel
STARTUP_SECONDS = 20.0  # a large SoundFont takes seconds to load
TAKE_RECORDS = 256  # read in one audio cycle at most: a burst's rest waits in the pipe for the next cycles
IN_PROCESS = os.name != "posix"  # Windows: in livejam's process (see above)
AUDIO = "auto"  # JACK if a server runs, else the default device (live.open_audio says the others)


class SynthTap:
    """The scheduler's tap (send, cut, close) writing records into the child's
    stdin through a pipe that never waits (pipes.py): a pipe that is full for once
    (a panic's burst on a machine with small pipes) keeps the rest in order for a
    flushing thread; nothing is dropped, so no note-off is lost."""

    name = "built-in synth"

    def __init__(self, fd: int, clock, on_gone: Callable[[str], None], board=None) -> None:
        if sys.platform == "win32":  # (a check mypy --platform win32 reads)
            raise RuntimeError("the synth's own process is POSIX only (IN_PROCESS)")
        self.clock, self.on_gone = clock, on_gone
        self.board, self.count = board, 0  # the count of writes the child looks at (see PipedOutput)
        self.pipe = Pipe(fd, on_gone, name="livejam-synth", on_wrote=self._wrote)

    def send(self, msg, source: str = "answer", at: float | None = None) -> None:
        if msg.type in CHANNEL_TYPES:  # clock and Start/Stop are for the wire only
            data = bytes(msg.bytes())
            self.pipe.write(RECORD.pack(self.clock.now() if at is None else at, SEND, _role(source), len(data), data))

    def cut(self, source: str) -> None:
        self.pipe.write(RECORD.pack(self.clock.now(), CUT, _role(source), 0, b""))

    def close(self) -> None:
        self.pipe.write(RECORD.pack(self.clock.now(), ALL_OFF, OTHER, 0, b""))

    def _wrote(self) -> None:  # under the pipe's lock, after a write: the child reads the pipe once it sees this
        self.count += 1
        if self.board is not None:
            self.board[0] = self.count


def _role(source: str | None) -> int:
    return ROLES.index(source) if source in ROLES else OTHER


class SynthProcess:
    """The child process with its audio (JACK's ports or the default device), and
    the tap that feeds it. Opening waits until it sounds or says why it cannot."""

    def __init__(self, soundfont: str | None, clock, volume: float = 0.8, programs: dict[str, int] | None = None,
                 on_lost: Callable[[str], None] | None = None, name: str = "livejam-synth", audio: str | None = None,
                 on_fault: Callable[[str], None] | None = None) -> None:
        self.on_fault = on_fault  # a fault the synth got over (said, not latched)
        self.on_lost, self.closing, self.said, self.saying = on_lost, False, False, threading.Lock()
        self.tail: collections.deque[str] = collections.deque(maxlen=4)  # the child's last other lines (a traceback)
        self.names: list[str] = []
        self.via = ""  # which JACK its audio plays through ("PipeWire's JACK"), where it is JACK's
        self.ready = threading.Event()
        self.error: str | None = None
        args = {"soundfont": soundfont, "volume": volume, "programs": programs or {}, "name": name,
                "audio": audio or AUDIO}
        life, self.life = os.pipe()  # never written: its end is livejam's end
        self.board = tempfile.TemporaryFile()  # 8 bytes both map: how many writes livejam has made
        self.board.truncate(8)
        args["board"] = self.board.fileno()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "livejam.sound.synth_process", json.dumps(args), str(life)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(life, self.board.fileno()),
                start_new_session=True)  # the terminal's Ctrl-C and hang-up are livejam's to handle, not the child's
        finally:
            os.close(life)
        threading.Thread(target=self._read, name="livejam-synth-said", daemon=True).start()
        self.output = SynthTap(self.proc.stdin.fileno(), clock, self._tap_gone, _board(self.board.fileno()))
        if not self.ready.wait(STARTUP_SECONDS) or self.error is not None:
            why = self.error or f"it did not start within {STARTUP_SECONDS:.0f} s"
            self.close()
            raise LivejamError(why)

    def _read(self) -> None:
        for raw in self.proc.stdout:
            word, _, rest = raw.decode(errors="replace").rstrip("\n").partition("\t")
            if word == "via":
                self.via = rest
            elif word == "ready":
                self.names = rest.split("\t")
                self.ready.set()
            elif word == "error":
                self.error = rest
                self.ready.set()
            elif word == "lost":
                self._say(rest)
            elif word == "fault":
                if self.on_fault and not self.closing:
                    self.on_fault(rest)
            elif raw.strip():
                self.tail.append(raw.decode(errors="replace").strip())
        if not self.ready.is_set():
            self.error = f"the synth's process ended before it sounded ({' / '.join(self.tail) or 'no word'})"
            self.ready.set()
        elif not self.closing:
            self._say(f"the synth's process ended ({' / '.join(self.tail) or 'no word'}); the synth is silent, "
                      f"MIDI goes on (S turns it on again)")

    def _tap_gone(self, why: str) -> None:
        if not self.closing:
            self._say(f"the built-in synth stopped: {why}; MIDI goes on (S turns it on again)")

    def _say(self, line: str) -> None:
        with self.saying:  # the tap (scheduler's thread) and the reader may both find it gone: one line
            if self.said:
                return
            self.said = True
        if self.on_lost:
            self.on_lost(line)

    def close(self) -> None:
        """The child silences its voices, closes its audio and exits."""
        self.closing = True
        for close in (lambda: os.close(self.life), self.proc.stdin.close, self.board.close):
            try:
                close()
            except OSError:
                pass
        try:
            self.proc.wait(2.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def open_synth(soundfont: str | None, clock, volume: float, programs: dict[str, int],
               on_lost: Callable[[str], None] | None = None, on_fault: Callable[[str], None] | None = None):
    """The synth in its own process where the system allows it (POSIX), else in
    livejam's process (live.open_audio)."""
    if not IN_PROCESS:
        return SynthProcess(soundfont, clock, volume, programs, on_lost=on_lost, on_fault=on_fault)
    from . import live
    from .synth import BlockSynth

    return live.open_audio(lambda rate: live.SynthOutput(BlockSynth(soundfont, rate), clock, volume, programs),
                           on_lost=on_lost, audio=AUDIO, on_fault=on_fault)


def _board(fd: int):
    """The count of livejam's writes, shared: one 8-byte word of a file both map."""
    return memoryview(mmap.mmap(fd, 8)).cast("Q")
