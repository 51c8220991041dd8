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

import argparse
import ctypes
import os
import re
import select
import subprocess
import sys
import time

REFRESH_SECONDS = 0.25  # how often the JACK connections are looked at while livejam lives
JACK_NO_START_SERVER = 0x01
JACK_PORT_IS_OUTPUT = 0x02


class JackGraph:
    """Who is connected to whom, through libjack (ctypes): a client that is never
    activated, so it runs no process thread and costs nothing between questions."""

    def __init__(self) -> None:
        lib = ctypes.CDLL("libjack.so.0")
        lib.jack_client_open.restype = ctypes.c_void_p
        lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        lib.jack_get_ports.restype = ctypes.POINTER(ctypes.c_char_p)
        lib.jack_get_ports.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong]
        lib.jack_port_by_name.restype = ctypes.c_void_p
        lib.jack_port_by_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.jack_port_get_all_connections.restype = ctypes.POINTER(ctypes.c_char_p)
        lib.jack_port_get_all_connections.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.jack_free.argtypes = [ctypes.c_void_p]
        lib.jack_client_close.argtypes = [ctypes.c_void_p]
        self.lib = lib
        status = ctypes.c_int()
        self.client = lib.jack_client_open(b"livejam-watchdog", JACK_NO_START_SERVER, ctypes.byref(status))
        if not self.client:
            raise OSError("no JACK server")

    def _names(self, array) -> list[str]:
        if not array:
            return []
        out, i = [], 0
        while array[i]:
            out.append(array[i].decode(errors="replace"))
            i += 1
        self.lib.jack_free(ctypes.cast(array, ctypes.c_void_p))
        return out

    def destinations(self, own: set[str]) -> set[str]:
        """Every port that livejam's output ports (`own`: their names within the
        client) are connected to. livejam's clients are "livejam", or "livejam-NN"
        where JACK had to tell two apart; libjack here cannot say which process owns
        a client, so a second livejam's same-named port would count too (a panic
        there is harmless)."""
        lib, out = self.lib, set()
        for name in self._names(lib.jack_get_ports(self.client, None, b"midi", JACK_PORT_IS_OUTPUT)):
            client, _, short = name.partition(":")
            if short in own and re.fullmatch(r"livejam(-\d+)?", client):
                port = lib.jack_port_by_name(self.client, name.encode())
                if port:
                    out |= set(self._names(lib.jack_port_get_all_connections(self.client, port)))
        return out

    def close(self) -> None:
        self.lib.jack_client_close(self.client)


def send_panic(api: int, ports: set[str], channels) -> int:
    """A NOTE_OFF for every pitch, then the panic CCs, on each channel, to each port
    by name (what may be sounding is not known once livejam is gone, so everything
    is released). Returns how many ports it reached."""
    import rtmidi

    from .notes import all_notes_off

    reached = 0
    for name in sorted(ports):
        out = rtmidi.MidiOut(rtapi=api, name="livejam-panic")
        try:
            names = out.get_ports()
            if name not in names:
                continue
            out.open_port(names.index(name), "panic")
            for ch in sorted(set(channels)):
                for m in all_notes_off(ch):
                    out.send_message(m.bytes())
                time.sleep(0.01)  # let the server carry one channel's worth before the next
            time.sleep(0.05)  # a few server periods before the port closes
            reached += 1
        except rtmidi.RtMidiError:
            pass  # a port that went away too: nothing sounds there any more
        finally:
            out.close_port()
            out.delete()
    return reached


def watch(fd: int, api_name: str) -> int:
    from . import ports as portlib

    api = portlib.api_id(api_name)
    graph = None
    if api_name == "jack":
        try:
            graph = JackGraph()
        except OSError:
            graph = None
    channels, named, own, known, buf = [0], set(), set(), set(), b""
    while True:
        ready, _, _ = select.select([fd], [], [], REFRESH_SECONDS)
        if ready:
            data = os.read(fd, 4096)
            if not data:
                break  # livejam is gone without a goodbye
            buf += data
            *lines, buf = buf.split(b"\n")
            for line in lines:
                word, _, rest = line.decode(errors="replace").partition(" ")
                if word == "bye":
                    return 0
                if word == "channels":
                    channels = [int(c) for c in rest.split()]
                elif word == "to":
                    named = {rest}
                elif word == "port":
                    own = {rest}
        if graph is not None and own:
            known = graph.destinations(own)
    send_panic(api, known | named, channels)
    return 1


class Watchdog:
    """livejam's side: start the watchdog process and keep it informed."""

    def __init__(self, api_name: str, channels: list[int], port: str, output: str | None = None) -> None:
        read, self.fd = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "livejam.watchdog", "--fd", str(read), "--api", api_name],
            pass_fds=(read,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            start_new_session=True)  # a Ctrl-C at the terminal is livejam's to handle, not the watchdog's
        os.close(read)
        self.tell(f"channels {' '.join(map(str, channels))}")
        self.tell(f"port {port}")
        if output:
            self.tell(f"to {output}")

    @staticmethod
    def supported() -> bool:
        return sys.platform != "win32"  # it waits on a pipe with select(), which Windows cannot do

    def tell(self, line: str) -> None:
        try:
            os.write(self.fd, (line + "\n").encode())
        except OSError:
            pass  # the watchdog is gone: livejam plays on regardless

    def dismiss(self) -> None:
        """livejam released everything itself: the watchdog may go."""
        self.tell("bye")
        os.close(self.fd)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="livejam.watchdog")
    p.add_argument("--fd", type=int, required=True)
    p.add_argument("--api", required=True)
    a = p.parse_args(argv)
    return watch(a.fd, a.api)


if __name__ == "__main__":
    sys.exit(main())
