"""The engine on a fake clock with a recording output: phrase -> answer, timing,
interruption, masks, controls, and no note ever left hanging."""
import mido
import numpy as np

from livejam.conversation.events import ClockWaiting
from livejam.model import vocab
from livejam.timing.tempo import FIT_EVERY, PPQN


def first_pitch(rig):
    return rig.out.notes_on()[0][1].note


def answer_msgs(rig):
    ch = rig.cfg.channel - 1
    return [(t, m) for t, m in rig.out.messages if getattr(m, "channel", None) == ch and m.type in ("note_on", "note_off")]


def test_answer_starts_at_the_phrase_end_decision_and_releases_everything(rig):
    r = rig()
    r.phrase()  # 1 s of call
    last_release = r.clock.now()
    r.run(0.79)
    assert not r.out.messages  # still inside the silence threshold
    r.run(0.05)
    ons = r.out.notes_on()
    assert ons, "no answer after the silence threshold"
    decided = last_release + r.cfg.silence
    assert abs(ons[0][0] - decided) <= 0.0021  # the first note at the decision: no leading rest
    r.run(3.0)
    assert r.conv.answer is None
    assert r.out.hanging() == {}
    events = r.events()
    assert [k for k, _ in events][:2] == ["phrase", "answer"]
    # The call lasted ~1 s, below the 2 s floor: the answer lasts 2 s, its last note
    # released by then (at the end, or earlier when the model let every note go first).
    offs = [t for t, m in answer_msgs(r) if m.type == "note_off"]
    assert events[1][1]["seconds"] == 2.0
    assert 2.0 - 0.5 < max(offs) - ons[0][0] < 2.0 + 0.011


def test_answer_length_mirrors_the_call_clamped(rig):
    r = rig(min_answer=1.0, max_answer=16.0)
    r.phrase(pitches=[60, 62, 64, 65, 67, 65, 64, 62, 60, 62, 64, 65], each=0.25)  # 3 s
    r.run(1.0)
    start = r.out.notes_on()[0][0]
    r.run(4.0)
    end = max(t for t, m in answer_msgs(r))
    call = [d for k, d in r.events() if k == "phrase"][0]["seconds"]
    assert abs(call - 3.0) < 0.03
    assert abs((end - start) - call) < 0.011


def test_masks_keep_answers_playable(rig):
    r = rig(lowest=55, highest=72, polyphony=2, max_note_seconds=0.5, answer_seconds=6.0, temperature=1.5)
    r.phrase()
    r.run(8.0)
    sounding, starts = set(), {}
    for t, m in answer_msgs(r):
        if m.type == "note_on" and m.velocity > 0:
            assert 55 <= m.note <= 72
            assert m.note not in sounding  # no duplicate NOTE_ON
            sounding.add(m.note)
            starts[m.note] = t
            assert len(sounding) <= 2
        else:
            assert m.note in sounding  # no NOTE_OFF for a silent note
            sounding.discard(m.note)
            assert t - starts[m.note] <= 0.5 + 0.0021  # the rig's clock moves in 2 ms steps
    assert not sounding


def test_playing_over_an_answer_stops_it_at_once(rig):
    r = rig(answer_seconds=8.0)
    r.phrase()
    r.run(2.0)  # 1.2 s into the answer
    assert r.conv.answer is not None
    before = len(answer_msgs(r))
    t_in = r.clock.now()
    r.play("note_on", note=72, velocity=90)
    after = answer_msgs(r)[before:]
    assert all(m.type == "note_off" and t == t_in for t, m in after)  # only releases, right now
    r.run(0.5)
    r.play("note_off", note=72)
    r.run(0.5)
    assert len(answer_msgs(r)) == before + len(after)  # nothing more from the old answer
    assert r.out.hanging() == {}
    assert "interrupted" in [k for k, _ in r.events()]


class Ears:
    """The model model, keeping every token the model is fed, in order."""

    def __init__(self, model) -> None:
        self.model, self.heard = model, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def run(self, tokens, state):
        self.heard += [int(x) for x in tokens[0]]
        return self.model.run(tokens, state)

    def step(self, token, state):
        self.heard.append(int(token))
        return self.model.step(token, state)


def test_overlap_lets_the_answer_play_on_and_the_model_hears_the_call_under_it(rig):
    r = rig(answer_seconds=3.0, overlap=True, silence=3.0)
    ears = r.engine.listener.model = Ears(r.engine.model)
    r.phrase()
    r.run(3.5)  # 0.5 s into the answer
    r.play("note_on", note=72, velocity=90)
    r.run(0.3)
    r.play("note_off", note=72)
    r.run(2.4)  # past the answer's end, before the new call's silence is up
    kinds = [k for k, _ in r.events()]
    assert "interrupted" not in kinds and kinds.count("answer") == 1  # played to its end, not cut
    assert r.out.hanging() == {}
    # The note played over the answer reached the model, after the answer's own tokens.
    on72, off72 = vocab.note_on(72), vocab.note_off(72)
    assert on72 in ears.heard and off72 in ears.heard
    assert ears.heard.index(on72) < ears.heard.index(off72)
    assert ears.heard.index(on72) > max(i for i, t in enumerate(ears.heard) if t == vocab.note_on(first_pitch(r)))


def test_a_call_that_ends_during_an_overlapped_answer_gets_the_next_answer(rig):
    r = rig(answer_seconds=4.0, overlap=True)
    r.phrase()
    r.run(1.5)
    r.play("note_on", note=72, velocity=90)
    r.run(0.3)
    r.play("note_off", note=72)
    r.run(6.0)
    assert [k for k, _ in r.events()].count("answer") == 1
    assert r.out.hanging() == {}


def test_the_pedal_holds_the_phrase_open(rig):
    r = rig()
    r.play("control_change", control=64, value=127)
    r.phrase()
    r.run(2.0)
    assert not r.out.notes_on()  # keys up but the pedal still holds
    r.play("control_change", control=64, value=0)
    r.run(0.85)
    assert r.out.notes_on()


def test_mute_and_panic(rig):
    r = rig(answer_seconds=6.0)
    r.phrase()
    r.run(1.5)
    r.engine.command("muted", True)
    r.run(0.01)
    assert r.out.hanging() == {} and r.conv.answer is None
    r.phrase()
    r.run(2.0)
    n = len(r.out.notes_on())
    r.run(2.0)
    assert len(r.out.notes_on()) == n  # muted: no answer
    r.engine.command("muted", False)
    r.engine.command("panic")
    r.run(0.01)
    ccs = [(m.control, m.value) for _, m in r.out.messages if m.type == "control_change"]
    assert ccs[-3:] == [(123, 0), (64, 0), (120, 0)]


def test_ccs_steer_and_do_not_reach_the_model(rig):
    r = rig()
    cc = r.cfg.ccs
    step = r.engine.listener.encoder.step
    r.play("control_change", control=cc["temperature"], value=127)
    assert abs(r.cfg.temperature - 2.0) < 1e-9 and r.engine.sampler.temperature == r.cfg.temperature
    r.play("control_change", control=cc["silence"], value=0)
    assert abs(r.conv.phrases.silence - 0.2) < 1e-9
    # The musical controls, each on its own CC, across their sweeps.
    for name, value, want in (("key_adherence", 127, 1.0), ("register", 0, -24), ("register", 127, 24),
                              ("density", 0, 0.0), ("echo", 127, 1.0), ("echo", 0, -1.0)):
        r.play("control_change", control=cc[name], value=value)
        assert getattr(r.cfg, name) == want, name
    assert r.engine.listener.encoder.step == step  # nothing was encoded
    r.play("note_on", note=60, velocity=80)
    r.play("control_change", control=cc["phrase_end"], value=127)  # manual phrase end with the key still down...
    assert r.out.notes_on()  # ...answers at once


def test_incoming_all_notes_off_is_a_release_not_a_panic(rig):
    r = rig()
    r.play("note_on", note=60, velocity=80)
    r.play("control_change", control=123, value=0)
    assert not r.engine.listener.encoder.held
    assert not [m for _, m in r.out.messages if m.type == "control_change"]
    r.run(0.85)
    assert r.out.notes_on()


def test_stop_releases_every_note_then_sends_the_panic_ccs(rig):
    r = rig(answer_seconds=6.0)
    r.phrase()
    r.run(1.5)
    assert r.engine.scheduler.sounding("answer") or r.out.notes_on()
    r.engine.stop()
    assert r.out.hanging() == {}
    tail = [(m.control, m.value) for _, m in r.out.messages[-3:]]
    assert tail == [(123, 0), (64, 0), (120, 0)]


def test_hostile_streams_do_not_break_it(rig):
    r = rig()
    r.play("note_off", note=61)  # off without on
    r.play("sysex", data=[1, 2, 3])
    for _ in range(200):
        r.engine.feed_midi(mido.Message("clock"))
    for p in range(128):
        r.engine.feed_midi(mido.Message("note_on", note=p, velocity=100))
    r.run(0.01)
    for p in range(128):
        r.engine.feed_midi(mido.Message("note_off", note=p))
    r.run(3.0)
    assert r.out.notes_on()  # it still answers
    r.run(16.0)
    assert r.out.hanging() == {}
    assert r.engine.answers == 1 and np.isfinite(r.engine.listener.state).all()


def test_an_answer_prepared_ahead_is_dropped_when_the_player_goes_on(rig):
    r = rig()
    r.phrase()
    r.run(0.8 - 0.006)  # inside the window where the answer's start is sampled ahead
    assert r.conv.upcoming is not None and r.engine.scheduler.pending("answer") > 0
    assert not r.out.notes_on()  # prepared, not heard
    r.play("note_on", note=70, velocity=80)
    assert r.conv.upcoming is None and r.engine.scheduler.pending("answer") == 0
    r.run(0.1)
    assert not r.out.notes_on()
    r.play("note_off", note=70)
    released = r.clock.now()
    r.run(0.85)
    ons = r.out.notes_on()
    assert ons and abs(ons[0][0] - (released + 0.8)) <= 0.0021


def test_the_onset_figure_times_the_first_note_even_when_it_beats_the_commit(rig):
    r = rig()
    r.phrase()
    r.run(0.79)
    due = r.conv.phrases.due(False)
    r.clock.t = due
    r.engine.scheduler.run_due()  # the scheduler thread sends before the engine ticks
    r.run(0.5)
    assert r.conv.onsets and r.conv.onsets[0] < 0.001


def test_answers_end_on_notes_that_sounded_not_slivers(rig):
    from livejam.conversation.answer import LAST_ONSET_SECONDS, MIN_NOTE_SECONDS

    for seed in range(4):
        r = rig(answer_seconds=3.0, temperature=1.6, seed=seed)
        r.phrase()
        r.run(5.0)
        msgs = answer_msgs(r)
        start, end = msgs[0][0], max(t for t, _ in msgs)
        assert end - start <= 3.0 + 0.011  # released by the answer's end (it may end on a rest)
        began = {}
        for t, m in msgs:
            if m.type == "note_on" and m.velocity > 0:
                assert t <= end - LAST_ONSET_SECONDS + 1e-9, "a note started in the answer's last moments"
                began[m.note] = t
            else:
                assert t - began.pop(m.note) >= MIN_NOTE_SECONDS - 1e-9, "a sliver of a note"
        assert r.out.hanging() == {}


def test_a_lost_note_off_is_cleared_by_striking_the_key_again_and_the_call_is_answered(rig):
    r = rig(answer_seconds=0.5, silence=0.3)
    r.play("note_on", note=60, velocity=80)
    r.run(0.2)
    r.play("note_on", note=64, velocity=80)
    r.play("note_off", note=64, velocity=0)  # 60's note-off is lost on the way
    r.run(2.0)
    assert not [k for k, _ in r.events() if k == "phrase"], "a key still counts as down"
    r.play("note_on", note=60, velocity=80)  # the player strikes it again...
    r.run(0.2)
    r.play("note_off", note=60, velocity=0)  # ...and lets go: the call is over
    r.run(1.5)
    assert "phrase" in [k for k, _ in r.events()]
    assert r.engine.answers == 1


def test_a_pad_on_the_drum_channel_does_not_start_a_call(rig):
    r = rig(answer_seconds=0.5, silence=0.3)
    for _ in range(3):
        r.play("note_on", note=36, velocity=100, channel=9)
        r.run(0.1)
        r.play("note_off", note=36, velocity=0, channel=9)
        r.run(0.1)
    r.run(2.0)
    assert r.engine.answers == 0 and not r.out.notes_on()
    assert r.conv.state == "waiting"


def test_midi_clock_wakes_the_engine_a_sixteenth_at_a_time_and_keeps_its_order(rig):
    """48 ticks a second at 120 BPM need not wake the engine 48 times: it is woken at
    once for the transport and until the tempo is found, then every FIT_EVERY ticks;
    whatever it does in between takes every tick waiting first, in the port's order
    (ticks that came after a Stop are counted after it)."""
    r = rig(clock_port="daw")
    eng, spt = r.engine, 0.5 / PPQN
    t0 = r.clock.now()
    wakes = 0

    def engine_thread():  # what the engine thread does when its inbox wakes it
        nonlocal wakes
        while not eng.inbox.empty():
            item = eng.inbox.get()
            wakes += isinstance(item, ClockWaiting)
            eng.process(item)

    eng.feed_midi_clock(mido.Message("start"), t0)
    for k in range(8 * PPQN):
        eng.feed_midi_clock(mido.Message("clock"), t0 + k * spt)
        engine_thread()
    assert eng.tempo.bpm is not None and abs(eng.tempo.bpm - 120) < 0.5
    assert 8 * PPQN // FIT_EVERY <= wakes <= 2 + 12 + 8 * PPQN // FIT_EVERY  # (every tick: 193)
    for k in range(8 * PPQN, 8 * PPQN + 3):  # not yet woken for these: a decision takes them anyway
        eng.feed_midi_clock(mido.Message("clock"), t0 + k * spt)
    eng.tick()
    assert eng.tempo.count == 8 * PPQN + 3
    for k in range(8 * PPQN + 3, 8 * PPQN + 10):  # the DAW stops; its clock runs on
        if k == 8 * PPQN + 5:
            eng.feed_midi_clock(mido.Message("stop"), t0 + k * spt - 0.001)
        eng.feed_midi_clock(mido.Message("clock"), t0 + k * spt)
    engine_thread()
    assert eng.tempo.stopped_at == 8 * PPQN + 5 and eng.tempo.count == 8 * PPQN + 10
    assert [d["what"] for k, d in r.events() if k == "clock"] == ["start", "found", "stop"]
