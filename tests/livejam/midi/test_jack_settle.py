"""Waiting for JACK to finish with the graph's changes before a port is
unregistered (livejam/midi/jack_settle.py), on the real server."""
import pytest

from livejam.midi import jack_settle

pytestmark = pytest.mark.usefixtures("jack_server")


def test_it_returns_after_the_server_has_run_the_periods_asked_for():
    import jack

    look = jack.Client("test-settle-look", no_start_server=True)
    try:
        before = look.frame_time
        assert jack_settle.settle(periods=3)
        assert (look.frame_time - before) % 2**32 >= 3 * look.blocksize
    finally:
        look.close()


def test_without_a_server_it_says_so_at_once(monkeypatch):
    import jack

    def no_server(*a, **k):
        raise jack.JackOpenError("livejam-settle", 0x11)

    monkeypatch.setattr(jack_settle, "_watcher", None)
    monkeypatch.setattr(jack, "Client", no_server)
    assert jack_settle.settle() is False


def test_one_watcher_serves_every_close(monkeypatch):
    """Opening and closing a client around each unregister was itself news to every
    other client of the process, just before the unregister: one is kept."""
    import jack

    opened = []
    real = jack.Client

    def counted(*a, **k):
        opened.append(a[0])
        return real(*a, **k)

    monkeypatch.setattr(jack_settle, "_watcher", None)
    monkeypatch.setattr(jack, "Client", counted)
    assert jack_settle.settle(periods=1) and jack_settle.settle(periods=1)
    assert opened == ["livejam-settle"]
