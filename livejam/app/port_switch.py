"""Switching a running rig's ports (the TUI's device screen): no note left
sounding on the old output, unchanged inputs keep their connections, and a port
that will not open changes nothing: the new ports are opened before the old ones
are closed, and the watcher watches whatever is open afterwards."""
from __future__ import annotations

from ..conversation.events import PortsChanged
from ..midi import ports


def switch_ports(rig, inputs: list[str], output: str | None) -> None:
    """Switch to these inputs (none: the virtual one) and this output (None: the
    virtual one). Raises LivejamError, with the old ports still playing, if one
    of the new ones cannot be opened."""
    rig.watcher.stop()
    try:
        wanted = list(inputs) or [None]
        keep = {p.wanted: p for p in rig.inputs}
        opened: list = []
        try:
            new_inputs = []
            for name in wanted:
                if name in keep:
                    new_inputs.append(keep.pop(name))
                else:
                    opened.append(ports.InputPort(rig.api, name, rig.engine.keyboard_sink(name), rig.clock))
                    new_inputs.append(opened[-1])
            new_output = rig.open_output(output) if output != rig.output.wanted else None
        except Exception:
            for p in opened:
                p.close()
            raise
        for p in keep.values():  # inputs no longer wanted
            p.close()
        if keep:  # what their keys and pedals held is let go
            rig.engine.command("keyboards_left", [p.wanted or "virtual" for p in keep.values()])
        rig.inputs = new_inputs
        if new_output is not None:
            old, rig.output = rig.engine.scheduler.replace_output(new_output, sorted(rig.channels)), new_output
            old.close()
        rig.cfg.inputs, rig.cfg.output = list(inputs), output or ""
    finally:
        rig.watch_ports()
    rig.engine.emit(PortsChanged, inputs=[p.name for p in rig.inputs], output=rig.output.name)
