"""PipeWire, what most Linux desktops run, headless here (no session manager; its
dummy driver drives the JACK clients), started by the `pipewire` fixture.

- The synth's audio tests (marked synth_audio: JACK-Client alone, no rtmidi) run
  again under `pw-jack`, so JACK-Client loads PipeWire's libjack and the synth
  plays through PipeWire's JACK at a 256-frame quantum.
- MIDI: python-rtmidi's wheel carries JACK2's own libjack, which speaks only to
  jackd, so its JACK API cannot reach PipeWire's JACK while JACK-Client (the
  system's libjack) can; livejam says so in one line and names the MIDI system
  that works there (the ALSA sequencer, which PipeWire bridges)."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
AUDIO_TESTS = ["tests/livejam/sound/test_jack_audio.py", "tests/reliability/test_synth_faults.py"]


def on_pipewire(pipewire: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["pw-jack", "-p", "256", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(pipewire), **env})


HANG_SECONDS = 60  # one inner run takes ~5 s
TRIES = 3


def test_the_synths_audio_tests_pass_on_pipewires_jack(pipewire):
    """PipeWire 0.3.65's jack_deactivate now and then never returns (about one inner
    run in five here; the synth's own process is killed by livejam 2 s after such a
    close, so a quit is bounded): a run that hangs is tried again, and said; a test
    that fails fails at once."""
    hangs = 0
    for _ in range(TRIES):
        try:
            r = on_pipewire(pipewire, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
                            "synth_audio", *AUDIO_TESTS, LIVEJAM_TEST_SERVER="pipewire", timeout=HANG_SECONDS)
            break
        except subprocess.TimeoutExpired:
            hangs += 1
            print(f"PipeWire's JACK hung a close (run {hangs}); trying again")
    else:
        raise AssertionError(f"every one of {TRIES} runs on PipeWire's JACK hung")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    passed = re.search(r"(\d+) passed", r.stdout)
    assert passed and int(passed.group(1)) >= 7 and "skipped" not in r.stdout, r.stdout[-2000:]


def test_rtmidis_jack_cannot_reach_pipewires_but_jack_client_can(pipewire):
    """The measurement behind livejam's choice, kept true: with no jackd to find
    (a server name nobody runs), PipeWire's JACK takes JACK-Client and not rtmidi."""
    probe = ("import jack, rtmidi\n"
             "c = jack.Client('livejam-pw-probe', no_start_server=True)\n"
             "print('jack-client', jack._ffi.string(jack._lib.jack_get_version_string()).decode())\n"
             "try:\n"
             "    rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name='livejam-pw-probe')\n"
             "    print('rtmidi reached a JACK')\n"
             "except rtmidi.RtMidiError:\n"
             "    print('rtmidi reached none')\n")
    r = on_pipewire(pipewire, sys.executable, "-c", probe, JACK_DEFAULT_SERVER="livejam-no-jackd")
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r"^jack-client .*PipeWire", r.stdout, re.M) and "rtmidi reached none" in r.stdout, r.stdout


def test_on_pipewire_without_jackd_livejam_says_in_one_line_which_midi_system_works(pipewire):
    r = subprocess.run([sys.executable, "-m", "livejam", "devices", "--api", "jack"], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "XDG_RUNTIME_DIR": str(pipewire),
                                        "JACK_DEFAULT_SERVER": "livejam-no-jackd"})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("livejam: no JACK server for MIDI: PipeWire runs here"), r.stderr
    assert "ALSA sequencer, which PipeWire bridges" in lines[0]
