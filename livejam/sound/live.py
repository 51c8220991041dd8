"""The built-in synth, live: what livejam sends to its MIDI output (answers, thru,
the metronome, every panic) also sounds through the machine's audio, so a
keyboard and headphones are enough.

The scheduler hands each message that goes on the wire to `SynthOutput.send`
(a tap beside the MIDI output: one failing never silences the other), which
notes it with the time it went out: an append, no lock. The audio side, once a
block, takes what went out during the previous block and renders each message
at its sample (`block`): every note sounds exactly one block after it was sent,
so the spacing of the notes is kept to the sample, not rounded to blocks.

Audio goes out through a running JACK server (`JackAudio`: livejam's own ports,
connected to the system's playback ports when there are any), else through the
system's default device (`DeviceAudio`, miniaudio: ALSA, PulseAudio, CoreAudio,
WASAPI, bundled in its wheel)."""
from __future__ import annotations

import time
from collections import deque
from typing import Callable

import numpy as np

from ..errors import LivejamError
from ..midi.system import quiet_stderr
from .synth import BlockSynth

PORT_NAMES = ("synth out L", "synth out R")  # what a patchbay shows: livejam-synth:synth out L / R


class SynthOutput:
    """The Output interface (midi/outputs.py) over the synth, and the blocks the audio side asks for."""

    name = "built-in synth"

    def __init__(self, synth: BlockSynth, clock, volume: float = 0.8) -> None:
        self.synth, self.clock, self.volume = synth, clock, volume
        self.sent: deque = deque()  # (time it went out, message): the scheduler appends, the audio side takes

    def send(self, msg) -> None:
        self.sent.append((self.clock.now(), msg))

    def close(self) -> None:
        self.sent.append((self.clock.now(), None))  # None: every voice off, at once

    def block(self, frames: int, start: float, rate: int) -> np.ndarray:
        """The next `frames` frames, for what went out since `start` (the previous
        block's start): each message at (sent - start) into the block."""
        due, end = [], start + frames / rate
        while self.sent and self.sent[0][0] < end:
            t, msg = self.sent.popleft()
            due.append((min(frames - 1, max(0, round((t - start) * rate))), msg))
        out = self.synth.render(frames, due)
        out *= self.volume
        return out


class JackAudio:
    """livejam's synth as a JACK client with two audio ports, connected to the
    system's playback ports when there are any."""

    def __init__(self, make_output: Callable[[int], SynthOutput], name: str = "livejam-synth",
                 on_lost: Callable | None = None) -> None:
        try:
            import jack
        except (ImportError, OSError) as exc:  # no JACK-Client, or no libjack
            raise LivejamError(f"JACK audio is not available here ({exc})") from None
        self.on_lost = on_lost
        try:
            self.client = jack.Client(name, no_start_server=True)
        except jack.JackError as exc:
            raise LivejamError(f"no JACK server for the synth's audio ({exc})") from None
        self.rate = self.client.samplerate
        self.output = make_output(self.rate)
        self.ports = [self.client.outports.register(n) for n in PORT_NAMES]
        self.previous: float | None = None
        self.client.set_process_callback(self._process)
        self.client.set_shutdown_callback(self._shutdown)
        self.client.activate()
        playback = self.client.get_ports(is_physical=True, is_input=True, is_audio=True)
        for port, target in zip(self.ports, playback):
            self.client.connect(port, target)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.ports]

    def _process(self, frames: int) -> None:
        # The cycle's start on livejam's clock (JACK says how far into the cycle we woke).
        start = time.perf_counter() - self.client.frames_since_cycle_start / self.rate
        previous, self.previous = self.previous, start
        audio = self.output.block(frames, start - frames / self.rate if previous is None else previous, self.rate)
        self.ports[0].get_array()[:] = audio[:, 0]
        self.ports[1].get_array()[:] = audio[:, 1]

    def _shutdown(self, status, reason) -> None:
        if self.on_lost:
            self.on_lost(f"the JACK server went away ({reason}); the synth is silent, MIDI goes on")

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


class DeviceAudio:
    """livejam's synth on the system's default audio device (miniaudio)."""

    def __init__(self, make_output: Callable[[int], SynthOutput], rate: int = 44100, block_ms: int = 10,
                 backends=None) -> None:
        try:
            import miniaudio
        except ImportError as exc:
            raise LivejamError(f"no audio library for the synth ({exc}); run bin/livejam once to install it") from None
        self.rate, self.output = rate, make_output(rate)
        try:
            with quiet_stderr():  # libasound prints a dozen lines on a machine without a sound card
                self.device = miniaudio.PlaybackDevice(output_format=miniaudio.SampleFormat.FLOAT32, nchannels=2,
                                                       sample_rate=rate, buffersize_msec=block_ms, backends=backends)
        except miniaudio.MiniaudioError as exc:
            raise LivejamError(f"no sound device for the synth ({exc.args[0] if exc.args else exc}); "
                               f"MIDI out goes on") from None
        self.names = [f"the default sound device ({self.device.backend})"]
        blocks = self._blocks()
        next(blocks)
        self.device.start(blocks)

    def _blocks(self):
        frames = yield b""
        previous = None
        while True:
            start = time.perf_counter()
            audio = self.output.block(frames, start - frames / self.rate if previous is None else previous, self.rate)
            previous = start
            frames = yield audio.tobytes()

    def close(self) -> None:
        self.device.close()


def open_audio(make_output: Callable[[int], SynthOutput], on_lost: Callable | None = None):
    """JACK's audio if a JACK server runs, else the system's default device.
    make_output(sample rate) makes the synth at the rate the audio runs at."""
    try:
        return JackAudio(make_output, on_lost=on_lost)
    except LivejamError:
        return DeviceAudio(make_output)
