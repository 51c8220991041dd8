"""Corpus ingest: splits, cache reuse, a file heard as the live encoder hears a
player (pedal in its own track, overlaps, tempo maps), and hostile files."""

import mido
import numpy as np
from hypothesis import given, settings, strategies as st

from livejam.model import vocab
from tests.livejam.model.test_encoder import performances, play
from training.data import CorpusError, assign_splits, ingest, load_notes


def test_ingest_splits_by_piece_and_reuses_the_cache(tiny_corpus, tmp_path):
    c = ingest(tiny_corpus, cache=tmp_path / "cache", quiet=True)
    assert c.summary["pieces"] == 40 and c.summary["skipped"] == 0
    names = {s: {c.pieces[i].name for i in c.ids(s)} for s in ("train", "valid", "test")}
    assert not (names["train"] & names["valid"]) and not (names["train"] & names["test"]) and not (names["valid"] & names["test"])
    assert sum(len(v) for v in names.values()) == 40
    # Every piece's cached tokens are the encoding of its cached notes.
    for i in range(len(c.pieces)):
        assert np.array_equal(c.piece_tokens(i), vocab.encode(c.piece_notes(i)))
    again = ingest(tiny_corpus, cache=tmp_path / "cache", quiet=True)
    assert again.summary["ingest_seconds"] == c.summary["ingest_seconds"]  # reused, not rebuilt


def test_splits_are_stable_when_files_are_added():
    names = [f"p{i}" for i in range(500)]
    a = assign_splits(names, seed=0)
    b = assign_splits(names + ["new1", "new2"], seed=0)
    assert a == b[:500]
    assert 0.8 < a.count("train") / 500 < 0.97


def test_pedal_in_a_file_lengthens_notes(tmp_path):
    mid = mido.MidiFile(ticks_per_beat=480)  # 120 bpm: 960 ticks per second
    mid.tracks.append(mido.MidiTrack([
        mido.Message("control_change", control=64, value=127, time=0),
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_off", note=60, velocity=0, time=240),
        mido.Message("control_change", control=64, value=0, time=960),
        mido.Message("note_on", note=62, velocity=80, time=0),
        mido.Message("note_off", note=62, velocity=0, time=240),
    ]))
    mid.save(str(tmp_path / "p.mid"))
    notes, _ = load_notes(tmp_path / "p.mid")
    assert np.allclose(notes[:, :3], [[0, 1.25, 60], [1.25, 1.5, 62]], atol=1e-3)


def _as_file(events, path, tempo_track=None):
    """A type-1 file of a performance as a sequencer writes one: the pedal in its
    own track, each channel's notes in another, 1 ms ticks (or the tempo_track's)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=500)  # 120 bpm: one tick per ms
    mid.tracks.append(mido.MidiTrack(tempo_track or [mido.MetaMessage("set_tempo", tempo=500_000, time=0)]))
    tracks = {"pedal": [], 0: [], 1: []}
    for t, kind, ch, a, b in events:
        if kind == "on":
            tracks[ch].append((t, mido.Message("note_on", channel=ch, note=a, velocity=b)))
        elif kind == "off":
            tracks[ch].append((t, mido.Message("note_off", channel=ch, note=a)))
        else:
            tracks["pedal"].append((t, mido.Message("control_change", channel=ch, control=a, value=b)))
    for timed in tracks.values():
        track, now = mido.MidiTrack(), 0
        for t, msg in timed:
            tick = round(t * 1000)
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    mid.save(str(path))


@settings(max_examples=150, deadline=None)
@given(performances(file_order=True))
def test_a_file_gives_the_notes_the_live_encoder_heard(tmp_path_factory, events):
    path = tmp_path_factory.mktemp("perf") / "p.mid"
    _as_file(events, path)
    live, _ = play(events, settle=True)
    try:
        notes, _ = load_notes(path)
    except CorpusError:
        assert live == []
        return
    first = live[0].start  # ingest cuts the leading silence
    assert np.allclose(notes, [(n.start - first, n.end - first, n.pitch, n.velocity) for n in live], atol=1e-6)


def test_pedal_track_tempo_track_and_overlaps_in_one_file(tmp_path):
    # Two voices double C4 (a unison), the tenor re-strikes the E4 the alto holds,
    # G4 is struck again before its first press is let go (a hand-over); the pedal
    # and the tempo (120 bpm, then 60 bpm from 1 s) each in their own track.
    events = [
        (0.0, "on", 0, 60, 80), (0.0, "on", 1, 60, 60), (0.0, "on", 0, 64, 80), (0.1, "off", 0, 60, 0),
        (0.2, "cc", 0, 64, 127), (0.5, "on", 1, 64, 70), (0.6, "off", 1, 64, 0), (0.7, "off", 1, 60, 0),
        (0.8, "on", 0, 67, 80), (0.9, "on", 0, 67, 80), (0.9, "off", 0, 67, 0),
    ]
    tempo = [mido.MetaMessage("set_tempo", tempo=500_000, time=0), mido.MetaMessage("set_tempo", tempo=1_000_000, time=1000)]
    _as_file(events, tmp_path / "c.mid", tempo)
    mid = mido.MidiFile(str(tmp_path / "c.mid"))
    # After 1 s a tick is 2 ms: the pedal lifts at tick 1250 (1.5 s), G4's last press at tick 1050 (1.1 s).
    mid.tracks[1].append(mido.Message("control_change", channel=0, control=64, value=0, time=1050))
    mid.tracks[2].append(mido.Message("note_off", channel=0, note=67, time=150))
    mid.save(str(tmp_path / "c.mid"))
    notes, merged = load_notes(tmp_path / "c.mid")
    got = [(round(float(s), 2), round(float(e), 2), int(p)) for s, e, p, _ in notes]
    assert got == [
        (0.0, 0.7, 60),   # one key for both voices, to the later release
        (0.0, 0.5, 64),   # the alto's E4, ended by the tenor's re-strike
        (0.5, 0.6, 64),   # the tenor's E4 (channel 1: the pedal is channel 0's)
        (0.8, 0.9, 67),   # ended by its re-strike ...
        (0.9, 1.5, 67),   # ... which sounds to the key's last release (1.1 s), then the pedal's lift
    ]
    assert merged == {"unison": 1, "restrike": 2, "handover": 1}
    summary = ingest(tmp_path, cache=tmp_path / "cache", quiet=True).summary  # and ingest reports them
    assert summary["overlaps"] == {"restrike": 2, "unison": 1, "handover": 1} and summary["notes"] == 5


def test_drum_tracks_are_left_out(tmp_path):
    mid = mido.MidiFile()
    mid.tracks.append(mido.MidiTrack([
        mido.Message("note_on", channel=9, note=36, velocity=100, time=0),
        mido.Message("note_off", channel=9, note=36, time=100),
    ]))
    mid.save(str(tmp_path / "drums.mid"))
    try:
        load_notes(tmp_path / "drums.mid")
        raise AssertionError("a drums-only file should be skipped")
    except CorpusError as exc:
        assert "drum" in str(exc)


def _good_bytes(tmp_path) -> bytes:
    from tests.conftest import write_melody

    write_melody(tmp_path / "good.mid", seed=1, notes=6)
    return (tmp_path / "good.mid").read_bytes()


def test_bad_files_are_skipped_with_a_reason_and_the_rest_ingested(tiny_corpus, tmp_path):
    root = tmp_path / "mixed"
    root.mkdir()
    good = _good_bytes(tmp_path)
    (root / "good.mid").write_bytes(good)
    (root / "text.mid").write_bytes(b"this is not MIDI at all")
    (root / "empty.midi").write_bytes(b"")
    (root / "truncated.mid").write_bytes(good[:30])
    bad_len = bytearray(good)
    bad_len[4:8] = (0xFFFFFFF).to_bytes(4, "big")  # header chunk length far past the end
    (root / "badlen.mid").write_bytes(bytes(bad_len))
    c = ingest(root, quiet=True)
    assert c.summary["pieces"] >= 1
    reasons = c.summary["skipped_reasons"]
    assert any(r.startswith("text.mid: not a MIDI file") for r in reasons)
    assert any(r.startswith("empty.midi:") for r in reasons)
    assert all("\n" not in r and ": " in r for r in reasons)
    assert c.summary["pieces"] + c.summary["skipped"] == 5


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_truncated_or_mangled_files_never_crash(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("fuzz")
    good = _good_bytes(tmp)
    cut = data.draw(st.integers(0, len(good)))
    blob = bytearray(good[:cut])
    for _ in range(data.draw(st.integers(0, 3))):
        if blob:
            blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    path = tmp / "f.mid"
    path.write_bytes(bytes(blob))
    try:
        notes, _ = load_notes(path)
    except CorpusError as exc:
        assert str(exc)
    else:
        assert np.isfinite(notes).all() and (notes[:, 1] >= notes[:, 0]).all()
        vocab.encode(notes)


def test_every_byte_truncation_is_handled(tmp_path):
    good = _good_bytes(tmp_path)
    for cut in range(len(good)):
        (tmp_path / "t.mid").write_bytes(good[:cut])
        try:
            load_notes(tmp_path / "t.mid")
        except CorpusError:
            pass


def test_huge_delta_time_is_refused_or_bounded(tmp_path):
    mid = mido.MidiFile(ticks_per_beat=24)
    mid.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_off", note=60, velocity=0, time=0x0FFFFFFF),
    ]))
    mid.save(str(tmp_path / "huge.mid"))
    try:
        notes, _ = load_notes(tmp_path / "huge.mid")
    except CorpusError as exc:
        assert "timing" in str(exc)
    else:
        assert notes[:, 1].max() <= 24 * 3600


def test_a_rendered_corpus_splits_by_piece_and_holds_some_small_composers_out_whole():
    from collections import defaultdict

    from training.data import COMPOSER_HOLDOUT_MAX, composer_key, split_keyboard

    groups = [{"piece": f"big/{i // 3}", "composer": "BachJS"} for i in range(300)]  # 100 pieces, 3 movements
    groups += [{"piece": f"c{c}/{i}", "composer": f"Poet{c}A"} for c in range(26) for i in range(4)]
    splits = split_keyboard(groups, seed=0)
    by_piece, by_composer = defaultdict(set), defaultdict(set)
    for g, s in zip(groups, splits):
        by_piece[g["piece"]].add(s)
        by_composer[composer_key(g["composer"])].add(s)
    assert all(len(s) == 1 for s in by_piece.values())  # movements of a piece together
    assert "train" in by_composer["bach"] and len(by_composer["bach"]) > 1  # too big to hold out
    held = [c for c, s in by_composer.items() if s == {"test"}]
    assert 1 <= len(held) <= 10 and "bach" not in held
    assert composer_key("BachJS") == composer_key("Bach") == composer_key("Bach,_Johann_Sebastian") == "bach"
    assert COMPOSER_HOLDOUT_MAX < 100
