"""Thru, answers and the metronome share one output: one source's note-off never
silences another's note of the same pitch and channel, the player's pedal passed
through is tracked like a note, and every channel and pedal livejam touched is
released on every exit path (thru off, panic, quit). The scheduler and the engine
on a fake clock, with a recording output as the synth."""
import mido

from livejam.midi.outputs import RecordingOutput
from livejam.timing.scheduler import Scheduler
from livejam.timing.wallclock import FakeClock


def on(p, ch=0):
    return mido.Message("note_on", channel=ch, note=p, velocity=90)


def off(p, ch=0):
    return mido.Message("note_off", channel=ch, note=p)


def wire(out, ch, pitch):
    return [m.type for _, m in out.messages if m.type in ("note_on", "note_off")
            and (m.channel, m.note) == (ch, pitch)]


def sounding_on_wire(out) -> bool:
    return out.hanging() != {}


def test_an_answers_note_off_does_not_cut_the_players_held_note():
    clock = FakeClock(0.0)
    out = RecordingOutput(clock)
    s = Scheduler(out, clock)
    s.send_now(on(60), "thru")  # the player holds C4
    s.schedule(0.1, on(60), "answer")
    s.schedule(0.3, off(60), "answer")
    clock.advance(0.5)
    s.run_due()
    assert wire(out, 0, 60) == ["note_on", "note_off", "note_on"]  # re-struck, one voice deep
    assert sounding_on_wire(out)  # the answer let go; the player still holds it
    s.send_now(off(60), "thru")
    assert out.hanging() == {}


def test_the_players_release_does_not_cut_the_answers_note():
    clock = FakeClock(0.0)
    out = RecordingOutput(clock)
    s = Scheduler(out, clock)
    s.send_now(on(64), "answer")
    s.send_now(on(64), "thru")  # the player strikes the pitch the answer holds
    s.send_now(off(64), "thru")
    assert wire(out, 0, 64) == ["note_on", "note_off", "note_on"]  # no note-off after the answer's voice
    s.cancel("answer")
    assert out.hanging() == {}


def test_the_player_striking_a_note_the_answer_holds_is_not_silenced_by_the_interruption(rig):
    r = rig(thru=True, answer_seconds=8.0)
    r.phrase()
    ch = r.cfg.channel - 1
    answer = r.engine.scheduler.voices.sources
    for _ in range(400):
        r.run(0.02)
        if answer.get("answer") and answer["answer"].sounding:
            break
    (_, pitch), = list(answer["answer"].sounding.items())[:1]
    r.play("note_on", note=pitch, velocity=100, channel=ch)  # interrupts the answer, same pitch, same channel
    assert r.conv.answer is None
    assert out_holds(r.out, ch, pitch)  # the interruption released the answer's notes, not the player's
    r.play("note_off", note=pitch, velocity=0, channel=ch)
    assert not out_holds(r.out, ch, pitch)


def out_holds(out, ch, pitch) -> bool:
    return (ch, pitch) in out.hanging()


def test_thru_off_with_the_pedal_down_lifts_it(rig):
    r = rig(thru=True)
    r.play("control_change", control=64, value=127, channel=2)
    r.play("note_on", note=55, velocity=80, channel=2)
    r.engine.command("thru", False)
    r.run(0.01)
    assert r.out.hanging() == {}
    assert (2, 64, 0) in [(m.channel, m.control, m.value) for _, m in r.out.messages if m.type == "control_change"]


def test_panic_and_quit_release_the_players_channels_too(rig):
    for exit_path in ("panic", "quit"):
        r = rig(thru=True)
        r.play("control_change", control=64, value=127, channel=3)
        r.play("note_on", note=50, velocity=80, channel=3)
        if exit_path == "panic":
            r.engine.command("panic")
            r.run(0.01)
        else:
            r.engine.stop()
        ccs = [(m.control, m.value) for _, m in r.out.messages if m.type == "control_change" and m.channel == 3]
        assert ccs[-3:] == [(123, 0), (64, 0), (120, 0)], exit_path
        assert r.out.hanging() == {}, exit_path
