"""A pipe to another of livejam's processes (the watchdog, the built-in synth) that
never blocks the thread writing into it: the music thread.

A write goes straight into the pipe when it has room (non-blocking); what does not
fit waits, in order, in a buffer that a flushing thread writes as the other side
takes it. Nothing is dropped (no note-off is lost) while the other side reads. If
it takes nothing for BEHIND_SECONDS, the verdict ("it stopped taking") is said once,
the buffer is dropped, and every later write returns False at once: the owner
decides what then (the watchdog is replaced; the synth falls silent).

On Windows a pipe can be neither made non-blocking (before Python 3.12) nor waited
on with select(): there every write goes through the flushing thread (blocking
there, never in the writer), and the verdict comes from how long its write has
been stuck.
"""
from __future__ import annotations

import os
import select
import sys
import threading
import time
from typing import Callable

BEHIND_SECONDS = 2.0  # the other side took nothing this long: it has stopped
CHUNK = 4096  # bytes the flushing thread writes at a time
NON_BLOCKING = sys.platform != "win32"


class Pipe:
    def __init__(self, fd: int, on_gone: Callable[[str], None], name: str = "livejam-pipe",
                 non_blocking: bool = NON_BLOCKING, on_wrote: Callable[[], None] = lambda: None) -> None:
        # on_gone and on_wrote are called under the pipe's lock: they only note or enqueue.
        self.fd, self.on_gone, self.on_wrote, self.name = fd, on_gone, on_wrote, name
        self.non_blocking = non_blocking
        self.buffer = bytearray()  # what waits for the flushing thread, in order
        self.lock = threading.Lock()
        self.more = threading.Condition(self.lock)
        self.gone = False
        self.flushing = False
        self.stuck_since: float | None = None  # a blocking write in the flushing thread began (Windows)
        if non_blocking and sys.platform != "win32":  # (a check mypy --platform win32 reads)
            os.set_blocking(fd, False)

    def write(self, data: bytes) -> bool:
        """All of `data` goes, now or in order later; False if the pipe is gone."""
        with self.lock:
            if self.gone:
                return False
            since = self.stuck_since  # read once: the flushing thread clears it outside the lock
            if since is not None and time.monotonic() - since > BEHIND_SECONDS:
                self._gone("it stopped taking what livejam sends")
                return False
            if not self.buffer and self.non_blocking:
                try:
                    n = os.write(self.fd, data)
                except BlockingIOError:
                    n = 0
                except OSError:
                    self._gone("its process has ended")
                    return False
                if n:
                    self.on_wrote()
                data = data[n:]
                if not data:
                    return True
            self.buffer += data
            if not self.flushing:
                self.flushing = True
                threading.Thread(target=self._flush, name=f"{self.name}-flush", daemon=True).start()
            return True

    def _flush(self) -> None:
        """Writes what waits as the other side takes it; ends when nothing waits,
        or with the verdict when it cannot write."""
        while True:
            why = self._flush_until_done()
            with self.lock:
                if why:
                    self._gone(why)
                elif self.buffer and not self.gone:
                    continue  # written in while this thread was leaving: it is still this thread's
                self.flushing = False
                self.more.notify_all()
                return

    def _flush_until_done(self) -> str | None:
        while True:
            with self.lock:
                if self.gone or not self.buffer:
                    return None
                chunk = bytes(self.buffer[:CHUNK])
            if self.non_blocking:
                _, writable, _ = select.select([], [self.fd], [], BEHIND_SECONDS)
                if not writable:
                    return "it stopped taking what livejam sends"
            else:
                self.stuck_since = time.monotonic()
            try:
                n = os.write(self.fd, chunk)
            except BlockingIOError:
                n = 0
            except OSError:
                return "its process has ended"
            finally:
                self.stuck_since = None
            with self.lock:
                del self.buffer[:n]
                if n:
                    self.on_wrote()
                self.more.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait (not on the music thread) until what waits has gone; False if it has not."""
        end = time.monotonic() + timeout
        with self.lock:
            while self.buffer and not self.gone:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.more.wait(left)
            return not self.buffer

    def _gone(self, why: str) -> None:  # under the lock
        if self.gone:
            return
        self.gone = True
        self.buffer.clear()
        self.on_gone(why)
