"""Waiting in tests on a condition another thread or process makes true: polled,
bounded, never a fixed sleep (a loaded 2-core machine makes any fixed sleep wrong)."""
from __future__ import annotations

import time


def until(done, timeout: float = 5.0, every: float = 0.001) -> bool:
    """True once done() is; False if `timeout` seconds pass first. `every`: how often
    to ask (longer where asking costs, as a capture's whole audio does)."""
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            return False
        time.sleep(every)
    return True
