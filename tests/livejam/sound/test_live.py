"""The synth's live side on explicit times: what went out during a block is
rendered in the next one at its own sample, what goes out later waits, a close
silences every voice; the default-device path pulls blocks through miniaudio
(its null backend: no sound card needed); no sound device at all is one line."""
import time

import mido
import numpy as np

from livejam.sound.live import SynthOutput
from livejam.sound.synth import BlockSynth
from livejam.timing.wallclock import FakeClock

RATE = 48000


def onset(block) -> int | None:
    loud = np.nonzero(np.abs(block[:, 0]) > 1e-6)[0]
    return int(loud[0]) if len(loud) else None


def test_a_message_sounds_one_block_after_it_went_out_at_its_own_sample():
    clock = FakeClock(10.0)
    out = SynthOutput(BlockSynth(rate=RATE), clock)
    clock.t = 10.0 + 100 / RATE  # 100 frames into the block that starts at 10.0
    out.send(mido.Message("note_on", note=60, velocity=100))
    clock.t = 10.0 + 300 / RATE  # sent after the next block's start: waits for the block after it
    later = mido.Message("note_on", channel=1, note=67, velocity=100)
    out.send(mido.Message("note_on", channel=1, note=67, velocity=100))
    first = out.block(256, 10.0 - 256 / RATE, RATE).copy()  # the block for what went out before 10.0
    assert onset(first) is None
    second = out.block(256, 10.0, RATE).copy()
    assert onset(second) == 100 and len(out.sent) == 1 and out.sent[0][2] == later


def test_close_silences_every_voice_within_11_ms():
    clock = FakeClock(0.0)
    out = SynthOutput(BlockSynth(rate=RATE), clock)
    out.send(mido.Message("note_on", note=60, velocity=100))
    out.block(512, -512 / RATE, RATE)
    assert np.abs(out.block(512, 0.0, RATE)).max() > 1e-3
    out.close()
    fading = out.block(1024, 0.0, RATE).copy()
    # tinysoundfont's fast release: under 11 ms (528 frames at 48 kHz), then nothing.
    assert np.abs(fading[528:]).max() == 0.0 and np.abs(out.block(512, 1024 / RATE, RATE)).max() == 0.0


def test_the_default_device_path_pulls_blocks():
    from livejam.sound.live import DeviceAudio
    from livejam.timing.wallclock import WallClock

    import miniaudio

    # miniaudio's null backend: its real device loop, pulling blocks, with no sound card needed.
    audio = DeviceAudio(lambda rate: SynthOutput(BlockSynth(rate=rate), WallClock()),
                        backends=[miniaudio.Backend.NULL])
    try:
        audio.output.send(mido.Message("note_on", note=60, velocity=100))
        end = time.monotonic() + 5
        while audio.output.sent and time.monotonic() < end:
            time.sleep(0.01)
        assert not audio.output.sent  # taken by a block the device asked for
    finally:
        audio.close()


def test_no_sound_device_is_one_line(monkeypatch, capfd):
    import miniaudio
    import pytest

    from livejam.errors import LivejamError
    from livejam.sound.live import DeviceAudio

    def none(*a, **k):
        raise miniaudio.MiniaudioError("failed to init device", -401)

    monkeypatch.setattr(miniaudio, "PlaybackDevice", none)
    with pytest.raises(LivejamError, match="no sound device for the synth .*MIDI out goes on") as err:
        DeviceAudio(lambda rate: SynthOutput(BlockSynth(rate=rate), FakeClock()))
    assert "\n" not in str(err.value) and capfd.readouterr().err == ""


def test_jack_callback_a_note_after_idle_cycles_sounds_at_its_own_sample(monkeypatch):
    """JACK's process callback, cycle by cycle on explicit times: a note, its voice
    silenced, many idle cycles (zeroed, no block rendered), then a note 100 frames
    into a cycle: it sounds 100 frames into the next block, not at the end of it
    (a window left from the last sounding cycle, seconds before)."""
    import types

    from livejam.sound import live

    frames, period = 256, 256 / RATE
    now = [50.0]
    monkeypatch.setattr(live.time, "perf_counter", lambda: now[0])
    clock = types.SimpleNamespace(now=lambda: now[0])
    audio = live.JackAudio.__new__(live.JackAudio)
    audio.client = types.SimpleNamespace(frames_since_cycle_start=0)
    audio.rate, audio.previous, audio.silence = RATE, None, b""
    arrays = [np.ones(frames, np.float32) for _ in range(2)]
    audio.ports = [types.SimpleNamespace(get_array=lambda a=a: a, get_buffer=lambda a=a: memoryview(a).cast("B"))
                   for a in arrays]
    audio.zero = audio._zeroing(types.SimpleNamespace())  # JACK-Client's public path: no libjack here
    audio.output = SynthOutput(BlockSynth(rate=RATE), clock)
    audio.faults = live.CallbackFaults(None, None)
    process = audio._process
    taken = []

    def cycle(k: int) -> None:
        now[0] = 50.0 + k * period
        process(frames)
        taken.append(arrays[0].copy())

    audio.output.send(mido.Message("note_on", note=60, velocity=100), at=50.0 + 10 / RATE)
    audio.output.send(mido.Message("control_change", control=120), at=50.1)  # all sound off
    for k in range(1, 200):  # ~1 s: the note, then idle
        cycle(k)
    assert onset(taken[0][:, None]) == 10
    assert not taken[-1].any() and audio.output.synth.idle  # idle cycles, zeroed
    audio.output.send(mido.Message("note_on", note=64, velocity=100), at=50.0 + 199 * period + 100 / RATE)
    cycle(200)
    audio.faults.close()
    assert onset(taken[-1][:, None]) == 100
    assert audio.faults.in_a_row == 0
