"""The last line of defence against a stuck note: a tiny process of its own (no
model, no onnxruntime; python-rtmidi and mido only) started beside livejam.

While livejam lives, the watchdog keeps learning where livejam's answers go: on
JACK, every port that livejam's own output ports are connected to (whoever made
the connection: livejam for `--out`, a DAW or a patchbay for the virtual port);
elsewhere, the named output livejam tells it. When livejam dies without saying
goodbye (kill -9, a crash in a native library, the OOM killer), the watchdog
sends a NOTE_OFF for every pitch, then all-notes-off, sustain off and
all-sound-off on the answer channel(s), to every one of those ports, and exits.

How it knows: livejam holds the write end of a pipe whose read end the watchdog
waits on. The kernel closes it when livejam dies, however it dies. livejam writes
lines to it: `channels 0 3` (the answer channels, zero-based), `port NAME` (its own
output port's name within its client), `to PORT` (a named output), and `bye`
after its own orderly panic, which sends the watchdog home quietly.
"""
from __future__ import annotations

import os
import subprocess
import sys


class Watchdog:
    """livejam's side: start the watchdog process and keep it informed."""

    def __init__(self, api_name: str, channels: list[int], port: str, output: str | None = None) -> None:
        read, self.fd = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "livejam.midi.watchdog_process", "--fd", str(read), "--api", api_name],
            pass_fds=(read,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            start_new_session=True)  # a Ctrl-C at the terminal is livejam's to handle, not the watchdog's
        os.close(read)
        self.set_channels(channels)
        self._tell(f"port {port}")
        if output:
            self.aim_at(output)

    @staticmethod
    def supported() -> bool:
        return sys.platform != "win32"  # it waits on a pipe with select(), which Windows cannot do

    def set_channels(self, channels) -> None:
        """Every channel livejam's notes may sound on (zero-based)."""
        self._tell(f"channels {' '.join(map(str, sorted(set(channels))))}")

    def aim_at(self, output: str) -> None:
        """The named output livejam now sends to (besides what JACK shows connected)."""
        self._tell(f"to {output}")

    def _tell(self, line: str) -> None:
        try:
            os.write(self.fd, (line + "\n").encode())
        except OSError:
            pass  # the watchdog is gone: livejam plays on regardless

    def dismiss(self) -> None:
        """livejam released everything itself: the watchdog may go."""
        self._tell("bye")
        os.close(self.fd)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
