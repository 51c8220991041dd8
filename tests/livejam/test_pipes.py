"""The pipe to livejam's other processes as Windows runs it (no non-blocking pipes,
no select on them): every write goes through the flushing thread, the writer never
waits, order is kept, and a reader that stops is found out from the stuck write.
(The POSIX path: tests/livejam/sound/test_synth_link.py and the watchdog's faults.)"""
import os
import threading

from livejam import pipes
from tests.waiting import until


def test_as_on_windows_the_writer_never_waits_and_order_is_kept():
    read, write = os.pipe()
    gone, got = [], bytearray()
    pipe = pipes.Pipe(write, gone.append, non_blocking=False)
    records = [k.to_bytes(4, "big") for k in range(60000)]  # 240 kB: several pipes full
    total = 4 * len(records)

    def take() -> None:  # the other process, reading as it goes
        while len(got) < total:
            got.extend(os.read(read, 1 << 16))

    reader = threading.Thread(target=take, daemon=True)
    reader.start()
    writer = threading.Thread(target=lambda: [pipe.write(r) for r in records])
    writer.start()
    writer.join(30)
    assert not writer.is_alive(), "a write waited on the pipe"
    reader.join(30)
    assert bytes(got) == b"".join(records) and not gone
    assert pipe.drain(5)
    os.close(read), os.close(write)


def test_as_on_windows_a_reader_that_stops_is_found_out_from_the_stuck_write(monkeypatch):
    monkeypatch.setattr(pipes, "BEHIND_SECONDS", 0.2)
    read, write = os.pipe()
    gone = []
    pipe = pipes.Pipe(write, gone.append, non_blocking=False)
    for _ in range(40):
        assert pipe.write(b"x" * 4096)  # the pipe fills; the flushing thread blocks in its write
    assert until(lambda: pipe.stuck_since is not None)
    assert until(lambda: not pipe.write(b"y"), 5)  # then, BEHIND_SECONDS on, the verdict
    assert gone == ["it stopped taking what livejam sends"] and not pipe.buffer
    assert not pipe.write(b"z") and len(gone) == 1  # said once
    os.close(read)  # the stuck write ends (the reader is gone), and so does its thread
    os.close(write)
