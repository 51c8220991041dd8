"""Waiting for JACK to finish with graph changes before a port is unregistered.

libjack (1.9.22, the copy python-rtmidi's wheel bundles) walks a client's port
list in its notification thread, recomputing latencies after every graph change,
while jack_port_unregister() unlinks the port from that list in the caller's
thread, with no lock. Unregistering while a recomputation is under way crashes the
process (JackClient::HandleLatencyCallback; about once in 200 closes made right
after another client left, seen in CI and reproduced).

The server recomputes after a graph change in two steps: the cycle that switches
to the new graph queues a "graph reorder" request, and the server's one request
thread then asks each client in turn, waiting for each answer. So once a few
periods of JACK's own clock have passed since a change, and the server has answered
a request of ours (its one thread took the queued reorder first), every client of
this process has finished recomputing for that change. Only a change someone else
makes in those few milliseconds can still meet the unregister.
"""
from __future__ import annotations

import time

PERIODS = 3  # the switching cycle, and a spare on each side
TIMEOUT = 1.0  # a server that stopped counting frames (freewheel ending, a stall)


_watcher = None  # one per process, kept: opening and closing a client is itself news to every other


def settle(periods: int = PERIODS, timeout: float = TIMEOUT) -> bool:
    """Return once JACK has handled the graph changes made before the call (see the
    module's docstring); False when no JACK server answered or time ran out."""
    global _watcher
    try:
        import jack

        if _watcher is None:
            # Never activated (not in the graph) and never closed: a watcher opened and
            # closed around each unregister was one more change for this process's
            # clients to hear just before it (a CI run crashed there, once).
            _watcher = jack.Client("livejam-settle", no_start_server=True)
        watcher = _watcher
        start, want = watcher.frame_time, periods * watcher.blocksize
        period = watcher.blocksize / watcher.samplerate
        end = time.monotonic() + timeout
        while (watcher.frame_time - start) % 2**32 < want:  # JACK's frame counter wraps at 2^32
            if time.monotonic() > end:
                _watcher = None  # a server gone or stalled: the next call opens afresh
                return False
            time.sleep(period / 2)
        watcher.get_uuid_for_client_name(watcher.name)  # a round trip through the server's request thread
        return True
    except Exception:
        _watcher = None
        return False
