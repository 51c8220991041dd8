"""livejam's start, play and exit paths as Windows and macOS take them, simulated on
Linux with what differs there: the signal set (CPython on Windows has SIGINT,
SIGBREAK and SIGTERM, no SIGHUP or SIGTSTP; asyncio's loop takes no signal
handlers), ctypes (`ctypes.CDLL(None)` raises TypeError on Windows), the console
(closing its window reaches a process only through SetConsoleCtrlHandler, on a
thread Windows starts, and ends the process when the handler returns) and the
process model (the watchdog must not share livejam's console). MIDI is the WinMM
fake (tests/midi_systems.py). What only a real Windows or Mac can prove is said in
the README's "What we test"."""
import ctypes
import io
import signal
import threading

import mido
import pytest

from livejam import threads
from livejam.app import stopping
from livejam.app.headless import run_headless
from livejam.app.rig import LiveRig
from livejam.app.tui.app import LivejamApp
from livejam.midi import watchdog
from livejam.settings.config import LivejamConfig
from tests.livejam.app.tui.test_app import make_app, until as until_async
from tests.midi_systems import install, until


class WindowsSignals:
    """CPython's signal module on Windows: these names only; handlers recorded, not installed."""

    SIG_DFL, SIG_IGN = signal.SIG_DFL, signal.SIG_IGN
    SIGINT, SIGTERM, SIGBREAK = 2, 15, 21

    def __init__(self) -> None:
        self.handlers: dict[int, object] = {}

    def signal(self, sig, handler):
        old = self.handlers.get(sig, self.SIG_DFL)
        self.handlers[sig] = handler
        return old

    def raise_(self, sig) -> None:
        self.handlers[sig](sig, None)


class MacSignals(WindowsSignals):
    SIGHUP, SIGTSTP = 1, 20

    def __getattribute__(self, name):
        if name == "SIGBREAK":  # Windows' only
            raise AttributeError(name)
        return super().__getattribute__(name)


class Console:
    """kernel32's SetConsoleCtrlHandler: the handlers livejam registered, and a close."""

    def __init__(self) -> None:
        self.handlers: list = []

    def SetConsoleCtrlHandler(self, handler, add):  # noqa: N802  (kernel32's name)
        if add:
            self.handlers.append(handler)
        else:
            self.handlers.remove(handler)
        return 1

    def close(self, event: int = stopping.CTRL_CLOSE_EVENT) -> list:
        """The window closes: Windows calls each handler on a thread of its own, newest first."""
        returned = []
        t = threading.Thread(target=lambda: returned.extend(h(event) for h in reversed(list(self.handlers))))
        t.start()
        t.join(10)
        return returned


@pytest.fixture
def windows(monkeypatch):
    """This process as Windows would run it: its signals, its console, its ctypes."""
    sigs, console = WindowsSignals(), Console()
    monkeypatch.setattr(stopping, "PLATFORM", "win32")
    monkeypatch.setattr(stopping, "signals", sigs)
    monkeypatch.setattr(stopping, "kernel32", lambda: (console, lambda f: f))
    monkeypatch.setattr(threads, "PLATFORM", "win32")

    def no_cdll(name, *a, **kw):
        if name is None:
            raise TypeError("expected str, bytes or os.PathLike object, not NoneType")  # as on Windows
        return real_cdll(name, *a, **kw)

    real_cdll = ctypes.CDLL
    monkeypatch.setattr(ctypes, "CDLL", no_cdll)
    return sigs, console


class Lines(io.StringIO):
    def lines(self) -> list[str]:
        return self.getvalue().splitlines()


def headless_on_winmm(monkeypatch, tiny_model):
    graph = install(monkeypatch, "winmm")
    keys = graph.plug("KeyStep 37", destination=False)
    synth = graph.plug("Synth", source=False)
    rig = LiveRig(LivejamConfig.from_dict({"api": "winmm", "inputs": ["KeyStep"], "output": "Synth", "thru": True,
                                           "record": False, "model": str(tiny_model)}))
    out = Lines()
    done = threading.Event()
    thread = threading.Thread(target=lambda: (run_headless(rig, as_json=True, out=out), done.set()), daemon=True)
    thread.start()
    assert until(lambda: any('"event": "ready"' in x for x in out.lines()), 20)
    return graph, keys, synth, out, done


def held_then_released(graph, keys, synth) -> None:
    """The player holds a key (passed through): the engine and scheduler threads run."""
    keys.play([0x90, 60, 90])
    assert until(lambda: [0x90, 60, 90] in synth.received), "nothing passed through: livejam's threads died"


def test_windows_console_closing_stops_livejam_with_every_note_released_before_it_ends(monkeypatch, windows,
                                                                                       tiny_model):
    sigs, console = windows
    graph, keys, synth, out, done = headless_on_winmm(monkeypatch, tiny_model)
    assert set(sigs.handlers) == {sigs.SIGINT, sigs.SIGBREAK, sigs.SIGTERM}  # Windows' own set, nothing missing
    assert len(console.handlers) == 1
    held_then_released(graph, keys, synth)
    returned = console.close()
    # The handler returned (and Windows would end the process) only once livejam had stopped.
    assert returned == [1] and done.is_set()
    assert '"event": "stopped"' in out.getvalue()
    assert [0x80, 60, 0] in synth.received or [0x90, 60, 0] in synth.received  # the held note released
    assert console.handlers == [] and sigs.handlers[sigs.SIGINT] == sigs.SIG_DFL  # all put back


def test_windows_ctrl_break_stops_livejam_and_ctrl_c_is_left_to_cpython(monkeypatch, windows, tiny_model):
    sigs, console = windows
    graph, keys, synth, out, done = headless_on_winmm(monkeypatch, tiny_model)
    held_then_released(graph, keys, synth)
    # Ctrl-C and Ctrl-Break reach the console handler too: it passes them on (CPython raises the signal).
    assert console.handlers[0](stopping.CTRL_C_EVENT) == 0 and not done.is_set()
    sigs.raise_(sigs.SIGBREAK)
    assert until(done.is_set, 10)
    assert [0x80, 60, 0] in synth.received or [0x90, 60, 0] in synth.received


def test_on_macos_the_posix_set_is_taken_and_no_console_handler(monkeypatch):
    sigs = MacSignals()
    monkeypatch.setattr(stopping, "PLATFORM", "darwin")
    monkeypatch.setattr(stopping, "signals", sigs)
    monkeypatch.setattr(stopping, "kernel32", lambda: pytest.fail("no kernel32 on a Mac"))
    said = []
    req = stopping.StopRequests(lambda: said.append("stop"), lambda: said.append("suspend")).install()
    assert set(sigs.handlers) == {sigs.SIGINT, sigs.SIGTERM, sigs.SIGHUP, sigs.SIGTSTP}
    sigs.raise_(sigs.SIGHUP)
    sigs.raise_(sigs.SIGTSTP)
    assert said == ["stop", "suspend"]
    req.restore()
    assert all(h == sigs.SIG_DFL for h in sigs.handlers.values())


def test_threads_never_die_of_the_platform(monkeypatch, windows):
    threads.name_this_thread()  # Windows: nothing to do, nothing raised
    monkeypatch.setattr(threads, "PLATFORM", "linux")  # a Linux whose ctypes raises TypeError: still nothing raised
    threads.name_this_thread()
    monkeypatch.setattr(threads.sys, "platform", "darwin")
    assert threads.ask_for_realtime() is False


def test_the_watchdog_has_no_console_on_windows_and_a_session_of_its_own_elsewhere():
    win = watchdog.spawn_options("win32")
    assert win == {"creationflags": watchdog.DETACHED_PROCESS | watchdog.CREATE_NEW_PROCESS_GROUP}
    assert watchdog.spawn_options("linux") == watchdog.spawn_options("darwin") == {"start_new_session": True}


@pytest.mark.asyncio
async def test_the_tui_on_windows_quits_on_a_console_close_after_releasing(monkeypatch, windows, tiny_model):
    sigs, console = windows
    app, rig, out = make_app(tiny_model)
    assert isinstance(app, LivejamApp)
    returned: list = []
    async with app.run_test(size=(80, 24)):
        assert len(console.handlers) == 1  # and no asyncio signal handler asked for (none on Windows)
        rig.engine.scheduler.send_now(mido.Message("note_on", note=64, velocity=90), "thru")
        closing = threading.Thread(target=lambda: returned.extend(console.close()))
        closing.start()
        assert await until_async(lambda: app.return_code is not None, 10)  # the close asked the app to quit
        assert closing.is_alive()  # and Windows is kept waiting while it quits
    closing.join(10)
    assert returned == [1] and app.unmounted.is_set() and console.handlers == []
    assert [m.note for _, m in out.messages if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0)] == [64]
