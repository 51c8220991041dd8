"""Screenshots of the main screen at 80x24 and 120x36, from a fixed engine state
(fake clock, a known note history), so they only change when the view does.
Update with `bin/test tests/livejam/app/tui --snapshot-update` and look at the SVGs."""
from livejam.timing.wallclock import FakeClock
from livejam.settings.config import LivejamConfig
from livejam.app.nomidi import NoMidiRig
from livejam.model.onnx_model import OnnxModel
from livejam.app.tui.app import LivejamApp


def fixed_app(model):
    clock = FakeClock(100.0)
    rig = NoMidiRig(LivejamConfig(record=False), "No MIDI system: no ALSA sequencer. The computer keyboard plays.",
                     clock=clock, model=OnnxModel(model))
    eng = rig.engine
    eng.figures.reset()  # the model's cold first step (and anything else measured so far) out
    call = [(0.0, 60), (0.4, 64), (0.8, 67), (1.2, 72)]
    answer = [(2.3, 71), (2.6, 67), (2.9, 64), (3.5, 62), (3.5, 67), (4.4, 60)]
    for t, p in call:
        eng.roll.entries.extend([(t, "you", p, True), (t + 0.35, "you", p, False)])
    for t, p in answer:
        eng.roll.entries.extend([(t, "livejam", p, True), (t + 0.5, "livejam", p, False)])
    eng.roll.entries.extend([(6.0, "you", 65, True), (6.3, "you", 65, False)])
    clock.t = 100.0 + 6.5
    eng.conversation.phrases.note_on(clock.t - 0.5)
    eng.conversation.phrases.released(clock.t - 0.3)  # listening: 0.5 s to the answer
    eng.model.step_seconds.extend([0.00031, 0.00029, 0.00035, 0.00042])
    eng.conversation.onsets.extend([0.0011, 0.0013, 0.0012])
    eng.answers = 3
    return LivejamApp(rig, start_rig=False)


def test_main_screen_80x24(snap_compare, tiny_model):
    assert snap_compare(fixed_app(tiny_model), terminal_size=(80, 24))


def test_main_screen_120x36(snap_compare, tiny_model):
    assert snap_compare(fixed_app(tiny_model), terminal_size=(120, 36))
