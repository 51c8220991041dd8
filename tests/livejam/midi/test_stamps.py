"""Arrival times from rtmidi's deltas (midi/stamps.py), on explicit times: the
messages' true arrivals, reads that come late by chance or by load."""
import numpy as np

from livejam.midi.stamps import ArrivalStamps


def read_ticks(arrivals, poll, rng, late=None):
    """What a port polled every `poll` s reads: (delta, read time) per message, the
    deltas as rtmidi gives them (0 for the first). `late`: (from, to, extra) where
    every read in [from, to) comes `extra` s late (a busy machine)."""
    out, phase, prev = [], rng.random() * poll, None
    for a in arrivals:
        read = a + (phase - a) % poll  # the next poll at or after the arrival
        if late and late[0] <= a < late[1]:
            read += late[2]
        out.append((0.0 if prev is None else a - prev, read))
        prev = a
    return out


def test_stamps_are_the_arrivals_to_a_fraction_of_a_millisecond_though_read_every_8_ms():
    rng = np.random.default_rng(0)
    arrivals = 10.0 + np.arange(48 * 20) / 48 + rng.normal(0, 0.0005, 48 * 20)  # 120 BPM, 20 s
    s = ArrivalStamps()
    reads = read_ticks(arrivals, 0.008, rng)
    stamps = np.array([s.stamp(d, r) for d, r in reads])
    read_error = np.array([r for _, r in reads]) - arrivals
    error = stamps - arrivals
    assert read_error[96:].mean() > 0.003  # stamping at read time: ~4 ms late on average
    assert np.all(error >= -1e-9)  # never before the message came
    assert np.percentile(error[96:], 99) < 0.0005  # after two seconds, within half a millisecond


def test_a_busy_machine_reading_late_does_not_make_late_stamps():
    rng = np.random.default_rng(1)
    arrivals = 5.0 + np.arange(48 * 10) / 48
    s = ArrivalStamps()
    reads = read_ticks(arrivals, 0.008, rng, late=(8.0, 9.0, 0.120))  # a second of reads 120 ms late
    stamps = np.array([s.stamp(d, r) for d, r in reads])
    during = (arrivals >= 8.0) & (arrivals < 9.0)
    assert np.abs(stamps - arrivals)[during].max() < 0.001
    assert np.abs(stamps - arrivals)[arrivals > 9.0].max() < 0.001


def test_a_drifting_server_clock_is_followed_and_a_reopened_port_starts_a_new_chain():
    rng = np.random.default_rng(2)
    arrivals = np.arange(48 * 60) / 48  # a minute
    s = ArrivalStamps()
    drift = 1 + 200e-6  # the server's clock 200 ppm fast: 12 ms over the minute
    reads = [(d * drift, r) for d, r in read_ticks(arrivals, 0.008, rng)]
    error = np.array([s.stamp(d, r) for d, r in reads]) - arrivals
    assert np.abs(error[-480:]).max() < 0.002  # the window keeps up: a few ms at most, not 12
    s.reset()  # the port came back: rtmidi's next delta is from before the loss
    assert s.stamp(30.0, 100.0) == 100.0  # anchored by its own read, not the old chain
    assert abs(s.stamp(0.5, 100.504) - 100.5) < 1e-9
