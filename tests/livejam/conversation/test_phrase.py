"""Phrase-end decisions on given times."""
from livejam.conversation.phrase import PhraseDetector


def test_silence_after_the_last_release_ends_the_phrase():
    d = PhraseDetector(silence=0.8)
    assert d.due(held=False) is None  # nothing played
    d.note_on(10.0)
    assert d.due(held=True) is None  # a key is down
    d.released(10.5)
    assert d.due(held=False) == 10.5 + 0.8
    assert d.check(11.29, held=False) is None
    p = d.check(11.3, held=False)
    assert p and p.start == 10.0 and p.end == 10.5 and p.notes == 1 and abs(p.seconds - 0.5) < 1e-9
    assert not d.in_call


def test_a_new_note_restarts_the_wait_and_manual_end_is_immediate():
    d = PhraseDetector(silence=1.0)
    d.note_on(0.0)
    d.released(0.2)
    d.note_on(1.1)
    d.released(1.3)
    assert d.check(2.0, held=False) is None
    assert d.manual_end(2.0).notes == 2
    assert d.manual_end(2.1) is None
