"""The one synth, block by block: each message sounds at its own sample inside
the block (not at the block's start), the live block sizes give the samples the
offline render gives, silence() stops every voice within a block (a 10 ms release
tail), and a block reuses its buffer."""
import mido
import numpy as np
import pytest

from livejam.sound.synth import BlockSynth, render_events

CALL = [(0.1037, mido.Message("note_on", note=60, velocity=90)),
        (0.2511, mido.Message("note_on", note=64, velocity=70)),
        (0.6003, mido.Message("note_off", note=60)), (0.7, mido.Message("note_off", note=64))]


def onset(audio, threshold=1e-6) -> int:
    return int(np.argmax(np.abs(audio[:, 0]) > threshold))


@pytest.mark.parametrize("block", [64, 256, 512, 1000])
def test_a_note_starts_at_its_own_sample_whatever_the_block(block):
    audio = render_events(CALL[:1] + CALL[2:3], BlockSynth(), tail=0.2, block=block)
    assert onset(audio) == round(0.1037 * 44100)  # 4573: inside a block, not at its start


def test_the_same_blocks_give_the_same_samples_as_the_offline_render():
    offline = render_events(CALL, BlockSynth(), block=256)
    live, synth, rate = [], BlockSynth(), 44100
    events = [(round(t * rate), m) for t, m in CALL]
    total = len(offline)
    for start in range(0, total, 256):  # as the audio callback would: a block at a time
        n = min(256, total - start)
        live.append(synth.render(n, [(at - start, m) for at, m in events if start <= at < start + n]).copy())
    assert np.array_equal(np.concatenate(live), offline)


def test_other_block_sizes_sound_the_same_within_a_hair():
    a, b = render_events(CALL, BlockSynth(), block=64), render_events(CALL, BlockSynth(), block=1024)
    assert np.abs(a - b).max() < 0.01 * np.abs(a).max()  # tinysoundfont updates envelopes per call: -40 dB


def test_silence_stops_every_voice_within_the_block():
    synth = BlockSynth()
    synth.render(512, [(0, mido.Message("note_on", note=60, velocity=100)),
                       (0, mido.Message("note_on", channel=3, note=67, velocity=100))])
    assert np.abs(synth.render(512)).max() > 1e-3
    synth.silence()
    fading = synth.render(512).copy()
    # tinysoundfont's fast release: ~10 ms (under 448 frames at 44.1 kHz) then nothing.
    assert np.abs(fading[448:]).max() == 0.0 and np.abs(synth.render(512)).max() == 0.0


def test_a_block_reuses_its_buffer():
    synth = BlockSynth()
    first = synth.render(256)
    second = synth.render(256, [(10, mido.Message("note_on", note=60, velocity=90))])
    assert np.shares_memory(first, second)


def test_after_a_quiet_spell_blocks_skip_the_synth_and_the_next_note_sounds_as_from_fresh():
    """The idle cost of --synth: silent QUIET_SECONDS, a block is zeros without
    tinysoundfont; a note after that sounds sample for sample as on a fresh synth."""
    from livejam.sound import synth as synth_module

    synth, calls = BlockSynth(), []
    fill = synth._fill
    synth._fill = lambda part: (calls.append(len(part)), fill(part))
    quiet = [synth.render(256).copy() for _ in range(int(synth_module.QUIET_SECONDS * 44100 / 256) + 3)]
    assert synth.idle and not np.any(np.concatenate(quiet))
    asked = len(calls)
    synth.render(256)
    assert len(calls) == asked  # idle: not rendered at all
    note = mido.Message("note_on", note=60, velocity=90)
    after = np.concatenate([synth.render(256, [(37, note)]).copy(), synth.render(256).copy()])
    fresh = BlockSynth()
    expected = np.concatenate([fresh.render(256, [(37, note)]).copy(), fresh.render(256).copy()])
    assert not synth.idle and np.array_equal(after, expected) and onset(after) == 37


def test_the_missing_synth_names_the_one_command_for_this_install(monkeypatch):
    """pip where the environment has it (a venv, pipx's shared pip), uv's where it
    has none (a `uv tool` environment): the command .ci/wheel-check runs as said."""
    import importlib.util

    from livejam.sound import synth

    real = importlib.util.find_spec
    assert synth.install_command("/env/bin/python") == "/env/bin/python -m pip install --no-deps tinysoundfont==0.3.7"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pip" else real(name, *a))
    assert synth.install_command("/my env/bin/python") == \
        "uv pip install --python '/my env/bin/python' --no-deps tinysoundfont==0.3.7"
