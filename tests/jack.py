"""The real MIDI server for end-to-end tests: a JACK server with the dummy driver.

CI starts one (.ci/run); here a test session starts one itself when jackd is
installed and none runs. With CI set, a missing server fails the tests; on a
developer machine without jackd they are skipped with the command to install it.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from livejam.midi import system
from tests.jack_peer import Peer, graph_ports
from tests.waiting import until
from livejam.model.onnx_model import DEFAULT_MODEL


def server_running() -> bool:
    if shutil.which("jack_lsp") is None:
        return False
    return subprocess.run(["jack_lsp"], capture_output=True, timeout=10).returncode == 0


# Set by the PipeWire run (tests/livejam/sound/test_pipewire.py): the synth's audio
# tests run under pw-jack against PipeWire's JACK, which jack_lsp (jackd's) cannot see.
ON_PIPEWIRE = os.environ.get("LIVEJAM_TEST_SERVER") == "pipewire"


def jack_client_server() -> str:
    """The version string of the JACK server JACK-Client reaches ("... PipeWire ..." on PipeWire's)."""
    import jack

    client = jack.Client("livejam-test-probe", no_start_server=True)
    try:
        return jack._ffi.string(jack._lib.jack_get_version_string()).decode()
    finally:
        client.close()


@pytest.fixture(scope="session")
def jack_server():
    if ON_PIPEWIRE:
        assert "PipeWire" in jack_client_server(), "LIVEJAM_TEST_SERVER=pipewire, but JACK-Client reaches another JACK"
        yield
        return
    if server_running():
        yield
        return
    if shutil.which("jackd") is None:
        if os.environ.get("CI"):
            pytest.fail("no JACK server: .ci/run must install jackd2 and start `jackd -d dummy` before bin/test")
        pytest.skip("needs a JACK server: `sudo apt install --no-install-recommends jackd2` (bin/test then starts it)")
    # Real-time where the OS grants it (.ci/run says why), else without.
    for realtime in (["-R", "-P", "70"], ["--no-realtime"]):
        proc = subprocess.Popen(["jackd", *realtime, "-d", "dummy", "-r", "48000", "-p", "256"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "JACK_NO_AUDIO_RESERVATION": "1"})
        if until(lambda: server_running() or proc.poll() is not None, 10, every=0.1) and proc.poll() is None:
            break
        proc.kill()
        proc.wait()
    else:
        pytest.fail("jackd was started but did not come up")
    yield
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def pipewire(tmp_path_factory):
    """A PipeWire server (headless: no session manager, its dummy driver drives the
    JACK clients), started in a runtime folder of its own: its folder. CI installs it
    (.ci/run); elsewhere the tests that need it are skipped with the command."""
    if shutil.which("pipewire") is None or shutil.which("pw-jack") is None:
        if os.environ.get("CI"):
            pytest.fail("no PipeWire: .ci/run must install pipewire and pipewire-jack")
        pytest.skip("needs PipeWire: `sudo apt install --no-install-recommends pipewire pipewire-jack`")
    runtime = tmp_path_factory.mktemp("pipewire-runtime")
    runtime.chmod(0o700)
    proc = subprocess.Popen(["pipewire"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    if not until(lambda: (runtime / "pipewire-0").exists() or proc.poll() is not None, 20, every=0.05) \
            or proc.poll() is not None:
        proc.kill()
        pytest.fail("pipewire was started but did not come up")
    yield runtime
    proc.terminate()
    proc.wait(timeout=10)


def livejam_ports() -> list[str]:
    """The JACK ports of livejam's clients (its own, its watchdog's, its synth's)."""
    return [p for p in graph_ports() if system.LIVEJAM_CLIENT.match(p.split(":")[0])]


class Livejam:
    """`livejam play --headless --json` in a subprocess, its event lines collected."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "livejam", "play", "--headless", "--json", "--api", "jack",
             *([] if "--record-dir" in args else ["--no-record"]),
             "--model", str(DEFAULT_MODEL), "--seed", "1", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.record_dir = args[args.index("--record-dir") + 1] if "--record-dir" in args else None
        self.events: list[dict] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        assert self.wait_event("ready", 30), self.proc.stderr.read() if self.proc.poll() is not None else "no ready line"

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def wait_event(self, kind: str, timeout: float, count: int = 1, **fields) -> bool:
        """Until `count` events of this kind (with these field values, e.g. what="stop") have come."""
        def seen() -> int:
            return sum(e["event"] == kind and all(e.get(k) == v for k, v in fields.items()) for e in self.events)

        end = time.time() + timeout
        while time.time() < end:
            if seen() >= count:
                return True
            if self.proc.poll() is not None:
                time.sleep(0.2)
                return seen() >= count
            time.sleep(0.02)
        return False

    def stop(self, sig=signal.SIGINT) -> int:
        """Stop it; return once its clients have left JACK's graph too (the server
        drops them after the process ends: the quit leaves its ports to it), so the
        test's own clients close after that change (livejam/midi/jack_settle.py)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=15)
        self.reader.join(timeout=5)
        assert until(lambda: not livejam_ports(), 10, every=0.05), f"livejam's ports outlived it: {livejam_ports()}"
        return rc


@pytest.fixture
def api():
    return system.api_id("jack")


@pytest.fixture
def livejam():
    """Start livejam; whatever a test leaves running is stopped afterwards, so
    the next test finds the port names free."""
    started: list[Livejam] = []

    def start(*args: str) -> Livejam:
        started.append(Livejam(*args))
        return started[-1]

    yield start
    for lj in started:
        if lj.proc.poll() is None:
            lj.proc.kill()
            lj.proc.wait(timeout=10)


def receive(port, enough, timeout: float = 5.0) -> list:
    """What an rtmidi input (a test synth) receives until enough(messages) holds or
    the timeout: the one polling loop the JACK tests share."""
    import mido

    got: list = []
    end = time.perf_counter() + timeout
    while not enough(got) and time.perf_counter() < end:
        ev = port.get_message()
        if ev is None:
            time.sleep(0.002)  # nothing queued yet
        else:
            got.append(mido.Message.from_bytes(ev[0]))
    return got


def notes_of(timed) -> list:
    return [(t, m) for t, m in timed if m.type in ("note_on", "note_off")]


def judge_releases(record_dir, heard) -> bool:
    """No note left sounding, judged the way that cannot be fooled by the server:
    livejam's own record of what it sent (its session recording's answer track,
    the final panic's releases included) must balance, strictly. What the DAW
    heard must balance too, unless the server dropped messages on the way (the
    dummy driver on a loaded 2-core machine loses whole periods in xruns, which
    jackd logs): then fewer note messages arrived than livejam sent. Returns
    whether the DAW's side was judged. Call it after livejam has stopped."""
    from livejam.midi.sounding import hanging
    from livejam.recording.recordings import tracks

    (take,) = Path(record_dir).glob("*.mid")
    sent = notes_of(tracks(take)["livejam"])
    assert sent and hanging(sent) == {}, f"livejam itself left notes sounding: {hanging(sent)}"
    got = notes_of(heard)
    if len(got) != len(sent):
        return False  # the server dropped some: what arrived cannot balance
    assert hanging(got) == {}, f"sent balanced, yet the DAW heard notes left sounding: {hanging(got)}"
    return True


class JackDevice:
    """Hardware on a real JACK server, for the tests written against the fake
    systems' Graph (tests/midi_systems.py): a port livejam reads ("NAME:out", a
    keyboard) or sends to ("NAME:in", a synth), each in a process of its own
    (tests/jack_peer.py), so unplugging it unregisters nothing in the test's process."""

    def __init__(self, api: int, name: str, source: bool, destination: bool) -> None:
        self.api, self.name = api, name
        self.out = Peer("out", name, "out") if source else None
        self.inp = Peer("in", name, "in") if destination else None

    @property
    def received(self) -> list[list[int]]:
        return self.inp.received if self.inp is not None else []

    def play(self, *messages: list[int]) -> None:
        self.out.play(*messages)  # on the graph settled: a connection livejam just made is live

    def close(self) -> None:
        for peer in (self.out, self.inp):
            if peer is not None:
                peer.close()


class JackGraph:
    """The fakes' Graph interface (plug, unplug, port_name) over the real server."""

    kind = "jack"

    def __init__(self) -> None:
        self.api = system.api_id("jack")
        self.devices: list[JackDevice] = []

    def plug(self, name: str, source: bool = True, destination: bool = True) -> JackDevice:
        self.devices.append(JackDevice(self.api, name, source, destination))
        return self.devices[-1]

    def unplug(self, dev: JackDevice) -> None:
        self.devices.remove(dev)
        dev.close()

    def port_name(self, dev: JackDevice, index: int) -> str:
        return f"{dev.name}:{'in' if dev.inp is not None else 'out'}"

    def close(self) -> None:
        for d in list(self.devices):
            self.unplug(d)
