"""Live adaptation: the session cache learns the player's habits (and only the
player's), keeps each kind of token's mass, stays bounded, forgets on request, and
moves the answers toward the style; the copy guard covers tonight's runs."""
import mido
import numpy as np

from livejam.conversation import adaptation
from livejam.conversation.adaptation import SessionCache
from livejam.conversation.call import Profile
from livejam.conversation.steering import NEVER, Steering
from livejam.model import vocab
from livejam.settings.config import LivejamConfig

WHOLE_TONE = {0, 2, 4, 6, 8, 10}


def tokens_of(pitches, each=0.2, velocity=80):
    return [int(t) for t in vocab.encode([(i * each, (i + 0.9) * each, p, velocity) for i, p in enumerate(pitches)])]


def whole_tone_line(n, seed=0):
    rng = np.random.default_rng(seed)
    p, out = 60, []
    for _ in range(n):
        p = int(np.clip(p + rng.choice([-4, -2, 2, 4]), 48, 84))
        out.append(p)
    return out


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def test_the_cache_takes_up_the_players_pitch_classes_intervals_rhythm_and_velocity():
    cache = SessionCache()
    cache.feed(tokens_of(whole_tone_line(80), each=0.25, velocity=100))
    p = cache.pitches([])
    assert p[[q for q in range(128) if q % 12 in WHOLE_TONE]].sum() > 0.97
    # From E4 the player moved by whole tones and major thirds, never by a semitone.
    after = cache.pitches([64])
    assert after[[62, 66]].sum() > 50 * after[[63, 65]].sum()
    # On a 0.25 s grid, each note held 90 %: a note sounds ~22 steps, the rest after it ~3.
    z = cache.mixed(np.zeros(vocab.VOCAB_SIZE), [64], 1.0, after="NOTE_ON")
    assert np.argmax(softmax(z)[adaptation.SHIFT]) + 1 in (22, 23)
    rest = cache.mixed(np.zeros(vocab.VOCAB_SIZE), [64], 1.0, after="NOTE_OFF")
    assert np.argmax(softmax(rest)[adaptation.SHIFT]) + 1 in (2, 3)
    vel = softmax(z)[adaptation.VEL]
    assert abs(int(np.argmax(vel)) - vocab.velocity_bin(100)) <= 1


def test_the_mix_keeps_each_kind_of_tokens_mass_and_adapt_zero_is_the_model_alone():
    cache = SessionCache()
    cache.feed(tokens_of(whole_tone_line(40)))
    z = np.random.default_rng(1).normal(size=vocab.VOCAB_SIZE) * 3
    for lam in (0.25, 0.7, 1.0):
        p, q = softmax(z), softmax(cache.mixed(z, [60, 62], lam))
        for seg in (adaptation.ON, adaptation.SHIFT, adaptation.VEL, slice(vocab.NOTE_OFF, vocab.NOTE_OFF + 128)):
            assert abs(p[seg].sum() - q[seg].sum()) < 1e-9
        assert q[adaptation.ON][[x for x in range(128) if x % 12 in WHOLE_TONE]].sum() > \
            p[adaptation.ON][[x for x in range(128) if x % 12 in WHOLE_TONE]].sum()
    assert np.array_equal(cache.mixed(z, [], 0.0), z)
    assert SessionCache().weight(1.0) == 0.0  # nothing heard: nothing to mix
    assert 0 < cache.weight(0.5) < 0.5 < cache.weight(1.0) < 1.0  # grows with what was heard, up to adapt


def test_the_cache_counts_only_its_window_so_a_long_night_stays_bounded(monkeypatch):
    monkeypatch.setattr(adaptation, "WINDOW", 50)
    cache = SessionCache()
    cache.feed(tokens_of([60, 62, 64] * 30))  # 90 notes of C major...
    cache.feed(tokens_of(whole_tone_line(50, seed=3)))  # ...then 50 whole-tone: the old ones are out
    assert cache.size == 50 and cache.pc.sum() == 50
    assert cache.pc[[1, 3, 5, 7, 9, 11]].sum() == 0
    assert all(v.min() >= 0 for v in cache.iv1.values()) and cache.iv0.sum() == 50 - 0  # every note had a predecessor
    assert sum(sum(n.values()) for n in cache.runs.values()) <= 50


def test_the_copy_guard_covers_runs_the_player_played_tonight():
    cache = SessionCache()
    cache.feed(tokens_of([60, 64, 67, 72, 71]))
    cfg = LivejamConfig(adapt=0.5, echo=0.0)
    steer = Steering(Profile(None, 60.0, 0.0, 0.0, (), ()), cfg, cache)
    z = steer.logits(np.zeros(vocab.VOCAB_SIZE), [60, 64, 67, 72], 0.0)
    assert z[vocab.NOTE_ON + 71] == NEVER  # a fifth note would copy the player's run
    cfg.adapt = 0.0
    assert steer.logits(np.zeros(vocab.VOCAB_SIZE), [60, 64, 67, 72], 0.0)[vocab.NOTE_ON + 71] == 0.0
    cfg.adapt, cfg.echo = 0.5, 1.0  # echo 1 asks for copies
    assert steer.logits(np.zeros(vocab.VOCAB_SIZE), [60, 64, 67, 72], 0.0)[vocab.NOTE_ON + 71] != NEVER


def test_the_engine_learns_the_players_notes_never_its_answers_and_forgets_on_request(rig):
    r = rig(adapt=0.5, answer_seconds=2.0)
    r.phrase(pitches=(60, 62, 64, 66, 68))
    r.run(3.0)
    assert r.engine.answers == 1 and len(r.out.notes_on()) > 0
    assert r.conv.style.size == 5  # the call's notes; the answer's never
    r.engine.command("forget")
    r.run(0.01)
    assert r.conv.style.size == 0
    notices = [d["message"] for k, d in r.events() if k == "notice"]
    assert notices and "forgot the 5 notes" in notices[-1]
    r.engine.feed_midi(mido.Message("control_change", control=113, value=127), r.clock.now())  # the adapt CC
    r.run(0.01)
    assert r.cfg.adapt == 1.0


def test_with_adapt_on_the_answers_move_toward_the_sessions_style(rig):
    shares = {}
    for adapt in (0.0, 1.0):
        r = rig(adapt=adapt, seed=3, key_adherence=0.0, answer_seconds=3.0)
        line = whole_tone_line(120, seed=5)
        for k in range(0, 120, 8):
            r.phrase(pitches=line[k : k + 8], each=0.15)
            r.run(4.0)
        late = [m.note for t, m in r.out.notes_on() if t > r.clock.now() - 5 * 4.5]
        shares[adapt] = np.mean([p % 12 in WHOLE_TONE for p in late])
    assert shares[1.0] >= 0.9 and shares[1.0] > shares[0.0] + 0.15, shares
