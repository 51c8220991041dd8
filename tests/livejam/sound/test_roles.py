"""Each role on its own synth channel with its own program: the answer's sound and
the player's (thru) stay apart even on one MIDI channel, the metronome is a click
on the drum channel, and a cut (an interruption, mute) stops only that role's
voices, within a block. The synth's live output on explicit times, and the engine
on a fake clock with the synth tapping its wire."""
import mido
import numpy as np

from livejam.sound.live import SynthOutput
from livejam.sound.synth import DRUMS, BlockSynth
from livejam.timing.wallclock import FakeClock

RATE = 48000
FAST_RELEASE = 528  # tinysoundfont's fast release: under 11 ms at 48 kHz


def on(p, ch=0, v=100):
    return mido.Message("note_on", channel=ch, note=p, velocity=v)


def blocks(out, n, frames=512, start=0.0):
    return np.concatenate([out.block(frames, start + k * frames / RATE, RATE).copy() for k in range(n)])


def test_the_answer_plays_its_own_program_and_the_player_theirs_on_one_midi_channel():
    clock = FakeClock(0.0)
    out = SynthOutput(BlockSynth(rate=RATE), clock, volume=1.0, programs={"answer": 11, "thru": 0})
    out.send(on(60), "thru")
    out.send(on(67), "answer")  # the same MIDI channel (1), the default
    got = blocks(out, 8)
    # The same two notes on two channels of a synth set up by hand, vibraphone and piano.
    ref = BlockSynth(rate=RATE, programs={1: 11})
    want = np.concatenate([ref.render(512, [(0, on(60, 0)), (0, on(67, 1))] if k == 0 else []).copy() * 1.0
                           for k in range(8)])
    assert np.allclose(got, want, atol=1e-6)
    assert out.lanes == {("thru", 0): 0, ("answer", 0): 1}
    # Not the same as both on the piano: the program reached the answer's lane.
    piano = BlockSynth(rate=RATE)
    both = np.concatenate([piano.render(512, [(0, on(60, 0)), (0, on(67, 1))] if k == 0 else []).copy()
                           for k in range(8)])
    assert np.abs(both - got).max() > 1e-2


def test_the_metronome_is_a_click_on_the_drum_channel_and_clock_messages_are_not_played():
    out = SynthOutput(BlockSynth(rate=RATE), FakeClock(0.0))
    out.send(on(76, ch=3), "metronome")  # whatever channel the click goes out on
    out.send(mido.Message("clock"), "clock")
    out.send(mido.Message("start"), "clock")
    assert np.abs(blocks(out, 4)).max() > 1e-3
    assert out.lanes == {("metronome", 3): DRUMS} and not out.sent


def test_a_cut_stops_only_that_roles_voices_within_a_block():
    clock = FakeClock(0.0)
    out = SynthOutput(BlockSynth(rate=RATE), clock, volume=1.0)
    out.send(on(60), "thru")
    player = SynthOutput(BlockSynth(rate=RATE), clock, volume=1.0)  # the player's note alone, for comparison
    player.send(on(60), "thru")
    out.send(on(72), "answer")
    blocks(out, 4), blocks(player, 4)
    clock.t = 4 * 512 / RATE + 100 / RATE
    out.cut("answer")  # the player came back in
    after, alone = blocks(out, 4, start=4 * 512 / RATE), blocks(player, 4, start=4 * 512 / RATE)
    # From the cut's sample plus the fast release on, only the player's note sounds (to -80 dB).
    assert np.abs(after[100 + FAST_RELEASE:] - alone[100 + FAST_RELEASE:]).max() < 1e-4
    assert np.abs(after[:100] - alone[:100]).max() > 1e-2  # the answer sounded up to the cut
    assert np.abs(alone[100 + FAST_RELEASE:]).max() > 1e-3  # ... and it does still sound


def test_a_panics_all_sound_off_reaches_every_lane_on_its_channel():
    clock = FakeClock(0.0)
    out = SynthOutput(BlockSynth(rate=RATE), clock)
    out.send(on(60), "thru")
    out.send(on(72), "answer")
    blocks(out, 2)
    clock.t = 2 * 512 / RATE
    out.send(mido.Message("control_change", channel=0, control=120, value=0), "panic")
    tail = blocks(out, 4, start=2 * 512 / RATE)
    assert np.abs(tail[FAST_RELEASE:]).max() == 0.0


def test_an_interruption_cuts_the_answers_synth_voices(rig):
    r = rig(answer_seconds=8.0)
    cuts = []

    class Tap:
        def send(self, msg, source, at=None):
            pass

        def cut(self, source):
            cuts.append(source)

    r.engine.scheduler.taps.append(Tap())
    r.phrase()
    for _ in range(400):
        r.run(0.02)
        if r.engine.scheduler.sounding("answer"):
            break
    assert r.conv.answer is not None and not cuts
    r.play("note_on", note=50, velocity=90)  # the player comes back in
    assert r.conv.answer is None and cuts == ["answer"]
