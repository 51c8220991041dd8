"""Played MIDI -> vocabulary tokens, with the sustain pedal folded into note lengths.

Two paths with one meaning, held equal by property tests:
- `StreamEncoder`: one message at a time, for live input (the runtime feeds the
  model from it as the player plays).
- `fold_sustain` + `vocab.encode`: whole files at once, vectorised, for corpora.

The rules: a key released while its channel's pedal (CC64 >= 64) is down sounds
until the pedal comes up or the key is struck again; striking a sounding pitch
ends it first (NOTE_OFF then NOTE_ON); a release of a key that is not down, or of
a pitch another channel has since struck, is ignored; CC123 (all notes off) from
a keyboard is an ordinary release of its keys; the drum channel (10) is ignored.
"""
from __future__ import annotations

import numpy as np

from . import vocab

DRUM_CHANNEL = 9  # MIDI channel 10, zero-based
PEDAL_CC = 64
ALL_NOTES_OFF_CC = 123


class StreamEncoder:
    """Feed timed note/pedal events, get the tokens for each. Time shifts are
    emitted lazily, in front of the next event (or by `advance`)."""

    def __init__(self, ignore_channels: tuple[int, ...] = (DRUM_CHANNEL,)) -> None:
        self.ignore = set(ignore_channels)
        self.step = 0  # time of the last emitted token, in 10 ms steps
        self.velocity_bin: int | None = None
        self.sounding: dict[int, int] = {}  # pitch -> channel that struck it
        self.keys_down: set[tuple[int, int]] = set()  # (channel, pitch)
        self.pedal_down: set[int] = set()  # channels
        self.sustained: set[tuple[int, int]] = set()  # released under the pedal

    # -- time --------------------------------------------------------------
    def advance(self, seconds: float) -> list[int]:
        """TIME_SHIFT tokens up to `seconds` (never backwards)."""
        target = int(vocab.to_steps(seconds))
        if target <= self.step:
            return []
        tokens = vocab.shift_tokens(target - self.step)
        self.step = target
        return tokens

    @property
    def held(self) -> bool:
        """A key or the pedal is holding a note: the phrase is not over."""
        return bool(self.sounding)

    # -- events ------------------------------------------------------------
    def note_on(self, seconds: float, pitch: int, velocity: int, channel: int = 0) -> list[int]:
        if velocity == 0:
            return self.note_off(seconds, pitch, channel)
        if channel in self.ignore:
            return []
        out = self.advance(seconds)
        if pitch in self.sounding:
            out.append(vocab.note_off(pitch))
            self.sustained.discard((self.sounding[pitch], pitch))
        b = vocab.velocity_bin(velocity)
        if b != self.velocity_bin:
            out.append(vocab.velocity(b))
            self.velocity_bin = b
        out.append(vocab.note_on(pitch))
        self.sounding[pitch] = channel
        self.keys_down.add((channel, pitch))
        return out

    def note_off(self, seconds: float, pitch: int, channel: int = 0) -> list[int]:
        if (channel, pitch) not in self.keys_down:
            return []
        self.keys_down.discard((channel, pitch))
        if self.sounding.get(pitch) != channel:
            return []
        if channel in self.pedal_down:
            self.sustained.add((channel, pitch))
            return []
        del self.sounding[pitch]
        return self.advance(seconds) + [vocab.note_off(pitch)]

    def control(self, seconds: float, number: int, value: int, channel: int = 0) -> list[int]:
        if channel in self.ignore:
            return []
        if number == ALL_NOTES_OFF_CC:
            out: list[int] = []
            for ch, pitch in sorted(k for k in self.keys_down if k[0] == channel):
                out += self.note_off(seconds, pitch, ch)
            return out
        if number != PEDAL_CC:
            return []
        if value >= 64:
            self.pedal_down.add(channel)
            return []
        if channel not in self.pedal_down:
            return []
        self.pedal_down.discard(channel)
        ending = sorted(p for ch, p in self.sustained if ch == channel and self.sounding.get(p) == ch)
        self.sustained = {k for k in self.sustained if k[0] != channel}
        if not ending:
            return []
        out = self.advance(seconds)
        for pitch in ending:
            del self.sounding[pitch]
            out.append(vocab.note_off(pitch))
        return out

    def message(self, msg, seconds: float) -> list[int]:
        """A mido message (anything else on the wire is not part of the vocabulary)."""
        kind = msg.type
        if kind == "note_on":
            return self.note_on(seconds, msg.note, msg.velocity, msg.channel)
        if kind == "note_off":
            return self.note_off(seconds, msg.note, msg.channel)
        if kind == "control_change":
            return self.control(seconds, msg.control, msg.value, msg.channel)
        return []


def fold_sustain(notes: np.ndarray, channels: np.ndarray, pedal: dict[int, np.ndarray]) -> np.ndarray:
    """Lengthen notes released under the pedal, whole-file at once.

    notes: float array [n, 4] of (start, end, pitch, velocity) in seconds;
    channels: [n] channel of each note; pedal: channel -> array [m, 2] of
    (seconds, down 0/1) pedal changes in time order. Re-strikes are applied by
    vocab.quantize/encode afterwards, which ends a note when its pitch is struck again.
    """
    notes = np.array(notes, dtype=np.float64).reshape(-1, 4)
    channels = np.asarray(channels)
    piece_end = notes[:, 1].max() if len(notes) else 0.0  # a pedal never lifted holds to here
    for ch, changes in pedal.items():
        if len(changes) == 0:
            continue
        changes = np.asarray(changes, dtype=np.float64)
        times, down = changes[:, 0], changes[:, 1] > 0
        sel = np.nonzero(channels == ch)[0]
        ends = notes[sel, 1]
        # The pedal state at a release is the last change at or before it.
        idx = np.searchsorted(times, ends, side="right") - 1
        under = (idx >= 0) & down[np.maximum(idx, 0)]
        # It sounds until the next pedal-up after the release.
        ups = times[~down]
        nxt = np.searchsorted(ups, ends, side="right")
        has_up = nxt < len(ups)
        new_end = ups[np.minimum(nxt, len(ups) - 1)] if len(ups) else ends
        new_end = np.where(has_up, new_end, np.maximum(ends, piece_end))
        notes[sel, 1] = np.where(under, new_end, ends)
    return notes
