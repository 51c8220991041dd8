"""The watchdog process itself (`python -m livejam.midi.watchdog_process`): it
waits on the pipe livejam holds and learns from it where livejam's answers go;
when the pipe closes without a `bye`, livejam died, and it sends the panic there.
No model, no onnxruntime: python-rtmidi, mido and the standard library only."""
from __future__ import annotations

import argparse
import os
import select
import sys

from .jack_graph import JackGraph
from .panic import send_to_ports
from .system import api_id

REFRESH_SECONDS = 0.25  # how often the JACK connections are looked at while livejam lives


def watch(fd: int, api_name: str) -> int:
    api = api_id(api_name)
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
    send_to_ports(api, known | named, channels)
    return 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="livejam.midi.watchdog_process")
    p.add_argument("--fd", type=int, required=True)
    p.add_argument("--api", required=True)
    a = p.parse_args(argv)
    return watch(a.fd, a.api)


if __name__ == "__main__":
    sys.exit(main())
