"""The scheduler on a fake clock (exact) and on the real clock (order, no early sends)."""
import time

import mido

from livejam.timing.wallclock import FakeClock, WallClock
from livejam.midi.outputs import RecordingOutput
from livejam.timing.scheduler import Scheduler


def on(p, ch=0):
    return mido.Message("note_on", channel=ch, note=p, velocity=90)


def off(p, ch=0):
    return mido.Message("note_off", channel=ch, note=p)


def test_messages_go_out_at_their_absolute_deadlines_without_drift():
    clock = FakeClock(0.0)
    out = RecordingOutput(clock)
    s = Scheduler(out, clock)
    for k in range(100):
        s.schedule(k * 0.01, on(60) if k % 2 == 0 else off(60))
    for _ in range(1000):
        s.run_due()
        clock.advance(0.0013)  # a wake-up grain that does not divide 10 ms
    times = [t for t, _ in out.messages]
    assert len(times) == 100
    # Each message is late by less than one grain, and lateness never accumulates.
    assert all(0 <= t - k * 0.01 < 0.0013 + 1e-9 for k, t in enumerate(times))


def test_cancel_drops_pending_and_releases_what_sounds():
    clock = FakeClock(0.0)
    out = RecordingOutput(clock)
    s = Scheduler(out, clock)
    s.schedule(0.0, on(60))
    s.schedule(0.0, on(64))
    s.schedule(0.5, off(60))
    s.schedule(0.6, on(67))
    s.send_now(on(50), "thru")
    s.run_due()
    clock.advance(0.2)
    assert s.cancel("answer") == 2
    assert out.hanging() == {(0, 50): 1}  # the thru note is not the answer's to release
    s.panic([0])
    assert out.hanging() == {}
    assert [(m.control, m.value) for _, m in out.messages if m.type == "control_change"] == [(123, 0), (64, 0), (120, 0)]


def test_replan_drops_pending_and_releases_only_what_the_new_plan_does_not_keep():
    clock = FakeClock(0.0)
    out = RecordingOutput(clock)
    s = Scheduler(out, clock)
    for p in (60, 64):
        s.schedule(0.0, on(p), "answer")
        s.schedule(1.0, off(p), "answer")
    s.schedule(0.5, on(67), "answer")
    s.schedule(0.0, on(48), "thru")
    s.run_due()
    clock.advance(0.2)
    assert s.replan("answer", keep={60}) == 3  # two note-offs and the note to come
    assert [(m.type, m.note) for _, m in out.messages[3:]] == [("note_off", 64)]  # 60 plays on in the new plan
    clock.advance(1.0)
    s.run_due()
    assert len(out.messages) == 4 and s.sounding("thru") == 1 and s.sounding("answer") == 1


def test_a_failing_output_is_reported_and_the_thread_lives_on():
    class Broken(RecordingOutput):
        def send(self, msg):
            raise OSError("port gone")

    errors = []
    clock = FakeClock(0.0)
    s = Scheduler(Broken(clock), clock, on_error=errors.append)
    s.schedule(0.0, on(60))
    s.run_due()
    assert len(errors) == 1 and s.sounding() == 0


def test_real_clock_thread_sends_in_order_and_never_early():
    clock = WallClock()
    out = RecordingOutput(clock)
    s = Scheduler(out, clock)
    s.start()
    t0 = clock.now() + 0.05
    for k in reversed(range(20)):
        s.schedule(t0 + k * 0.01, on(40 + k))
    time.sleep(0.5)
    s.stop()
    assert [m.note for _, m in out.messages] == [40 + k for k in range(20)]
    assert all(t >= t0 + k * 0.01 for k, (t, _) in enumerate(out.messages))


def test_a_release_that_fails_while_the_port_is_lost_still_ends_the_note_in_its_tracker():
    """The answer's C is on; the port goes; the answer's release of C fails. When the
    port is back, the player's own note-off of C (passed through) must not be
    withheld as if the answer still held C: the synth would hang on it."""
    class Flaky(RecordingOutput):
        down = False

        def send(self, msg):
            if self.down:
                raise OSError("port gone")
            super().send(msg)

    clock = FakeClock(0.0)
    out = Flaky(clock)
    s = Scheduler(out, clock, on_error=lambda exc: None)
    s.send_now(on(60), "answer")
    out.down = True
    s.send_now(off(60), "answer")  # meant to be released: it is no longer the answer's
    s.send_now(on(62), "answer")  # never sounded: not tracked as sounding either
    assert not s.voices.sources["answer"].sounding
    out.down = False
    s.send_now(on(60), "thru")
    s.send_now(off(60), "thru")
    assert out.messages[-1][1] == off(60)  # passed on, not withheld for the answer
    assert not s.voices.sources["thru"].sounding


def test_switching_away_from_a_vanished_output_leaves_no_source_holding_anything():
    """The synth vanished with the answer's note, the player's bend and pedal on it;
    the player switches to another output: the panic on the old one fails, and yet
    nothing is left held, so the new output gets every later release as it comes."""
    class Gone(RecordingOutput):
        def send(self, msg):
            raise OSError("port gone")

    clock = FakeClock(0.0)
    old = RecordingOutput(clock)
    s = Scheduler(old, clock, on_error=lambda exc: None)
    s.send_now(on(60), "answer")
    s.send_now(mido.Message("pitchwheel", pitch=1500), "thru")
    s.send_now(mido.Message("control_change", control=64, value=127), "thru")
    s.output = Gone(clock)  # it vanished
    new = RecordingOutput(clock)
    s.replace_output(new, [0])
    for t in s.voices.sources.values():
        assert not t.sounding and not t.pedals and not t.moved
    s.send_now(on(60), "thru")
    s.send_now(off(60), "thru")
    assert [m.type for _, m in new.messages] == ["note_on", "note_off"]
