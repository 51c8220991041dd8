"""A note-off lost on the way (a flaky cable, a USB hub, a port unplugged with a
key down) must never keep the call open for good: striking the key again frees it
(tests/livejam/model/test_encoder.py), and so do panic, "answer now", a lost input
and a model switch; a key held long with nothing else played is named on screen.
The engine runs on a fake clock with a recording output."""
from types import SimpleNamespace

from livejam.app.rig import LiveRig
from livejam.model.onnx_model import OnnxModel
from livejam.conversation.turns import HELD_LONG


def lose_a_note_off(r, pitch=60):
    """A key struck whose release never arrives; then a moment with nothing played."""
    r.play("note_on", note=pitch, velocity=80)
    r.run(2.0)
    assert r.conv.state == "listening" and not r.out.notes_on()  # the call is held open
    r.events()


def answered_after_a_call(r) -> bool:
    before = len(r.out.notes_on())
    r.phrase(pitches=(64, 65, 67))  # other keys: 60 is never struck again
    r.run(r.cfg.silence + 0.2)
    return len(r.out.notes_on()) > before


def test_panic_frees_a_key_whose_note_off_was_lost(rig):
    r = rig()
    lose_a_note_off(r)
    r.engine.command("panic")
    r.run(2.0)
    assert not r.out.notes_on()  # a panic is silence: no answer to the forgotten call
    assert answered_after_a_call(r)


def test_answer_now_answers_and_frees_the_held_key(rig):
    r = rig(answer_seconds=2.0)
    lose_a_note_off(r)
    r.engine.command("phrase_end")
    r.run(0.05)
    assert r.out.notes_on()  # answered at once
    r.run(3.0)
    assert r.conv.answer is None
    assert answered_after_a_call(r)  # and the next call ends as usual


def test_a_lost_input_frees_the_keys_it_held(rig):
    r = rig()
    lose_a_note_off(r)
    # What the rig does when the port watcher reports the keyboard gone.
    LiveRig._port_event(SimpleNamespace(engine=r.engine), "port_lost", "KeyStep 37")
    r.run(0.1)
    assert sorted(k for k, _ in r.events()) == ["panic", "port_lost"]
    assert answered_after_a_call(r)


def test_a_model_switch_does_not_carry_a_stuck_key(rig, tiny_model):
    r = rig()
    lose_a_note_off(r)
    r.engine.command("model_ready", OnnxModel(tiny_model))
    r.run(0.1)
    assert answered_after_a_call(r)


def test_a_key_held_long_with_nothing_else_played_is_named_once(rig):
    r = rig()
    r.play("note_on", note=61, velocity=80)
    r.run(HELD_LONG - 0.5)
    assert [k for k, _ in r.events()] == []
    r.run(1.0)
    said = r.events()
    assert [k for k, _ in said] == ["held"]
    assert said[0][1]["notes"] == ["C#4"]
    r.run(3 * HELD_LONG)
    assert r.events() == []  # once, not every few seconds
    r.play("note_on", note=61, velocity=80)  # struck again: the lost note-off is mended
    r.play("note_off", note=61, velocity=0)
    r.run(r.cfg.silence + 0.2)
    assert r.out.notes_on()


def test_a_chord_held_on_purpose_is_named_only_after_the_wait(rig):
    """Holding a chord a few seconds (a pad, a drone) is playing, not a fault."""
    r = rig()
    for p in (48, 55, 64):
        r.play("note_on", note=p, velocity=70)
    r.run(HELD_LONG / 2)
    r.play("control_change", control=1, value=40)  # the mod wheel moves: still playing
    r.run(HELD_LONG * 0.9)
    assert [k for k, _ in r.events()] == []
    for p in (48, 55, 64):
        r.play("note_off", note=p, velocity=0)
    r.run(r.cfg.silence + 0.2)
    assert r.out.notes_on()
