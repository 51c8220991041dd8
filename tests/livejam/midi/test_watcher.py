"""The port watcher."""
from types import SimpleNamespace

from livejam.midi.watcher import PortWatcher


def test_nothing_to_watch_means_no_watcher_clients_and_no_thread():
    """Virtual ports are ours and cannot vanish: the watcher then opens no MIDI
    clients of its own (each costs a JACK client thread waking every period)."""
    w = PortWatcher(api=0, ports=[SimpleNamespace(wanted=None)], report=lambda k, n: None)
    w.start()
    assert w.probe_in is None and w.probe_out is None and not w.thread.is_alive()
    w.stop()
