"""The TUI driven by Textual's Pilot: keys steer the engine, engine events show up."""
import asyncio
import tomllib

import mido
import pytest

from livejam.model import vocab
from livejam.settings import settings_file
from livejam.timing.wallclock import WallClock
from livejam.settings.config import LivejamConfig
from livejam.app.nomidi import NoMidiRig
from livejam.midi.outputs import RecordingOutput
from livejam.model.onnx_model import OnnxModel
from livejam.app.tui.app import LivejamApp
from tests.jack import receive
from tests.jack_peer import Peer


def make_app(model, **cfg):
    clock = WallClock()
    out = RecordingOutput(clock)
    rig = NoMidiRig(LivejamConfig.from_dict({"record": False, "seed": 2, **cfg}), "No MIDI system: test.",
                     clock=clock, model=OnnxModel(model), output=out)
    return LivejamApp(rig, save_settings=settings_file.update), rig, out


async def until(pred, timeout=5.0):
    for _ in range(int(timeout / 0.05)):
        if pred():
            return True
        await asyncio.sleep(0.05)
    return pred()


def log_text(app):
    return "\n".join(str(line.text) for line in app.main("#log").lines)


def roll_text(app):
    return "\n".join(strip.text for strip in app.main("#roll").strips)


def play_call(rig, pitches=(60, 64, 67, 71)):
    """A call with explicit timestamps (a quarter second apart, ending now): how
    fast the machine runs cannot split it; the phrase is ended by the key."""
    now = rig.clock.now()
    for i, p in enumerate(pitches):
        t = now - 0.25 * (len(pitches) - i)
        rig.engine.feed_midi(mido.Message("note_on", note=p, velocity=80), t)
        rig.engine.feed_midi(mido.Message("note_off", note=p), t + 0.2)


@pytest.mark.asyncio
async def test_keys_change_the_engine(tiny_model):
    app, rig, out = make_app(tiny_model)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("plus", "plus")
        assert await until(lambda: abs(rig.cfg.temperature - 1.1) < 1e-9)
        await pilot.press("minus")
        assert await until(lambda: abs(rig.cfg.temperature - 1.0) < 1e-9)
        await pilot.press("right_square_bracket")
        assert await until(lambda: abs(rig.engine.conversation.phrases.silence - 0.9) < 1e-9)
        await pilot.press("l")
        assert await until(lambda: rig.cfg.answer_seconds == 2.0)
        await pilot.press("o")
        assert await until(lambda: rig.cfg.overlap)
        await pilot.press("apostrophe", "comma", "9", "b")  # key +, register -, density -, echo +
        assert await until(lambda: (rig.cfg.key_adherence, rig.cfg.register, rig.cfg.density, rig.cfg.echo)
                            == (0.6, -12, 0.75, 0.25))
        assert "echo         0.25" in str(app.main("#controls").render())
        await pilot.press("m")
        assert await until(lambda: rig.cfg.muted)
        assert await until(lambda: "MUTED" in str(app.main("#state").render()))
        assert "overlap      on" in str(app.main("#controls").render())
        await pilot.press("8", "E")  # adapt +, phrase end: model
        assert await until(lambda: (rig.cfg.adapt, rig.cfg.phrase_rule) == (0.5, "model"))
        assert await until(lambda: "phrase end   model" in str(app.main("#controls").render()))
        rig.engine.conversation.style.feed([vocab.note_on(60)])
        await pilot.press("F")  # forget tonight's style
        assert await until(lambda: rig.engine.conversation.style.size == 0)
        assert await until(lambda: "forgot the 1 note heard" in log_text(app))
        await pilot.press("A", "R", "R")  # accompany mode; role bass -> chords -> counter
        assert await until(lambda: (rig.cfg.mode, rig.cfg.role) == ("accompany", "counter"))
        assert await until(lambda: "role         counter" in str(app.main("#controls").render()))


@pytest.mark.asyncio
async def test_a_phrase_and_its_answer_show_up_and_panic_releases_everything(tiny_model):
    # The silence never runs out by itself here: the space key ends the phrase.
    app, rig, out = make_app(tiny_model, answer_seconds=6.0, silence=60.0)
    async with app.run_test(size=(100, 30)) as pilot:
        play_call(rig)
        assert await until(lambda: "LISTENING" in str(app.main("#state").render()))
        await pilot.press("space")
        assert await until(lambda: "ANSWERING" in str(app.main("#state").render()), 8)
        assert await until(lambda: "phrase: 4 notes" in log_text(app)), log_text(app)
        assert await until(lambda: bool(out.notes_on()))
        assert rig.engine.roll.sources() == {"you", "livejam"}
        assert await until(lambda: "█" in roll_text(app))
        await pilot.press("p")
        assert await until(lambda: "panic" in log_text(app))
        assert out.hanging() == {}
        assert [(m.control, m.value) for _, m in out.messages if m.type == "control_change"][-3:] == \
            [(123, 0), (64, 0), (120, 0)]


@pytest.mark.asyncio
async def test_quitting_releases_notes_and_saves_settings(tiny_model):
    app, rig, out = make_app(tiny_model, answer_seconds=6.0, silence=60.0)
    async with app.run_test(size=(80, 24)) as pilot:
        play_call(rig, (62, 65, 69))
        await pilot.press("space")
        assert await until(lambda: rig.engine.conversation.answer is not None and bool(out.notes_on()))
        await pilot.press("plus")
        assert await until(lambda: abs(rig.cfg.temperature - 1.0) < 1e-9)
        await pilot.press("q")
    assert out.hanging() == {}
    saved = tomllib.loads(settings_file.settings_path().read_text())
    assert saved == {"temperature": 1.0}  # what was changed on screen, and nothing else
    assert settings_file.load()["temperature"] == 1.0


@pytest.mark.asyncio
async def test_flags_of_one_run_are_not_saved(tiny_model):
    """A run started as with `--no-record --silence 0.3` saves neither: the next run
    records again (the recording must never be turned off by a one-off flag)."""
    app, rig, out = make_app(tiny_model, record=False, silence=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        assert await until(lambda: rig.cfg.overlap)
        await pilot.press("q")
    assert settings_file.load() == {"overlap": True}


@pytest.mark.asyncio
async def test_model_and_device_screens(tiny_model, tmp_path):
    app, rig, out = make_app(tiny_model)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        assert await until(lambda: app.screen.__class__.__name__ == "ModelScreen")
        assert await until(lambda: app.screen.query_one("#models").option_count > 0)  # read on a thread
        names = [str(o.prompt) for o in app.screen.query_one("#models").options]
        assert any(n.startswith("default (default,") for n in names)
        await pilot.press("enter")  # switch to the first listed model
        assert await until(lambda: "model loaded:" in log_text(app).split("\n", 3)[-1])
        await pilot.press("c")
        assert await until(lambda: app.screen.__class__.__name__ == "DeviceScreen")
        await pilot.press("escape")
        assert await until(lambda: app.screen.__class__.__name__ != "DeviceScreen")


@pytest.mark.usefixtures("jack_server")
def test_the_tui_against_jack_answers_and_draws_both_parts(tiny_model):
    """The TUI over real virtual JACK ports: a phrase in, the answer out, both on the roll."""

    from livejam.midi import system
    from livejam.app.rig import LiveRig
    from livejam.bench.loopback import Loopback

    async def run():
        # The silence never runs out by itself: the phrase-end CC ends the call.
        rig = LiveRig(LivejamConfig.from_dict({"api": "jack", "virtual": True, "record": False, "seed": 3,
                                               "model": str(tiny_model), "answer_seconds": 1.5, "silence": 60.0}))
        app = LivejamApp(rig)
        async with app.run_test(size=(80, 24)):
            lb = Loopback(rig.api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
            try:
                for p in (60, 64, 67):
                    lb.send(mido.Message("note_on", note=p, velocity=80))
                    lb.send(mido.Message("note_off", note=p))
                answered = False
                for _ in range(5):  # a JACK xrun can drop a period's messages: ask again
                    lb.send(mido.Message("control_change", control=rig.cfg.ccs["phrase_end"], value=127))
                    if await until(lambda: any(m.type == "note_on" for _, m in lb.messages()), 2):
                        answered = True
                        break
                assert answered
                assert await until(lambda: "answer:" in log_text(app), 5)
                assert rig.engine.roll.sources() == {"you", "livejam"}
                assert await until(lambda: "█" in roll_text(app))
            finally:
                lb.close()

    asyncio.run(run())


@pytest.mark.asyncio
async def test_every_control_is_in_the_command_palette(tiny_model):
    app, rig, out = make_app(tiny_model)
    async with app.run_test(size=(80, 24)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
    for name in ("Mute", "Panic", "Answer now", "Temp +", "Temp -", "Length", "Silence +", "Silence -", "Overlap",
                 "Record", "Devices", "Model"):
        assert f"livejam: {name}" in titles


@pytest.mark.usefixtures("jack_server")
def test_switching_the_output_port_while_running(tiny_model):
    """What the device screen does: move the answers to another synth, no restart."""

    from livejam.midi import system
    from livejam.app.port_switch import switch_ports
    from livejam.app.rig import LiveRig
    from livejam.bench.loopback import Loopback

    rig = LiveRig(LivejamConfig.from_dict({"api": "jack", "virtual": True, "record": False, "seed": 3,
                                           "model": str(tiny_model), "answer_seconds": 1.0}))
    synth = Peer("in", "other-synth", "midi in")
    rig.start()
    lb = Loopback(rig.api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    try:
        switch_ports(rig, [], "other-synth:midi in")
        assert rig.output.name == "other-synth:midi in"  # the input kept its connection
        lb.play([60, 64, 67], each=0.1)
        got = receive(synth, lambda got: any(m.type == "note_on" and m.velocity > 0 for m in got))
        assert any(m.type == "note_on" and m.velocity > 0 for m in got)
    finally:
        lb.close()
        rig.stop()
        synth.close()


@pytest.mark.asyncio
async def test_sigterm_closes_the_app_with_every_note_released(tiny_model):
    import os
    import signal

    app, rig, out = make_app(tiny_model, answer_seconds=6.0, silence=60.0)
    async with app.run_test(size=(80, 24)) as pilot:
        play_call(rig, (62, 65, 69))
        await pilot.press("space")
        assert await until(lambda: bool(out.notes_on()) and rig.engine.conversation.answer is not None, 6)
        os.kill(os.getpid(), signal.SIGTERM)  # handled by the app's loop: an orderly exit
        assert await until(lambda: not app.is_running, 10)
    assert out.hanging() == {}
    assert [(m.control, m.value) for _, m in out.messages if m.type == "control_change"][-3:] == \
        [(123, 0), (64, 0), (120, 0)]


@pytest.mark.asyncio
async def test_with_a_tempo_the_state_box_shows_tempo_bar_beat_and_source(tiny_model):
    app, rig, out = make_app(tiny_model, bpm=100)
    async with app.run_test(size=(100, 30)):
        state = lambda: str(app.main("#state").shown_text)  # noqa: E731
        assert await until(lambda: "100.0 BPM" in state() and "internal clock" in state())
        first = state()
        assert "bar 1:" in first or "bar 2:" in first
        assert await until(lambda: state() != first, timeout=3)  # the beat moves on screen by itself


@pytest.mark.asyncio
async def test_without_a_tempo_no_tempo_line_and_no_timer(tiny_model):
    app, rig, out = make_app(tiny_model)
    async with app.run_test(size=(100, 30)):
        assert "BPM" not in str(app.main("#state").shown_text) and app.tempo_timer is None


@pytest.mark.asyncio
async def test_shift_p_primes_a_style_from_a_recorded_session_or_a_typed_path(tiny_model, tmp_path):
    from livejam.midi.files import write_tracks

    sessions = tmp_path / "sessions"
    sessions.mkdir()
    write_tracks(sessions / "livejam-20261201-200000.mid", [("player", [(0.3 * k, 0.3 * k + 0.2, 60 + 2 * k, 80)
                                                                       for k in range(6)])])
    typed = tmp_path / "blues.mid"
    write_tracks(typed, [("prime", [(0.3 * k, 0.3 * k + 0.2, 60 + (0, 3, 5, 6, 7, 10)[k], 80) for k in range(6)])])
    app, rig, _ = make_app(tiny_model, record_dir=str(sessions))
    async with app.run_test() as pilot:
        await pilot.press("P")
        await pilot.press("tab", "enter")  # the recorded session, newest first
        assert await until(lambda: rig.engine.conversation.style.size == 6)
        assert await until(lambda: "primed with 6 notes of livejam-20261201-200000.mid" in log_text(app))
        await pilot.press("P")
        await pilot.press(*str(typed), "enter")
        assert await until(lambda: rig.engine.conversation.style.size == 12)
        await pilot.press("P")
        await pilot.press(*"nowhere.mid", "enter")
        assert await until(lambda: "cannot prime from nowhere.mid" in log_text(app))


@pytest.mark.asyncio
async def test_shift_h_learns_the_split_from_the_next_key_shows_it_and_keeps_it(tiny_model):
    app, rig, out = make_app(tiny_model, thru=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("H")
        assert await until(lambda: "press the key where your right hand begins" in log_text(app))
        rig.engine.feed_midi(mido.Message("note_on", note=54, velocity=80))  # F#3 on the keyboard
        rig.engine.feed_midi(mido.Message("note_off", note=54))
        assert await until(lambda: rig.cfg.split == 54 and "split at F#3" in log_text(app))
        assert await until(lambda: "F#3" in str(app.main("#controls").shown_text))
        assert not [m for _, m in out.messages if getattr(m, "note", None) == 54]  # the key taught; it did not play
        await pilot.press("H", "H")  # learning again, then H again: no split
        assert await until(lambda: rig.cfg.split == 0)
        await pilot.press("H")
        rig.engine.feed_midi(mido.Message("note_on", note=48, velocity=80))
        assert await until(lambda: rig.cfg.split == 48)
        await pilot.press("q")
    assert settings_file.load()["split"] == 48
