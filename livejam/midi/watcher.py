"""The port watcher: once a second, is every port opened by name still there?"""
from __future__ import annotations

import threading
from typing import Callable

from ..threads import name_this_thread
from .system import CLIENT, client


class PortWatcher:
    """Once a second: is every port opened by name still there? Report a loss,
    re-open it by name when it comes back. The app keeps running meanwhile."""

    def __init__(self, api: int, ports: list, report: Callable[[str, str], None], interval: float = 1.0) -> None:
        # Only ports opened by name can vanish and come back; virtual ones are ours.
        self.ports, self.report, self.interval = [p for p in ports if p.wanted is not None], report, interval
        # The probes are MIDI clients of their own (on JACK each wakes every period):
        # only the kinds there is something to watch with, none when there is nothing.
        kinds = {p.kind for p in self.ports}
        self.probe_in = client("in", api, CLIENT + "-watch") if "in" in kinds else None
        self.probe_out = client("out", api, CLIENT + "-watch") if "out" in kinds else None
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="livejam-ports", daemon=True)

    def start(self) -> None:
        if self.ports:
            self.thread.start()

    def check(self) -> None:
        ins = self.probe_in.get_ports() if self.probe_in is not None else []
        outs = self.probe_out.get_ports() if self.probe_out is not None else []
        for port in self.ports:
            here = port.present(ins if port.kind == "in" else outs)
            if port.connected and not here:
                port.lost()
                self.report("port_lost", port.name)
            elif not port.connected and here and port.reopen():
                self.report("port_back", port.name)

    def _run(self) -> None:
        name_this_thread()
        while not self.stop_event.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # the watcher must outlive a flaky MIDI system
                self.report("error", f"port check failed: {exc}")

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=2)
        for probe in (self.probe_in, self.probe_out):
            if probe is not None:
                probe.delete()
