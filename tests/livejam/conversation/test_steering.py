"""Steering by the call: each control moves the logits it should, by the amount it
should; strict controls rule notes out; the copy guard stops verbatim copies."""
import numpy as np
import pytest

from livejam.model import vocab
from livejam.conversation.call import profile_of
from livejam.settings.config import LivejamConfig
from livejam.conversation.steering import COPY_LIMIT, ECHO_NATS, KEY_NATS, NEVER, Steering

C_MAJOR_CALL = [(i * 0.25, (i + 1) * 0.25, p, 80) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60])]


def on(z, pitch):
    return z[vocab.note_on(pitch)]


def steer(call=C_MAJOR_CALL, **cfg):
    base = {"key_adherence": 0.0, "density": 0.0, "echo": 0.0, "register": 0}
    return Steering(profile_of(call), LivejamConfig.from_dict({**base, **cfg}))


def test_neutral_controls_leave_notes_near_the_call_alone():
    z = steer().logits(np.zeros(vocab.VOCAB_SIZE), [], 0.0)
    assert on(z, 61) == 0 and on(z, 66) == 0 and z[vocab.time_shift(10)] == 0


@pytest.mark.parametrize("adherence", [0.3, 0.7])
def test_key_adherence_lowers_out_of_key_notes_in_proportion(adherence):
    z = steer(key_adherence=adherence).logits(np.zeros(vocab.VOCAB_SIZE), [], 0.0)
    assert on(z, 62) == 0 and on(z, 67) == 0  # D, G: in C major
    assert on(z, 61) == pytest.approx(-KEY_NATS * adherence) and on(z, 66) == pytest.approx(-KEY_NATS * adherence)


def test_strict_key_rules_out_of_key_notes_out_and_follows_live_changes():
    cfg_call = steer(key_adherence=1.0)
    z = cfg_call.logits(np.zeros(vocab.VOCAB_SIZE), [], 0.0)
    assert on(z, 63) == NEVER and on(z, 64) == 0
    cfg_call.cfg.key_adherence = 0.0  # turned down mid-answer
    assert on(cfg_call.logits(np.zeros(vocab.VOCAB_SIZE), [], 0.0), 63) == 0


def test_register_pulls_toward_the_call_or_an_octave_away():
    z = steer().logits(np.zeros(vocab.VOCAB_SIZE), [], 0.0)
    assert on(z, 36) < on(z, 55) <= 0 and on(z, 96) < on(z, 80) <= 0
    up = steer(register=12).logits(np.zeros(vocab.VOCAB_SIZE), [], 0.0)
    assert on(up, 78) > on(z, 78) and on(up, 50) < on(z, 50)


def test_density_holds_notes_back_when_ahead_and_asks_for_them_when_behind():
    s = steer(density=1.0)  # the call: 4 notes a second
    behind = s.logits(np.zeros(vocab.VOCAB_SIZE), [60], 2.0)  # 1 note in 2 s: 8 were due
    ahead = s.logits(np.zeros(vocab.VOCAB_SIZE), [60] * 12, 1.0)  # 12 in 1 s
    assert on(behind, 62) > 0 > on(ahead, 62)
    assert behind[vocab.time_shift(5)] == 0 == ahead[vocab.time_shift(5)]  # only notes move
    assert on(steer(density=2.0).logits(np.zeros(vocab.VOCAB_SIZE), [60] * 6, 1.0), 62) > on(
        steer(density=1.0).logits(np.zeros(vocab.VOCAB_SIZE), [60] * 6, 1.0), 62)


def test_echo_favours_the_calls_next_interval_and_contrast_avoids_it():
    # The answer's last step, 62 -> 64 (+2): in the call a +2 was followed by +2
    # (60 62 64) or by +1 (62 64 65), so 66 and 65 carry a motif on; 67 does not.
    played = [62, 64]
    echo = steer(echo=1.0).logits(np.zeros(vocab.VOCAB_SIZE), played, 0.5)
    contrast = steer(echo=-1.0).logits(np.zeros(vocab.VOCAB_SIZE), played, 0.5)
    assert on(echo, 66) == ECHO_NATS and on(echo, 65) == ECHO_NATS and on(echo, 67) == 0
    assert on(contrast, 66) == -ECHO_NATS and on(contrast, 67) == 0


def test_the_copy_guard_stops_a_verbatim_copy_unless_echo_is_full():
    played = [60, 62, 64, 65]  # the call's first four notes, exactly
    assert len(played) == COPY_LIMIT
    guarded = steer(echo=0.75).logits(np.zeros(vocab.VOCAB_SIZE), played, 1.0)
    assert on(guarded, 67) == NEVER  # the call's fifth note
    assert on(guarded, 69) > NEVER
    assert on(steer(echo=1.0).logits(np.zeros(vocab.VOCAB_SIZE), played, 1.0), 67) > 0
    # Transposed, it is a variation, not a copy.
    assert on(steer(echo=0.75).logits(np.zeros(vocab.VOCAB_SIZE), [62, 64, 66, 67], 1.0), 69) > NEVER


def test_strict_key_through_the_engine_keeps_every_answer_note_in_the_calls_key(rig):
    r = rig(key_adherence=1.0, answer_seconds=3.0, temperature=1.5)  # a random tiny model, sampled hot
    for call in ([60, 62, 64, 65, 67, 65, 64, 62, 60], [57, 60, 64, 62, 60, 59, 56, 57]):
        r.phrase(call, each=0.2)
        r.run(5.0)
        key = profile_of([(i, i + 1, p, 80) for i, p in enumerate(call)]).key
        played = [m.note for _, m in r.out.notes_on()]
        assert played and all(key.contains(p) for p in played), (key.name, played)
        r.out.messages.clear()


# A two-hand call: a left hand on C2-G2 under a right-hand tune around C5.
TWO_HANDS = [(i * 0.5, i * 0.5 + 0.5, p, 70) for i, p in enumerate([36, 43, 36, 43, 38, 43, 36, 43])] + [
    (i * 0.25, i * 0.25 + 0.25, p, 85) for i, p in enumerate([72, 74, 76, 77, 79, 77, 76, 74, 72, 71, 72, 76, 79, 84, 79, 72])]


def test_a_two_hand_call_is_heard_as_two_hands_and_one_hand_as_one():
    assert profile_of(TWO_HANDS).hands == ((36, 43), (71, 84))
    assert len(profile_of(C_MAJOR_CALL).hands) == 1
    # A single low note under a tune is a stray note, not a left hand.
    assert len(profile_of(C_MAJOR_CALL + [(0.0, 0.1, 36, 80)]).hands) == 1


def test_register_keeps_each_hand_where_the_call_had_it():
    z = steer(TWO_HANDS).logits(np.zeros(vocab.VOCAB_SIZE), [], 0.0)
    assert on(z, 36) == 0 and on(z, 40) == 0 and on(z, 76) == 0 and on(z, 84) == 0  # inside either hand
    assert on(z, 58) < -3 and on(z, 58) < on(z, 50)  # the empty middle costs what leaving a hand costs
    assert on(z, 20) < on(z, 30) <= 0 and on(z, 108) < on(z, 95) <= 0
    # Pulled toward the mean pitch alone (about 58), both hands would be 15-20 semitones off it.
    assert profile_of(TWO_HANDS).center == pytest.approx(57.7, abs=0.5)
    up = steer(TWO_HANDS, register=12).logits(np.zeros(vocab.VOCAB_SIZE), [], 0.0)
    assert on(up, 52) == 0 and on(up, 96) == 0 and on(up, 28) < on(z, 28)  # the register control moves both hands


def test_density_counts_a_chord_once_so_chords_are_not_heard_as_speed():
    # Half notes as four-note chords: 2 onsets a second, 8 notes a second.
    block = [(b * 0.5, b * 0.5 + 0.5, p, 70) for b in range(8) for p in (48, 52, 55, 60)]
    call = profile_of(block)
    assert call.rate == pytest.approx(8.0) and call.event_rate == pytest.approx(2.0)
    s = steer(block, density=1.0)
    # One second in, two chords struck (8 notes): 1 + 2 x 1.0 onsets were due, so the
    # third is asked for, as one single note would be.
    on_time = s.logits(np.zeros(vocab.VOCAB_SIZE), [48, 52, 55, 60] * 2, 1.0, events=2)
    assert on(on_time, 57) == pytest.approx(1.5)
    # Joining the chord just struck is never held back, however many notes it has.
    joining = s.logits(np.zeros(vocab.VOCAB_SIZE), [48, 52, 55, 60] * 3, 1.0, events=3, in_chord=True)
    assert on(joining, 57) == 0
    # Counted note by note, as before, the same chords read as far ahead.
    by_note = s.logits(np.zeros(vocab.VOCAB_SIZE), [48, 52, 55, 60] * 2, 1.0)
    assert on(by_note, 57) < on(on_time, 57) - 5
