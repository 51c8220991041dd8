"""The one panic sequence: what it sends, in which order, for notes known to sound
and for a synth whose notes are not known; the scheduler's panic and a port switch
send exactly it."""
import mido

from livejam.midi import panic
from livejam.midi.outputs import RecordingOutput
from livejam.midi.sounding import NoteTracker
from livejam.timing.scheduler import Scheduler
from livejam.timing.wallclock import FakeClock

CCS = [(123, 0), (64, 0), (120, 0)]


def on(ch, p):
    return mido.Message("note_on", channel=ch, note=p, velocity=90)


def test_known_notes_are_released_under_their_source_then_the_ccs_on_each_channel():
    answer, thru = NoteTracker(), NoteTracker()
    for m in (on(0, 60), on(0, 60), on(0, 64)):
        answer.sent(m)
    thru.sent(on(1, 50))
    seq = panic.sequence([1, 0, 0], {"answer": answer, "thru": thru})
    offs = [(src, m.channel, m.note) for src, m in seq if m.type == "note_off"]
    assert offs == [("answer", 0, 60), ("answer", 0, 60), ("answer", 0, 64), ("thru", 1, 50)]
    ccs = [(src, m.channel, m.control, m.value) for src, m in seq if m.type == "control_change"]
    assert ccs == [("panic", ch, c, v) for ch in (0, 1) for c, v in CCS]
    assert [m.type for _, m in seq].index("control_change") == len(offs)  # releases first


def test_unknown_notes_mean_every_pitch_of_each_channel():
    seq = panic.sequence([2])
    assert [m.note for _, m in seq[:128]] == list(range(128)) and {m.channel for _, m in seq} == {2}
    assert [(m.control, m.value) for _, m in seq[128:]] == CCS and len(seq) == 131


def test_the_scheduler_and_a_port_switch_send_the_sequence():
    clock = FakeClock(0.0)
    out = RecordingOutput(clock)
    s = Scheduler(out, clock)
    s.send_now(on(0, 60), "answer")
    s.send_now(on(0, 62), "thru")
    s.schedule(5.0, on(0, 67))  # pending: dropped, never sent
    expected = [m for _, m in panic.sequence([0], dict(s.voices.sources))]
    s.panic([0])
    assert [m for _, m in out.messages[2:]] == expected and out.hanging() == {}
    assert s.pending() == 0
    s.send_now(on(0, 61), "answer")
    new = RecordingOutput(clock)
    assert s.replace_output(new, [0]) is out
    assert out.hanging() == {} and [(m.control, m.value) for _, m in out.messages[-3:]] == CCS
    s.send_now(on(0, 62), "answer")
    assert [m.note for _, m in new.messages] == [62]
