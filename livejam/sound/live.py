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
WASAPI, bundled in its wheel). On Linux and macOS all of this runs in the synth's
own process (synth_link.py, synth_process.py), where the scheduler's tap is a pipe."""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

import numpy as np

from ..errors import LivejamError
from ..midi.system import quiet_stderr
from . import idle_cycle
from .synth import DRUMS, BlockSynth

STALLED_SECONDS = 1.0  # a default device that asks for no block this long has stopped
FAULTS_IN_A_ROW = 50  # failing cycles in a row (a quarter second at 256 frames): a fault that is not passing
FAULT_SAY_EVERY = 5.0  # seconds: one line for a burst of faults
PORT_NAMES = ("synth out L", "synth out R")  # what a patchbay shows: livejam-synth:synth out L / R


ROLES = ("answer", "accompany", "thru", "metronome")  # the scheduler's sources a listener hears apart
CHANNEL_TYPES = {"note_on", "note_off", "control_change", "program_change", "pitchwheel"}  # what the synth plays


class SynthOutput:
    """The tap on the scheduler's wire (send, cut) and the blocks the audio side asks for.

    Each role plays on a synth channel of its own (a lane) with its own General
    MIDI program, even where the wire shares one channel (answer and thru both on
    1, the default): the player's piano and the answer's vibraphone stay apart, and
    an interruption can cut the answer's voices without touching the player's. The
    metronome is a click on the drum channel. A panic's CCs reach every lane of
    their channel."""

    name = "built-in synth"

    def __init__(self, synth: BlockSynth, clock, volume: float = 0.8, programs: dict[str, int] | None = None) -> None:
        self.synth, self.clock, self.volume = synth, clock, volume
        self.programs = {role: 0 for role in ROLES} | (programs or {})  # role -> GM program 0..127
        self.lanes: dict[tuple[str, int], int] = {}  # (role, channel on the wire) -> synth channel
        self.sent: deque = deque()  # (time, source, message): the scheduler appends, the audio side takes

    def send(self, msg, source: str = "answer", at: float | None = None) -> None:
        """`at`: when the message was due (default now): it sounds one block after that, at its sample."""
        if msg.type in CHANNEL_TYPES:  # clock and Start/Stop go on the wire, not into the synth
            self.sent.append((self.clock.now() if at is None else at, source, msg))

    def cut(self, source: str, at: float | None = None) -> None:
        """An interruption or mute: that role's voices stop at once, not on a release tail."""
        self.sent.append((self.clock.now() if at is None else at, source, None))

    def close(self, at: float | None = None) -> None:
        self.sent.append((self.clock.now() if at is None else at, None, None))  # every voice off, at once

    def take(self) -> None:
        """What went out, taken in by the audio side at the start of each cycle: here
        nothing to do (send appends); the synth's own process reads its pipe."""

    def reset(self) -> None:
        """After a fault in the audio callback: what was waiting dropped, every voice off."""
        self.sent.clear()
        self.synth.silence()

    board = None  # the count of livejam's writes, where a pipe brings them (synth_process.PipedOutput)

    def taken_up_to(self) -> int | None:
        """The board's count up to which everything was taken (None: no board, or
        more waits): until it moves, an idle cycle needs no Python (idle_cycle.py)."""
        return None

    def block(self, frames: int, start: float, rate: int) -> np.ndarray:
        """The next `frames` frames, for what went out since `start` (the previous
        block's start): each message at (sent - start) into the block."""
        if not self.sent and self.synth.idle:  # nothing to play and no voice left
            return self.synth.render(frames)
        due, end = [], start + frames / rate
        while self.sent and self.sent[0][0] < end:
            t, source, msg = self.sent.popleft()
            at = min(frames - 1, max(0, round((t - start) * rate)))
            if msg is not None:
                due.append((at, msg, self._lanes(source, msg.channel)))
            elif source is None:
                due.append((at, None))
            else:
                due.append((at, None, [lane for (role, _), lane in self.lanes.items() if role == source]))
        out = self.synth.render(frames, due)
        out *= self.volume
        return out

    def _lanes(self, source: str, channel: int):
        if source not in ROLES:  # a panic's CCs: every lane on that channel
            return [lane for (_, ch), lane in self.lanes.items() if ch == channel] or (channel,)
        lane = self.lanes.get((source, channel))
        if lane is None:  # a role's first message on this channel (once, not per block)
            if source == "metronome" or channel == DRUMS:
                lane = DRUMS
            else:
                taken = set(self.lanes.values()) | {DRUMS}
                lane = channel if channel not in taken else next((c for c in range(16) if c not in taken), channel)
                self.synth.program(lane, self.programs[source])
            self.lanes[(source, channel)] = lane
        return (lane,)


class CallbackFaults:
    """An exception in the audio callback. JACK-Client stops calling a callback that
    raised (and JACK then drops the client: the synth silent for good, the traceback
    shown only when its process ends); miniaudio's stream ends with a generator that
    raised. So the callback catches it: the synth's voices are reset (what waited is
    dropped), the cycle is written as silence, a line is said (off the audio thread,
    one a burst) and the next cycle plays as usual. A fault that comes back
    FAULTS_IN_A_ROW cycles in a row is not passing: the synth goes silent, said as
    lost (S starts it afresh)."""

    def __init__(self, on_fault: Callable | None, on_lost: Callable | None) -> None:
        self.on_fault, self.on_lost = on_fault, on_lost
        self.in_a_row = 0  # set to 0 by every cycle that played
        self.given_up = False
        self.lines: deque[tuple[str, str]] = deque()  # (kind, line) for the teller
        self.wake, self.closed = threading.Event(), False
        threading.Thread(target=self._tell, name="livejam-synth-faults", daemon=True).start()

    def failed(self, exc: Exception, output) -> None:
        """On the audio thread: voices reset, the line handed to the teller."""
        self.in_a_row += 1
        try:
            output.reset()
        except Exception:  # noqa: BLE001 - the cycle goes on as silence whatever the synth says
            pass
        why = f"{type(exc).__name__}: {exc}"
        if self.in_a_row == 1:
            self.lines.append(("fault", why))
        if self.in_a_row >= FAULTS_IN_A_ROW and not self.given_up:
            self.given_up = True
            self.lines.append(("lost", why))
        self.wake.set()

    def _tell(self) -> None:
        said_at, unsaid = -FAULT_SAY_EVERY, 0
        while self.wake.wait() and not self.closed:
            self.wake.clear()
            while self.lines:
                kind, why = self.lines.popleft()
                if kind == "lost":
                    if self.on_lost:
                        self.on_lost(f"the built-in synth's audio keeps failing ({why}); the synth is silent, "
                                     f"MIDI goes on (S turns it on again)")
                elif time.monotonic() - said_at < FAULT_SAY_EVERY:
                    unsaid += 1  # a burst: one line for it
                else:
                    said_at, more = time.monotonic(), f"; {unsaid} more since the last said" if unsaid else ""
                    unsaid = 0
                    if self.on_fault:
                        self.on_fault(f"the built-in synth's audio failed ({why}); its voices were reset and it "
                                      f"plays on{more}")

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class JackAudio:
    """livejam's synth as a JACK client with two audio ports, connected to the
    system's playback ports when there are any."""

    python_cycles = 0  # the cycles that ran Python (the others: idle_cycle's machine code)
    idle = None  # the idle_cycle.IdleCycle while its machine code is JACK's callback

    def __init__(self, make_output: Callable[[int], SynthOutput], name: str = "livejam-synth",
                 on_lost: Callable | None = None, on_fault: Callable | None = None) -> None:
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
        self.via = _server(jack)
        self.output = make_output(self.rate)
        self.faults = CallbackFaults(on_fault, on_lost)
        self.ports = [self.client.outports.register(n) for n in PORT_NAMES]
        self.previous: float | None = None
        self.silence = b""
        self.handles = [getattr(p, "_ptr", None) for p in self.ports]  # libjack's, where JACK-Client shows them
        self.zero = self._zeroing(jack)
        if self.output.board is not None:
            self.idle = idle_cycle.machine_code(jack, self.client, self.handles, self._cycle, self.output.board)
        if self.idle is None:
            self.client.set_process_callback(self._process)
        self.client.set_shutdown_callback(self._shutdown)
        self.client.activate()
        playback = self.client.get_ports(is_physical=True, is_input=True, is_audio=True)
        for port, target in zip(self.ports, playback):
            self.client.connect(port, target)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.ports]

    def _zeroing(self, jack) -> Callable[[int], None]:
        """What zeroes both ports' buffers for this cycle. JACK's buffers must be asked
        for in every cycle and written in full (PipeWire's JACK hands out a new one
        each cycle): straight through libjack (JACK-Client's own cffi handles, where it
        has them), two C calls a port and no Python object made; else its public
        get_buffer(), which also asks the block size and wraps the buffer each time."""
        lib, ffi = getattr(jack, "_lib", None), getattr(jack, "_ffi", None)
        if lib is None or ffi is None or None in self.handles:
            def zero(frames: int) -> None:
                for port in self.ports:
                    port.get_buffer()[:] = self.silence
            return zero

        def zero(frames: int, get=lib.jack_port_get_buffer, move=ffi.memmove, handles=tuple(self.handles)) -> None:
            for handle in handles:
                move(get(handle, frames), self.silence, 4 * frames)
        return zero

    @property
    def idle_path(self) -> str:
        return "machine code" if self.idle is not None else "Python"

    def _cycle(self, frames: int) -> int:  # called by idle_cycle's machine code: 0 goes on
        self._process(frames)
        return 0

    def _process(self, frames: int) -> None:
        self.python_cycles += 1
        faults = self.faults
        if faults.given_up:
            self._silent(frames)
            return
        try:
            self._play(frames)
            faults.in_a_row = 0
        except Exception as exc:  # noqa: BLE001 - one raise and JACK would drop the client for good
            faults.failed(exc, self.output)
            self.previous = None
            self._silent(frames)

    def _silent(self, frames: int) -> None:
        if len(self.silence) != 4 * frames:
            self.silence = bytes(4 * frames)  # a block of float32 zeros, made once per block size
        self.zero(frames)  # one copy into each of JACK's buffers: no array made

    def _play(self, frames: int) -> None:
        output = self.output
        output.take()
        if not output.sent and output.synth.idle:  # nothing to play, no voice left: as little as can be
            self.previous = None  # the next block's window starts one period back, as it does
            self._silent(frames)
            if self.idle is not None and (seen := output.taken_up_to()) is not None:
                self.idle.rest(seen)  # the next idle cycles run no Python
            return
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
        self.faults.close()
        self.client.deactivate()
        self.client.close()


def _server(jack) -> str:
    """Which JACK the synth plays through, as said at start: PipeWire's libjack says
    so in its version string ("3.0.0.0 (using PipeWire 0.3.65)"); jackd's does not."""
    try:
        version = jack._ffi.string(jack._lib.jack_get_version_string()).decode(errors="replace")
    except Exception:  # noqa: BLE001 - JACK-Client without its cffi handles: say nothing more
        return "JACK"
    return "PipeWire's JACK" if "PipeWire" in version else "JACK"


class DeviceAudio:
    """livejam's synth on the system's default audio device (miniaudio). A device
    that stops (unplugged headphones, a sound server gone) is said once, by
    miniaudio's stop callback or, where that does not come (miniaudio says it is not
    reliable everywhere), by blocks no longer being asked for."""

    def __init__(self, make_output: Callable[[int], SynthOutput], rate: int = 44100, block_ms: int = 10,
                 backends=None, on_lost: Callable | None = None, on_fault: Callable | None = None) -> None:
        try:
            import miniaudio
        except ImportError as exc:
            raise LivejamError(f"no audio library for the synth ({exc}); run bin/livejam once to install it") from None
        self.rate, self.output, self.on_lost = rate, make_output(rate), on_lost
        self.faults = CallbackFaults(on_fault, on_lost)
        try:
            with quiet_stderr():  # libasound prints a dozen lines on a machine without a sound card
                self.device = miniaudio.PlaybackDevice(output_format=miniaudio.SampleFormat.FLOAT32, nchannels=2,
                                                       sample_rate=rate, buffersize_msec=block_ms, backends=backends)
        except miniaudio.MiniaudioError as exc:
            raise LivejamError(f"no sound device for the synth ({exc.args[0] if exc.args else exc}); "
                               f"MIDI out goes on") from None
        self.names = [f"the default sound device ({self.device.backend})"]
        self.via = ""
        self.last = time.monotonic()  # when the device last asked for a block
        self.closed = threading.Event()
        self.said = False
        blocks = self._blocks()
        next(blocks)
        self.device.stop_callback = lambda: self._lost("stopped")
        self.device.start(blocks)
        threading.Thread(target=self._watch, name="livejam-audio-watch", daemon=True).start()

    def _blocks(self):
        frames = yield b""
        previous = None
        while True:
            start = time.perf_counter()
            self.last = time.monotonic()
            if self.faults.given_up:
                frames = yield bytes(8 * frames)
                continue
            try:
                self.output.take()
                audio = self.output.block(frames, start - frames / self.rate if previous is None else previous,
                                          self.rate)
                self.faults.in_a_row = 0
            except Exception as exc:  # noqa: BLE001 - a generator that raised would end the stream for good
                self.faults.failed(exc, self.output)
                previous = None
                frames = yield bytes(8 * frames)  # two float32 channels of silence
                continue
            previous = start
            frames = yield audio.tobytes()

    def _watch(self) -> None:
        while not self.closed.wait(STALLED_SECONDS / 4):
            if time.monotonic() - self.last > STALLED_SECONDS:
                self._lost("stopped asking for sound")
                return

    def _lost(self, how: str) -> None:
        if self.closed.is_set() or self.said:
            return  # our own close, or said already
        self.said = True
        if self.on_lost:
            self.on_lost(f"the sound device {how}; the synth is silent, MIDI goes on (S turns it on again)")

    def close(self) -> None:
        self.closed.set()
        self.faults.close()
        self.device.close()


def open_audio(make_output: Callable[[int], SynthOutput], on_lost: Callable | None = None,
               name: str = "livejam-synth", audio: str = "auto", on_fault: Callable | None = None):
    """JACK's audio if a JACK server runs, else the system's default device ("jack":
    JACK's only; "null": miniaudio's null backend, real blocks and no sound card,
    for tests). make_output(sample rate) makes the synth at the rate the audio runs at."""
    if audio == "null":
        import miniaudio

        return DeviceAudio(make_output, backends=[miniaudio.Backend.NULL], on_lost=on_lost, on_fault=on_fault)
    try:
        return JackAudio(make_output, name=name, on_lost=on_lost, on_fault=on_fault)
    except LivejamError:
        if audio == "jack":
            raise
        return DeviceAudio(make_output, on_lost=on_lost, on_fault=on_fault)
