"""Switching a running rig's ports (the TUI's device screen): no note left
sounding on the old output, unchanged inputs keep their connections."""
from __future__ import annotations

from ..conversation.events import PortsChanged
from ..midi import ports


def switch_ports(rig, inputs: list[str], output: str | None) -> None:
    """Switch ports while running: no note left sounding on the old output."""
    rig.watcher.stop()
    wanted = list(inputs) or [None]  # none named: the virtual input
    if [p.wanted for p in rig.inputs] != wanted:  # unchanged inputs keep their connections
        for p in rig.inputs:
            p.close()
        rig.inputs = [ports.InputPort(rig.api, n, rig.engine.feed_midi, rig.clock) for n in wanted]
    if output != rig.output.wanted:
        new = ports.OutputPort(rig.api, output)
        old, rig.output = rig.engine.scheduler.replace_output(new, sorted(rig.channels)), new
        old.close()
    rig.cfg.inputs, rig.cfg.output = list(inputs), output or ""
    rig.watch_ports()
    rig.engine.emit(PortsChanged, inputs=[p.name for p in rig.inputs], output=rig.output.name)
