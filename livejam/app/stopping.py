"""How each platform asks livejam to stop, and how livejam hears it: an orderly
stop, every note released, on every platform.

- POSIX (Linux, macOS): Ctrl-C (SIGINT), kill (SIGTERM), the terminal closing
  (SIGHUP); Ctrl-Z (SIGTSTP) suspends, after a panic, where the caller takes it.
- Windows: Ctrl-C (SIGINT) and Ctrl-Break (SIGBREAK) are the only console signals
  CPython delivers (its signal module has no SIGHUP or SIGTSTP, and asyncio's loop
  takes no signal handlers). Closing the console window, logging off and shutting
  down reach a process only through SetConsoleCtrlHandler, on a thread Windows
  starts for it, and Windows ends the process when that handler returns (or about
  5 s after a close): so the handler asks for the stop and waits until livejam says
  every note is released (`released()`), CLOSE_GRACE at most.

The platform, its signal module and kernel32 are looked up here, so a test can run
livejam's exit paths as a simulated Windows or macOS would take them.
"""
from __future__ import annotations

import signal
import sys
import threading
from typing import Callable

CTRL_C_EVENT, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT = 0, 1, 2, 5, 6
CLOSE_GRACE = 4.5  # seconds: Windows ends a process about 5 s after its console closes
STOP_SIGNALS = {"win32": ("SIGINT", "SIGBREAK", "SIGTERM"), "posix": ("SIGINT", "SIGTERM", "SIGHUP")}

PLATFORM = sys.platform
signals = signal  # the platform's signal module (a simulated one in tests)


def kernel32():
    """Windows' kernel32 and the type of a console handler (None elsewhere)."""
    import ctypes

    return ctypes.windll.kernel32, ctypes.WINFUNCTYPE(ctypes.c_int, ctypes.c_uint)  # type: ignore[attr-defined]


def windows() -> bool:
    return PLATFORM.startswith("win")


class StopRequests:
    """The stop (and on POSIX the suspend) requests of the platform, as callbacks:
    they only enqueue (a signal handler or Windows' console thread calls them)."""

    def __init__(self, on_stop: Callable[[], None], on_suspend: Callable[[], None] | None = None) -> None:
        self.on_stop, self.on_suspend = on_stop, on_suspend
        self.done = threading.Event()
        self.previous: list[tuple[int, object]] = []
        self.console = None  # the console handler, kept alive while registered

    @property
    def suspends(self) -> bool:
        """Does this platform have a Ctrl-Z that stops the process (and are we taking it)?"""
        return self.on_suspend is not None and not windows() and hasattr(signals, "SIGTSTP")

    def install(self) -> "StopRequests":
        names = STOP_SIGNALS["win32" if windows() else "posix"]
        for name in names:
            self._take(getattr(signals, name, None), self.on_stop)
        if self.suspends:
            self._take(getattr(signals, "SIGTSTP"), self.on_suspend)
        if windows():
            lib, handler_type = kernel32()
            self.console = handler_type(self._console)
            lib.SetConsoleCtrlHandler(self.console, True)
        return self

    def _take(self, sig, then: Callable[[], None] | None) -> None:
        if sig is None or then is None:
            return
        self.previous.append((sig, signals.signal(sig, lambda signum, frame: then())))

    def _console(self, event: int) -> int:
        """Windows' console thread: a close, logoff or shutdown is a stop that must
        finish before this returns; Ctrl-C and Ctrl-Break go on to CPython's own
        handler, which raises them as signals (handled above)."""
        if event not in (CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT):
            return 0
        self.on_stop()
        self.done.wait(CLOSE_GRACE)
        return 1

    def released(self) -> None:
        """livejam has stopped with every note released: a waiting console handler may return."""
        self.done.set()

    def restore(self) -> None:
        for sig, old in reversed(self.previous):
            signals.signal(sig, old)
        self.previous.clear()
        if self.console is not None:
            kernel32()[0].SetConsoleCtrlHandler(self.console, False)
            self.console = None
