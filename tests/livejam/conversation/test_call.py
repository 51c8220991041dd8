"""What the call was: key (Krumhansl-Schmuckler), register, density, line."""
from livejam.model import vocab
from livejam.conversation.call import HeardCall, estimate_key, profile_of
from livejam.model.encoder import StreamEncoder


def notes(pitches, each=0.25):
    return [(i * each, (i + 1) * each, p, 80) for i, p in enumerate(pitches)]


def test_keys_of_plain_tunes():
    assert estimate_key(notes([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60])).name == "C major"
    assert estimate_key(notes([69, 72, 76, 74, 72, 71, 68, 69, 64, 69])).name == "A minor"
    assert estimate_key(notes([67, 71, 74, 79, 74, 71, 67, 66, 67])).name == "G major"
    assert estimate_key([]) is None


def test_a_note_the_call_dwells_on_is_in_its_key_whatever_the_scale():
    blues = notes([60, 63, 65, 66, 67, 70, 67, 66, 65, 63, 60])  # Gb, the blue note, twice
    key = estimate_key(blues)
    assert key.contains(66) and key.contains(63) and key.contains(70)
    assert not key.contains(61)  # a pitch class the call never touched, outside the scale


def test_profile_register_density_and_line():
    p = profile_of(notes([60, 64, 67, 72], each=0.5))
    assert p.pitches == (60, 64, 67, 72) and abs(p.center - 65.75) < 1e-9
    assert abs(p.rate - 2.0) < 1e-9 and abs(p.seconds - 2.0) < 1e-9


def test_call_notes_hear_the_pedal_as_the_model_does():
    enc, call = StreamEncoder(), HeardCall()
    call.feed(enc.control(0.0, 64, 127) + enc.note_on(0.0, 60, 80) + enc.note_off(0.2, 60)
              + enc.note_on(0.5, 64, 80) + enc.note_off(0.6, 64) + enc.control(1.0, 64, 0))
    got = [(s, e, p) for s, e, p, _ in call.notes]
    assert sorted(got) == [(0.0, 1.0, 60), (0.5, 1.0, 64)]
    call.feed(enc.note_on(1.5, 67, 80) + enc.advance(1.8))
    assert profile_of(call.notes).pitches == (60, 64)
    assert call.profile().pitches == (60, 64, 67)  # the held note counts, up to now
    call.clear()
    assert call.profile().pitches == () and call.profile().key is None
    assert vocab.STEPS_PER_SECOND == 100
