"""A MIDI device of the tests on the real JACK server, in a process of its own: a
keyboard (an rtmidi output) or a synth or DAW (an rtmidi input). Closing it ends
the process without closing its port: the server drops the client, as when a
USB device is pulled.

Why a process: libjack (1.9.22, the copy python-rtmidi bundles) walks a client's
port list in its notification thread after every graph change, while
jack_port_unregister() erases from that list in the caller's thread, unlocked. A
test process that unregisters a port while another client comes or goes (livejam
quitting, a device plugged) can crash there: seen in CI, reproduced ~1 in 190
closes (livejam/midi/jack_settle.py narrows it, does not close it). So the test
process unregisters nothing: its devices live here and leave with their process.

`python -m tests.jack_peer SPEC`: SPEC is JSON {"kind": "in"|"out", "client",
"port": a virtual port's name, or "target": an existing port to open}. It says
`ready`, then `got HEX` for each message an input receives; on stdin it takes
JSON lists of messages to send (`{"send": [[...], ...], "settle": bool}`) and
says `sent` after each list; stdin's end is its end."""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.waiting import until

READY_SECONDS = 30.0
ROOT = Path(__file__).resolve().parent.parent  # run as tests.jack_peer from here (tests/jack.py is not JACK-Client)


class Peer:
    """The device, from the test's side: send_message / play (output), get_message
    and `received` (input), close (the device is gone)."""

    def __init__(self, kind: str, client: str, port: str | None = None, target: str | None = None) -> None:
        spec = {"kind": kind, "client": client, "port": port, "target": target}
        self.client = client
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.jack_peer", json.dumps(spec)], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.name = f"{client}:{port}" if port else None  # a virtual port's full name
        self.received: list[list[int]] = []  # everything an input got, in order
        self.waiting: collections.deque = collections.deque()  # what get_message has not handed out yet
        self.ready, self.acks = threading.Event(), threading.Semaphore(0)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(READY_SECONDS) or self.proc.poll() is not None:
            self.proc.kill()
            raise RuntimeError(f"test device {client!r} did not open: {self.proc.stderr.read().strip()}")

    def _read(self) -> None:
        for line in self.proc.stdout:
            word, _, rest = line.rstrip("\n").partition("\t")
            if word == "ready":
                self.ready.set()
            elif word == "got":
                message = list(bytes.fromhex(rest))
                self.received.append(message)
                self.waiting.append(message)
            elif word == "sent":
                self.acks.release()
        self.ready.set()  # ended: whoever waits finds out

    def play(self, *messages: list[int], settle: bool = True) -> None:
        """Sends, once the graph has settled (a connection livejam just made carries
        MIDI only from the next graph switch); returns when they are out."""
        self.proc.stdin.write(json.dumps({"send": [list(m) for m in messages], "settle": settle}) + "\n")
        self.proc.stdin.flush()
        if not self.acks.acquire(timeout=10):
            raise RuntimeError("the test device did not send")

    def send_message(self, message: list[int]) -> None:
        self.play(message, settle=False)

    def get_message(self):
        """rtmidi's shape: (bytes, delta) or None."""
        return (self.waiting.popleft(), 0.0) if self.waiting else None

    def close(self) -> None:
        """Gone: the process ends, and this returns once the server has dropped its
        client (it notices the process's end on its own time)."""
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        if not until(lambda: not any(p.startswith(self.client + ":") for p in graph_ports()), 10, every=0.01):
            raise RuntimeError(f"the test device {self.client!r} outlived its process in JACK's graph")


def graph_ports() -> list[str]:
    """Every port in JACK's graph, as a client that holds none sees it (closing it unregisters nothing)."""
    import jack

    look = jack.Client("test-look", no_start_server=True)
    try:
        return [p.name for p in look.get_ports()]
    finally:
        look.close()


def _serve(spec: dict) -> None:
    from livejam.midi import system
    from livejam.midi.jack_settle import settle

    api = system.api_id("jack")
    midi = system.client(spec["kind"], api, spec["client"])
    if spec["kind"] == "in":
        midi.ignore_types(sysex=True, timing=False, active_sense=True)
    if spec["target"]:
        midi.open_port(system.resolve(spec["target"], midi.get_ports(), "output" if spec["kind"] == "out" else "input"))
    else:
        midi.open_virtual_port(spec["port"])
    say = threading.Lock()

    def line(text: str) -> None:
        with say:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    if spec["kind"] == "in":
        def listen() -> None:
            while True:
                ev = midi.get_message()
                if ev is None:
                    time.sleep(0.001)
                else:
                    line("got\t" + bytes(ev[0]).hex())
        threading.Thread(target=listen, daemon=True).start()
    line("ready")
    for request in sys.stdin:
        order = json.loads(request)
        if order.get("settle"):
            settle()
        for message in order["send"]:
            midi.send_message(message)
        line("sent")
    os._exit(0)  # no close: the server drops the client with the process


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
