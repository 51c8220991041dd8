"""The real MIDI server for end-to-end tests: a JACK server with the dummy driver.

CI starts one (.ci/run); here a test session starts one itself when jackd is
installed and none runs. With CI set, a missing server fails the tests; on a
developer machine without jackd they are skipped with the command to install it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest


def server_running() -> bool:
    if shutil.which("jack_lsp") is None:
        return False
    return subprocess.run(["jack_lsp"], capture_output=True, timeout=10).returncode == 0


@pytest.fixture(scope="session")
def jack_server():
    if server_running():
        yield
        return
    if shutil.which("jackd") is None:
        if os.environ.get("CI"):
            pytest.fail("no JACK server: .ci/run must install jackd2 and start `jackd -d dummy` before bin/test")
        pytest.skip("needs a JACK server: `sudo apt install --no-install-recommends jackd2` (bin/test then starts it)")
    proc = subprocess.Popen(["jackd", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "JACK_NO_AUDIO_RESERVATION": "1"})
    for _ in range(100):
        if server_running():
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("jackd was started but did not come up")
    yield
    proc.terminate()
    proc.wait(timeout=10)
