"""The one synth: a General MIDI SoundFont (tinysoundfont) rendered a block at a
time, each message at its own sample inside the block, never snapped to the
block's start. `respond -o .wav` renders through it whole; the live audio output
(issue 20) a block per audio callback, into a buffer it keeps (no allocation per
block: tinysoundfont fills a given buffer)."""
from __future__ import annotations

import importlib.util
import shlex
import sys
from pathlib import Path

import numpy as np

from ..errors import LivejamError

RATE = 44100
DRUMS = 9  # channel 10: General MIDI percussion (tinysoundfont selects its kit itself)
ALL_SOUND_OFF, ALL_NOTES_OFF = 120, 123
# Silent this long with nothing played, the synth has no voice left: a block is zeros
# without asking tinysoundfont (the idle cost of --synth). Longer than any envelope's
# delay stage, so a note whose attack starts late is never frozen.
QUIET_SECONDS = 0.25
# Installed apart from livejam's own dependencies, with --no-deps: its declared
# dependency pyaudio (live playback, which livejam does not use) has no Linux wheel
# and fails to build without PortAudio's headers. bin/_venv.sh installs the same.
TINYSOUNDFONT = "tinysoundfont==0.3.7"


def install_command(python: str = sys.executable) -> str:
    """The one command that adds the synth to the environment livejam runs in: pip
    where the environment has it (a venv, pipx's shared pip), else uv's (a `uv tool`
    environment has no pip)."""
    if importlib.util.find_spec("pip") is None:
        return f"uv pip install --python {shlex.quote(python)} --no-deps {TINYSOUNDFONT}"
    return f"{shlex.quote(python)} -m pip install --no-deps {TINYSOUNDFONT}"


def default_soundfont() -> Path:
    """The General MIDI SoundFont the pretty_midi package ships (TimGM6mb.sf2): nothing downloaded."""
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        raise LivejamError("no default SoundFont: the pretty_midi package is missing; reinstall livejam or pass "
                           "--soundfont FILE.sf2")
    return Path(list(spec.submodule_search_locations)[0]) / "TimGM6mb.sf2"


class BlockSynth:
    """render(frames, events) -> the next `frames` stereo float32 frames, with each
    (frame offset, mido message) applied at its offset (None: every voice off).
    Pure of any clock: the caller says where in the block each message falls."""

    def __init__(self, soundfont: Path | None = None, rate: int = RATE, programs: dict[int, int] | None = None,
                 max_frames: int = 8192) -> None:
        try:
            import tinysoundfont
        except ImportError:
            raise LivejamError(f"the synth needs tinysoundfont, installed apart from livejam (bin/livejam does it): "
                               f"run `{install_command()}`") from None
        sf = Path(soundfont) if soundfont else default_soundfont()
        if not sf.is_file():
            raise LivejamError(f"SoundFont {sf} not found; pass an .sf2 or .sf3 file")
        self.rate = rate
        self.synth = tinysoundfont.Synth(samplerate=rate)
        try:
            self.sfid = self.synth.sfload(str(sf))
        except Exception as exc:  # noqa: BLE001 - whatever the SoundFont reader raises
            raise LivejamError(f"{sf.name} is not a usable SoundFont ({exc})") from None
        for ch in range(16):
            if ch != DRUMS:
                self.synth.program_select(ch, self.sfid, 0, (programs or {}).get(ch, 0))
        self.buffer = np.zeros((max_frames, 2), np.float32)  # filled in place, block after block
        self.quiet = 0  # frames rendered all silent since the last message

    @property
    def idle(self) -> bool:
        """No voice left (silent QUIET_SECONDS since the last message)."""
        return self.quiet >= QUIET_SECONDS * self.rate

    def render(self, frames: int, events=()) -> np.ndarray:
        """The next `frames` frames (a view into the kept buffer: copy it to keep it)."""
        if frames > len(self.buffer):
            self.buffer = np.zeros((frames, 2), np.float32)  # a bigger block than any before: once
        out = self.buffer[:frames]
        if not events and self.idle:
            out[:] = 0.0
            return out
        at = 0
        for offset, msg, *lanes in events:  # (offset, message[, synth channels it plays on])
            offset = min(max(offset, at), frames)
            self._fill(out[at:offset])
            at = offset
            if msg is None:
                self.silence(*lanes)
            else:
                for ch in (lanes[0] if lanes else (msg.channel,)):
                    self.apply(msg, ch)
        self._fill(out[at:frames])
        self.quiet = 0 if events or out.any() else self.quiet + frames
        return out

    def _fill(self, part: np.ndarray) -> None:
        if len(part):
            self.synth.generate(len(part), memoryview(part).cast("B"))

    def apply(self, msg, ch: int | None = None) -> None:
        """One message, on synth channel `ch` (default: its own)."""
        kind, ch = msg.type, msg.channel if ch is None else ch
        if kind == "note_on" and msg.velocity > 0:
            self.synth.noteon(ch, msg.note, msg.velocity)
        elif kind in ("note_on", "note_off"):
            self.synth.noteoff(ch, msg.note)
        elif kind == "control_change" and msg.control == ALL_SOUND_OFF:
            self.synth.sounds_off(ch)  # the panic's last word: no release tail
        elif kind == "control_change" and msg.control == ALL_NOTES_OFF:
            self.synth.notes_off(ch)
        elif kind == "control_change":
            self.synth.control_change(ch, msg.control, msg.value)
        elif kind == "program_change":
            self.synth.program_change(ch, msg.program)
        elif kind == "pitchwheel":
            self.synth.pitchbend(ch, msg.pitch + 8192)

    def program(self, ch: int, program: int) -> None:
        """General MIDI program 0..127 on synth channel `ch` (the drum channel keeps its kit)."""
        if ch != DRUMS:
            self.synth.program_select(ch, self.sfid, 0, program)

    def silence(self, channels=range(16)) -> None:
        """Voices off at once (panic, quit, mute, an interruption): tinysoundfont's
        fast release, ~10 ms, then nothing: within one block of 512 frames at 44.1 kHz."""
        for ch in channels:
            self.synth.sounds_off(ch)


def render_events(events, synth: BlockSynth, tail: float = 1.5, block: int = 512) -> np.ndarray:
    """(seconds, mido message) in time order -> the whole performance as stereo
    float32, rendered block by block as the live output renders it: each message at
    its sample inside its block."""
    events = sorted(events, key=lambda e: e[0])
    end = (events[-1][0] if events else 0.0) + tail
    total = int(round(end * synth.rate))
    out = np.zeros((total, 2), np.float32)
    i = 0
    for start in range(0, total, block):
        n = min(block, total - start)
        due = []
        while i < len(events) and int(round(events[i][0] * synth.rate)) < start + n:
            due.append((int(round(events[i][0] * synth.rate)) - start, events[i][1]))
            i += 1
        out[start:start + n] = synth.render(n, due)
    return out
