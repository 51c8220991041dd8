"""Accompany mode: livejam plays along while the player plays, fed by every note
they play. On each of its beats the model proposes the next pitches (its note
choices after everything heard up to that beat, as an answer would start) and
the role's masks keep them in place:

- bass: one note a beat, below the player's lowest sounding (or latest) note;
- chords: two to four notes a beat, below the player's lowest note;
- counter: one note on each off-beat, in the player's register but apart from the
  melody (at least a minor third from every note sounding).

Every note chosen is in the key of the player's last three seconds and consonant with
every note the player has sounding (unison, thirds, fifths, sixths, octaves; a
fourth over the bass counts as a dissonance); a note the player strikes that
clashes with what livejam holds changes the harmony.

Beats come from the tempo (--bpm or a followed clock: on the grid; a clash is
mended on the next sixteenth, or at once with quantise at 0) or, in free time,
from the player's pulse as heard: the median of the last eight intervals between
the player's note onsets, folded by octaves into 0.4-1.0 s, counted from the
latest onset (a clash mended at once). The line goes on while the player
plays and ends within a beat of their last note (the notes it holds run out);
then_answer lets answer mode take the turn after that.

With --split, what the left hand holds below the split is the harmony
(harmony/chords.py): the bass plays its tones (the root likelier on a change),
the chords a voicing of it led from the last (harmony/voicing.py: the least
motion, no parallel fifths or octaves between the bass and the top voice), the
counter-line its tones; a new chord is taken up on the next sixteenth (free
time: at once), and a melody note outside it changes nothing. The left hand
alone keeps the line going, as the melody does.

Every note goes to the scheduler under its own source ("accompany"), so it is
released on every exit path and never cuts or is cut by the player's notes.
Only the engine thread calls in."""
from __future__ import annotations

from collections import deque

import mido
import numpy as np

from ..harmony.chords import Chord
from ..harmony.voicing import outer, parallel_free, voice_lead
from ..model import vocab
from ..timing.pulse import Beats
from .call import estimate_key

SOURCE = "accompany"
CONSONANT = frozenset({0, 3, 4, 7, 8, 9})  # intervals (mod 12) from the lower note: no seconds, fourths, tritones, sevenths
_CONSONANT = np.isin(np.arange(12), sorted(CONSONANT))  # the same, indexed by interval class
_PITCHES = np.arange(128)
BASS_RANGE = (28, 57)  # E1 .. A3
CHORD_RANGE = (36, 72)  # C2 .. C5
CLEARANCE = 3  # semitones below the player's lowest note a bass or chord note keeps
COUNTER_APART = 3  # semitones a counter note keeps from every melody note sounding
# Seconds of the player's notes the key is judged from. By the judge (bin/train judge
# --mode accompany): 8 s left chords in the old key to the end of a tune that moved
# from C to G major, 4 s for 10 beats; 3 s follows at once, still 97-100 % in key.
KEY_WINDOW = 3.0
RECENT = 4.0  # seconds of the player's notes that set the register when nothing sounds
# Decided just before the beat, not a lookahead earlier: a player's note struck up to
# 4 ms before the beat is heard first (the engine takes what was played before it
# looks at the time), so the beat's notes fit it instead of sounding for a moment and
# being changed; the decision (a model step, the masks) takes ~1.3 ms, so the notes
# are scheduled for the beat and go out on it. A note struck later than that and
# clashing is mended on the next sixteenth.
PREPARE = 0.004
KEY_NOTES = 6  # notes before the key is judged; until then only pitch classes the player played
LATE_BEATS = 0.125  # a beat woken to later than this is skipped, not played late
LENGTH = {"bass": 0.9, "chords": 0.95, "counter": 0.45}  # of a beat
VELOCITY_SCALE = 0.8  # the accompaniment a little under the player
LEAP_COST = 0.25  # logits off per semitone from its previous lowest note: a line moves by steps and small leaps
ROOT_NATS = 2.0  # the bass's root made likelier on a change of the left hand's chord
SETTLE = 0.03  # seconds a left-hand chord takes to be struck in full (a rolled or ragged chord)


class Accompanist:
    def __init__(self, cfg, listener, scheduler, sampler, grid) -> None:
        self.cfg, self.listener, self.scheduler, self.sampler, self.grid = cfg, listener, scheduler, sampler, grid
        self.sounding: dict[int, float] = {}  # the player's keys down: pitch -> when struck
        self.recent: deque = deque(maxlen=256)  # the player's notes: [start, end or None, pitch]
        self.beats = Beats(grid, lambda: 0.5 if cfg.role == "counter" else 0.0)  # its beats: the grid or your pulse
        self.velocity = 64
        self.last_played: float | None = None  # the player's latest note-on or release
        self.next_beat: float | None = None  # the time of the beat it plays on next
        self.holding: list[tuple[int, float]] = []  # livejam's notes sounding: (pitch, until)
        self.notes_played = 0
        self.previous: int | None = None  # its last lowest note (the line's voice leading)
        self.left = None  # harmony.chords.LeftHand: the chord held below --split (set by the conversation)
        self.voicing: list[int] = []  # its last notes (the chords' voice leading)
        self.outer: tuple[int, int] | None = None  # (its bass, the top voice) last time: no parallels into the next
        self.harmony: Chord | None = None  # the left hand's chord its notes were chosen in
        self.planned: tuple | None = None  # (the next beat, its notes, the role) decided a beat ahead
        self.plans_made = self.plans_kept = 0  # how often the plan shown was what played (the judge reads)
        self.show_plan = lambda notes: None  # (start, end, pitch) of the plan: the conversation shows it

    # -- what the player plays ---------------------------------------------------
    def heard(self, msg: mido.Message, t: float) -> None:
        if msg.type == "note_on" and msg.velocity > 0:
            self.sounding[msg.note] = t
            self.recent.append([t, None, msg.note])
            self.beats.heard(t)
            self.velocity = msg.velocity
            self.last_played = t
            if self.next_beat is None:
                self.next_beat = self.beats.first(t)
            elif self._clashes(msg.note, t):
                self.next_beat = min(self.next_beat, self.beats.change_at(t, self.cfg.quantize))  # the harmony moved under what it holds
        elif msg.type in ("note_on", "note_off"):
            if self.sounding.pop(msg.note, None) is not None:
                self.last_played = t
            for n in reversed(self.recent):
                if n[2] == msg.note and n[1] is None:
                    n[1] = t
                    break

    def left_hand(self, t: float) -> None:
        """The left hand struck or let go below the split: it plays too (it starts and
        keeps the line), and a new chord is taken up within a sixteenth."""
        if self.left.down:
            self.last_played = t
        changed = self.left.chord(t + SETTLE, self._key_set(self._key(t))) != self.harmony
        if self.left.down and (self.next_beat is None or changed):
            self.beats.heard(t)
        if self.next_beat is None:
            if self.left.down:
                self.next_beat = self.beats.first(t + SETTLE)
        elif changed:
            self.next_beat = min(self.next_beat, self.beats.change_at(t + SETTLE, self.cfg.quantize))

    def keys_up(self, t: float) -> None:
        """Every key let go (a panic, a lost input): nothing of the player sounds."""
        self.sounding.clear()
        for n in self.recent:
            if n[1] is None:
                n[1] = t

    # -- its own line ----------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.next_beat is not None

    def next_wakeup(self) -> float | None:
        return None if self.next_beat is None else self.next_beat - PREPARE

    def tick(self, now: float) -> None:
        while self.next_beat is not None and now >= self.next_beat - PREPARE:
            beat = self.next_beat
            if self._player_gone(beat):
                self.next_beat = None  # they stopped: what it holds runs out within the beat
                return
            if now - beat > LATE_BEATS * self._beat_seconds():
                # Woken late (a busy machine): that beat is past; the next one, not a burst of all missed.
                self.next_beat = self.beats.after(beat)
                continue
            self._play(beat, now)
            self.next_beat = self.beats.after(beat)
            self._plan(self.next_beat)

    def stop(self) -> None:
        """Silence now (panic, mute, leaving the mode, a model switch): every note released."""
        self.scheduler.cancel(SOURCE, cut=True)
        self.forget()

    def forget(self) -> None:
        """No line in play (its notes already released): the next note the player strikes starts one."""
        self.holding, self.next_beat, self.previous = [], None, None
        self.voicing, self.outer, self.harmony = [], None, None
        if self.planned is not None:
            self.planned = None
            self.show_plan([])

    def _player_gone(self, beat: float) -> bool:
        held = self.sounding or (self.left is not None and self.left.down)
        return not held and (self.last_played is None or beat - self.last_played > self._beat_seconds())

    def _play(self, beat: float, now: float) -> None:
        at = max(beat, now)
        length = LENGTH[self.cfg.role] * self._beat_seconds()
        if any(until > at for _, until in self.holding):
            # A harmony change before what it holds (or has lined up for this beat) was
            # due to end: all of it goes, released now, and the new notes take over.
            self.scheduler.cancel(SOURCE)
        planned, self.planned = self.planned, None
        kept = planned is not None and (planned[0], planned[2]) == (beat, self.cfg.role) and self._fits(planned[1], at)
        self.plans_kept += kept
        pitches = planned[1] if kept else self.choose(at)
        if pitches:
            self.previous, self.voicing = pitches[0], pitches
            self.outer = outer(self._others(at), pitches) or self.outer  # kept while it plays an inner voice
        vel = max(1, min(127, int(self.velocity * VELOCITY_SCALE)))
        self.holding = []
        for p in pitches:
            self.scheduler.schedule(at, mido.Message("note_on", note=p, velocity=vel, channel=self._channel()), SOURCE)
            self.scheduler.schedule(at + length, mido.Message("note_off", note=p, channel=self._channel()), SOURCE)
            self.holding.append((p, at + length))
        self.notes_played += len(pitches)

    def _channel(self) -> int:
        return self.cfg.channel - 1

    # -- the plan: the next beat's notes, decided a beat ahead ------------------------
    def _plan(self, beat: float) -> None:
        """Decide the next beat's notes now, with all heard so far, and show them. At
        the beat they are played unless what the player struck since makes them clash
        (or the left hand changed chord): then the beat is decided afresh."""
        self.planned = (beat, self.choose(beat), self.cfg.role)
        self.plans_made += 1
        length = LENGTH[self.cfg.role] * self._beat_seconds()
        self.show_plan([(beat, beat + length, p) for p in self.planned[1]])

    def _fits(self, pitches: list[int], t: float) -> bool:
        """Do notes planned a beat ago still fit what the player sounds at t?"""
        key = self._key(t)
        chord = self.left.chord(t, self._key_set(key)) if self.left is not None else None
        if chord != self.harmony:
            return False  # the left hand changed chord (or took it up, or let it go)
        for p in pitches:
            if not (key is None or key[p % 12]) if chord is None else p % 12 not in chord.tones:
                return False
            if any(self._clash(p, m, consonance=chord is None) for m in self._melody(t)):
                return False
        return True

    def _beat_seconds(self) -> float:
        return self.beats.seconds()

    def pulse(self) -> float:
        """The player's beat in free time, from their onsets."""
        return self.beats.pulse()

    # -- pitches ---------------------------------------------------------------------
    def choose(self, t: float) -> list[int]:
        """The role's pitches for a beat at t: the model's note choices there, masked."""
        _, _, logits = self.listener.ahead(t)
        note_logits = np.asarray(logits[vocab.NOTE_ON:vocab.NOTE_ON + 128], np.float64)
        if self.previous is not None:
            note_logits = note_logits - LEAP_COST * np.abs(np.arange(128) - self.previous)
        melody = self._melody(t)
        key = self._key(t)
        chord = self.left.chord(t, self._key_set(key)) if self.left is not None else None
        changed, self.harmony = chord != self.harmony, chord
        if chord is not None:
            return self._in_chord(t, chord, note_logits, melody, key, changed)
        if self.cfg.role == "counter":
            allowed = self._counter_mask(melody, key)
            return self._pick(note_logits, allowed)
        lo, hi = BASS_RANGE if self.cfg.role == "bass" else CHORD_RANGE
        hi = min(hi, min(melody) - CLEARANCE) if melody else hi
        allowed = self._below_mask(lo, hi, melody, key)
        # A chord's root low enough to leave a fifth of room above it for the rest.
        roots = self._below_mask(lo, hi - 7, melody, key) if self.cfg.role == "chords" else allowed
        root = self._pick(note_logits, roots if roots.any() else allowed)
        if self.cfg.role == "bass" or not root:
            return root
        # Chords: up to three more above the root, each consonant with the root, the
        # melody and what is chosen, at least a minor third apart, below the melody.
        chosen = list(root)
        for _ in range(3):
            m = allowed.copy()
            m[: chosen[0] + 3] = False
            for c in chosen:
                d = _PITCHES - c
                m &= _CONSONANT[d % 12] & (np.abs(d) >= 3) & (d % 12 != 0)
            got = self._pick(note_logits, m)
            if not got:
                break
            chosen += got
            if len(chosen) >= 3 and self.sampler.rng.random() < 0.5:
                break  # three notes, sometimes four
        if len(chosen) == 1:  # nothing else fits yet (one pitch class heard): the root's octave
            octave = next((q for q in (chosen[0] + 12, chosen[0] - 12) if allowed[q] or lo <= q <= hi), None)
            if octave is not None:
                chosen.append(octave)
        return sorted(chosen)

    def _in_chord(self, t: float, chord: Chord, note_logits: np.ndarray, melody: list[int], key,
                  changed: bool) -> list[int]:
        """The role's notes within the left hand's chord."""
        tones = np.isin(_PITCHES % 12, sorted(chord.tones))
        top = max(melody) if melody else None
        others = self._others(t)
        # No parallel fifths or octaves between the outer voices where it plays one.
        free = parallel_free(self.outer, others, _PITCHES)
        if self.cfg.role == "counter":
            # The chord's tones apart from the melody: consonant with it if any are, else any.
            for consonant in (True, False):
                m = self._counter_mask(melody, None, consonant) & tones & free
                if m.any():
                    return self._pick(note_logits, m)
            return self._pick(note_logits, self._counter_mask(melody, key))
        lo, hi = BASS_RANGE if self.cfg.role == "bass" else CHORD_RANGE
        hi = min(hi, top - CLEARANCE) if top is not None else hi
        if self.cfg.role == "chords":
            return voice_lead(chord.tones, chord.root, lo, hi, self.voicing, self.outer, others, note_logits)
        m = np.zeros(128, bool)
        m[lo:max(lo, hi + 1)] = True
        m &= tones & free
        if changed:
            note_logits = note_logits + ROOT_NATS * (_PITCHES % 12 == chord.root)
        return self._pick(note_logits, m if m.any() else tones & (_PITCHES >= lo) & (_PITCHES <= max(lo, hi)))

    def _others(self, t: float) -> list[int]:
        """What the player sounds at t: the melody (or its latest note) and the left hand."""
        return self._melody(t) + sorted(self.left.holding(t) if self.left is not None else ())

    @staticmethod
    def _key_set(key) -> frozenset[int] | None:
        return None if key is None else frozenset(np.flatnonzero(key).tolist())

    def _pick(self, note_logits: np.ndarray, allowed: np.ndarray) -> list[int]:
        if not allowed.any():
            return []
        return [self.sampler.sample(note_logits, allowed)]

    def _melody(self, t: float) -> list[int]:
        """The player's notes sounding at t, or (between notes) the latest one."""
        if self.sounding:
            return sorted(self.sounding)
        latest = [n[2] for n in self.recent if n[0] >= t - RECENT]
        return latest[-1:]

    def _key(self, t: float) -> np.ndarray | None:
        """The pitch classes in the key of the player's last seconds (by interval
        class, a mask of 12); until enough is heard, those they played (a key from two
        notes is a guess); None before anything."""
        notes = [(s, e if e is not None else t, p, 64) for s, e, p in self.recent if s >= t - KEY_WINDOW]
        if not notes:
            return None
        pcs = estimate_key(notes).pitch_classes if len(notes) >= KEY_NOTES else {p % 12 for _, _, p, _ in notes}
        return np.isin(np.arange(12), sorted(pcs))

    def _below_mask(self, lo: int, hi: int, melody: list[int], key) -> np.ndarray:
        m = np.zeros(128, bool)
        if hi < lo:
            return m
        m[lo:hi + 1] = True
        if key is not None:
            m &= key[_PITCHES % 12]
        for s in sorted(self.sounding) or melody:
            m &= _CONSONANT[(s - _PITCHES) % 12]
        if not m.any() and key is not None:  # nothing in key fits the melody: consonance first
            return self._below_mask(lo, hi, melody, None)
        return m

    def _counter_mask(self, melody: list[int], key, consonant: bool = True) -> np.ndarray:
        m = np.zeros(128, bool)
        if not melody:
            return m
        recent = [n[2] for n in self.recent] or melody
        lo, hi = max(min(recent) - 5, 36), min(max(recent) + 5, 96)
        m[lo:hi + 1] = True
        if key is not None:
            m &= key[_PITCHES % 12]
        for s in melody:
            d = np.abs(_PITCHES - s)
            m &= (d >= COUNTER_APART) & (d % 12 != 0) & (_CONSONANT[d % 12] | (not consonant))
        if not m.any() and key is not None:
            return self._counter_mask(melody, None)
        return m

    def _clashes(self, pitch: int, t: float) -> bool:
        """Does a struck note clash with what livejam holds: a dissonance, a note at or
        under its bass or chord (they stay below the player), or one too near its
        counter-line? (Not while the left hand holds the harmony: the melody's
        passing notes do not move it.)"""
        if self.left is not None and self.left.holding(t):
            return False
        return any(self._clash(p, pitch) for p, until in self.holding if until > t)

    def _clash(self, ours: int, theirs: int, consonance: bool = True) -> bool:
        """Does our note clash with the player's: a dissonance (unless the left hand's
        chord rules), too near it for a counter-line, not under it for a bass or chord?"""
        if consonance and abs(theirs - ours) % 12 not in CONSONANT:
            return True
        return abs(theirs - ours) < COUNTER_APART if self.cfg.role == "counter" else theirs < ours + CLEARANCE
