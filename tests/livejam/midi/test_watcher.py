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


def test_only_the_probe_kinds_needed_are_opened(monkeypatch):
    """Watching an input by name (a --clock port, a keyboard) needs no output probe."""
    from livejam.midi import watcher

    made = []
    monkeypatch.setattr(watcher, "client", lambda kind, api, name: made.append(kind) or SimpleNamespace(
        get_ports=lambda: [], delete=lambda: None))
    seen = []
    port = SimpleNamespace(wanted="DAW clock", kind="in", connected=True, name="DAW clock",
                           present=lambda ports: seen.append(ports) or True)
    w = PortWatcher(api=0, ports=[port], report=lambda k, n: None)
    assert made == ["in"] and w.probe_out is None
    w.check()  # the input asked about the inputs listed
    assert seen == [[]]
    w.stop()
