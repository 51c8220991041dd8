"""What the OS knows about livejam's threads: their names (so `top -H`, py-spy and
the bench can tell the engine from the scheduler from JACK's own threads) and
real-time priority for the one that sends notes."""
from __future__ import annotations

import os
import sys
import threading

PLATFORM = sys.platform  # a simulated platform in tests


def name_this_thread() -> None:
    """Give the calling thread's Python name to the OS thread (Linux; elsewhere nothing).
    Never raises: a thread that cannot be named still plays (on Windows ctypes.CDLL(None)
    raises TypeError; a libc without prctl, AttributeError)."""
    if not PLATFORM.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.prctl(15, threading.current_thread().name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError, TypeError):
        pass


def ask_for_realtime() -> bool:
    """Real-time priority for the calling thread where the OS grants it (Linux with
    rtprio limits or root); otherwise an ordinary thread, which works, with more jitter."""
    if sys.platform == "win32" or sys.platform == "darwin":  # CPython has no sched_setscheduler there
        return False
    try:
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_FIFO, os.sched_param(10))
        return True
    except (AttributeError, OSError):
        return False
