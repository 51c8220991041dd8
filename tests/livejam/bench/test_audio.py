"""The audio bench's reading of jackd's log: lines grouped by the cycle that
missed (with how late jackd's own timer woke it), and each cycle put down to the
client it names running (lines as jackd2 writes them, taken from real runs' logs)."""
from livejam.bench.audio import blame, missed_cycles

LOG = """\
JackEngine::XRun: client = livejam-synth was not finished, state = Running
JackAudioDriver::ProcessGraphAsyncMaster: Process error
JackTimedDriver::Process XRun = 40 usec
Could not write notification
JackTimedDriver::Process XRun = 12 usec
JackTimedDriver::Process XRun = 7187 usec
JackEngine::XRun: client = bench-keys was not finished, state = Triggered
JackEngine::XRun: client = livejam was not finished, state = Triggered
JackEngine::XRun: client = livejam-synth was not finished, state = Triggered
JackAudioDriver::ProcessGraphAsyncMaster: Process error
JackEngine::XRun: client = bench-daw-07 was not finished, state = Running
JackEngine::XRun: client bench-keys-03 finished after current callback
JackEngine::XRun: client = livejam-01 was not finished, state = Triggered
JackAudioDriver::ProcessGraphAsyncMaster: Process error
JackEngine::XRun: client = jack_simple_client was not finished, state = Triggered
JackEngine::XRun: client = livejam-01 was not finished, state = Running
JackAudioDriver::ProcessGraphAsyncMaster: Process error
JackAudioDriver::ProcessGraphAsyncMaster: Process error
JackEngine::XRun: client = livejam-synth-01 was not finished, state = Running
""".splitlines()


def test_the_log_is_read_as_one_entry_per_missed_cycle():
    cycles = missed_cycles(LOG)
    assert [c["late"] for c in cycles] == [
        {"livejam-synth": "Running"},
        {"bench-keys": "Triggered", "livejam": "Triggered", "livejam-synth": "Triggered"},
        {"bench-daw-07": "Running", "bench-keys-03": "Finished late", "livejam-01": "Triggered"},
        {"jack_simple_client": "Triggered", "livejam-01": "Running"},
        {"livejam-synth-01": "Running"},  # the log ends inside a cycle: still one
    ]
    # jackd's timer late just before the clients it made late; the 40 us with no client late after it is no one's
    assert [c["server_late_us"] for c in cycles] == [0, 7187, 0, 0, 0]


def test_a_cycle_is_livejams_only_when_a_livejam_client_was_running():
    out = blame(missed_cycles(LOG))
    assert out["missed_cycles"] == 5
    assert out["livejam_running"] == 3  # the synth twice (a second one numbered by JACK), livejam's MIDI once
    assert out["another_client_running"] == 1  # the bench's DAW running, livejam's MIDI only waiting
    assert out["whole_graph_waiting"] == 1  # every client woken, none had run: the machine
    assert out["server_woke_late"] == 1
    assert out["cycles"][1] == "livejam:Triggered livejam-synth:Triggered (3 late, jackd's timer 7187 us late)"
    assert out["cycles"][2] == "bench-daw-07:Running livejam-01:Triggered (3 late)"


def test_a_quiet_log_blames_no_one():
    out = blame(missed_cycles(["JackDriver: client name = livejam-synth", "Jack: port connected"]))
    assert out == {"missed_cycles": 0, "livejam_running": 0, "another_client_running": 0,
                   "whole_graph_waiting": 0, "server_woke_late": 0, "cycles": []}
