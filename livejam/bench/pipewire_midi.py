"""Why livejam's JACK MIDI needs jackd, measured: MIDI through JACK-Client's ports
(the one way to PipeWire's JACK from Python, since python-rtmidi's wheel carries
JACK2's own libjack) means a Python process callback on the real-time thread, so
it waits for the interpreter lock whenever another thread of livejam holds it (the
engine stepping the model, the TUI drawing). rtmidi's JACK callback is C++ and
queues without it.

One JACK-Client with a MIDI port in and out, 5 s with the process otherwise quiet,
then 5 s with two threads running Python (as a busy engine and screen): the cycles
its callback ran in, of those the server had, and how far into each cycle it
started. Run on PipeWire's JACK:

    pw-jack -p 256 .venv/bin/python -m livejam.bench.pipewire_midi
"""
from __future__ import annotations

import threading
import time

SECONDS = 5.0


def _busy(stop: threading.Event) -> None:
    x = 0
    while not stop.is_set():
        for i in range(100_000):  # pure Python: holds the lock for the switch interval at a time
            x += i * i


def main() -> None:
    import jack

    client = jack.Client("livejam-bench-midi", no_start_server=True)
    midi_in, midi_out = client.midi_inports.register("in"), client.midi_outports.register("out")
    rate, frames = client.samplerate, client.blocksize
    version = jack._ffi.string(jack._lib.jack_get_version_string()).decode()
    late: list[int] = []

    def process(n: int) -> None:
        late.append(client.frames_since_cycle_start)
        midi_out.clear_buffer()
        for _ in midi_in.incoming_midi_events():
            pass
        midi_out.write_midi_event(0, (0xF8,))

    client.set_process_callback(process)
    print(f"JACK: {version}; {frames} frames at {rate} Hz ({1000 * frames / rate:.2f} ms cycles)")
    with client:
        for label, threads in (("quiet process", 0), ("two busy Python threads", 2)):
            stop = threading.Event()
            busy = [threading.Thread(target=_busy, args=(stop,), daemon=True) for _ in range(threads)]
            for t in busy:
                t.start()
            late.clear()
            start = time.monotonic()
            time.sleep(SECONDS)
            had = (time.monotonic() - start) * rate / frames  # the cycles the server ran meanwhile
            ran = sorted(1000 * f / rate for f in late)
            stop.set()
            for t in busy:
                t.join()
            if not ran:
                print(f"{label}: the callback never ran")
                continue
            print(f"{label}: the callback ran in {len(ran)} of {had:.0f} cycles ({100 * len(ran) / had:.0f} %); "
                  f"started {ran[len(ran) // 2]:.2f} ms into a cycle (median), {ran[int(0.99 * len(ran))]:.2f} ms "
                  f"(99th), {ran[-1]:.2f} ms (worst)")


if __name__ == "__main__":
    main()
