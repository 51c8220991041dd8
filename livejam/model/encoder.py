"""Played MIDI -> vocabulary tokens, with the sustain pedal folded into note lengths.

One machine for both paths, so training data and live playing mean the same thing:
`StreamEncoder` takes one message at a time (the runtime feeds the model from it as
the player plays) and `notes_from_messages` runs a whole file through it (corpus
ingest and `respond`).

The rules (what a keyboard does with the same keys):
- a key released while its channel's pedal (CC64 >= 64) is down sounds until the
  pedal comes up or the pitch is struck again;
- re-strike: striking a sounding pitch ends it there and starts a new note
  (NOTE_OFF then NOTE_ON), whichever channel or track struck it;
- unison: two strikes of one pitch in the same 10 ms step are one key press (two
  voices doubling a note); it sounds until the last of them is released;
- hand-over: a key pressed twice on one channel (a voice taking over a note before
  the other let go) ends at its last release, never at the first;
- a note released in the step it started lasts one step (never zero length);
- live (one keyboard per channel, `live=True`): a key struck while it is still
  counted down lost its release on the way (a dropped NOTE_OFF), so it counts as
  pressed once, and its next release lets it go (a file's two voices keep the
  hand-over rule);
- a release of a key that is not down, or of a pitch another channel has since
  struck, is ignored; CC123 (all notes off) from a keyboard is an ordinary release
  of its keys; the drum channel (10) is ignored;
- `release_all` lets every key and pedal go at once (a panic, "answer now").
"""
from __future__ import annotations

from collections import Counter

from . import vocab

DRUM_CHANNEL = 9  # MIDI channel 10, zero-based
PEDAL_CC = 64
ALL_NOTES_OFF_CC = 123


class StreamEncoder:
    """Feed timed note/pedal events, get the tokens for each. Time shifts are
    emitted lazily, in front of the next event (or by `advance`)."""

    def __init__(self, ignore_channels: tuple[int, ...] = (DRUM_CHANNEL,), live: bool = False) -> None:
        self.ignore = set(ignore_channels)
        self.live = live
        self.step = 0  # time of the last emitted token, in 10 ms steps
        self.velocity_bin: int | None = None
        self.presses: Counter[tuple[int, int]] = Counter()  # (channel, pitch) -> keys down
        self.holders: dict[int, set[int]] = {}  # sounding pitch -> channels holding it
        self.onset: dict[int, int] = {}  # sounding pitch -> step it was struck
        self.pedal_down: set[int] = set()  # channels
        self.sustained: set[tuple[int, int]] = set()  # released under the pedal
        self.pending: set[int] = set()  # released in their first step: NOTE_OFF due one step on
        self.merged = Counter()  # how often each overlap rule applied (ingest reports it)

    def release_all(self, seconds: float) -> list[int]:
        """Every key and pedal let go at once (a panic, a lost input, "answer now"):
        the tokens that end what sounds, so the model hears it end. A key still
        physically down is then up as far as livejam knows: its release is ignored."""
        out: list[int] = []
        self.presses.clear()
        self.pedal_down.clear()
        self.sustained.clear()
        for pitch in sorted(self.holders):
            channel = min(self.holders[pitch])
            self.holders[pitch] = {channel}
            out += self._let_go(seconds, channel, pitch)
        return out + self.settle()

    def held_pitches(self) -> list[int]:
        """The pitches a key or the pedal holds now (what the screen names when one is held long)."""
        return sorted(self.holders)

    # -- time --------------------------------------------------------------
    def advance(self, seconds: float) -> list[int]:
        """TIME_SHIFT tokens up to `seconds` (never backwards); a note released in
        the step it started is ended one step on, on the way."""
        target = int(vocab.to_steps(seconds))
        if target <= self.step:
            return []
        out: list[int] = []
        if self.pending:
            out += [vocab.time_shift(1)] + [vocab.note_off(p) for p in sorted(self.pending)]
            self.pending.clear()
            self.step += 1
        out += vocab.shift_tokens(target - self.step)
        self.step = target
        return out

    def settle(self) -> list[int]:
        """The NOTE_OFFs still due one step on (end of a file, or before the model
        is asked to answer)."""
        return self.advance((self.step + 1) / vocab.STEPS_PER_SECOND) if self.pending else []

    @property
    def held(self) -> bool:
        """A key or the pedal is holding a note: the phrase is not over."""
        return bool(self.holders)

    # -- events ------------------------------------------------------------
    def note_on(self, seconds: float, pitch: int, velocity: int, channel: int = 0) -> list[int]:
        if velocity == 0:
            return self.note_off(seconds, pitch, channel)
        if channel in self.ignore:
            return []
        out = self.advance(seconds)
        if self.live and self.presses[(channel, pitch)]:
            self.presses[(channel, pitch)] = 0  # one hand cannot press a key that is down
            self.merged["lost release"] += 1
        self.presses[(channel, pitch)] += 1
        if pitch in self.pending:  # struck, released and struck again within 10 ms: one note
            self.pending.discard(pitch)
            self.holders[pitch], self.onset[pitch] = {channel}, self.step
            self.merged["unison"] += 1
            return out
        if pitch in self.holders:
            if self.onset[pitch] == self.step:
                self.holders[pitch].add(channel)
                self.sustained.discard((channel, pitch))
                self.merged["unison"] += 1
                return out
            out.append(vocab.note_off(pitch))
            self.sustained -= {(ch, pitch) for ch in self.holders[pitch]}
            self.merged["restrike"] += 1
        b = vocab.velocity_bin(velocity)
        if b != self.velocity_bin:
            out.append(vocab.velocity(b))
            self.velocity_bin = b
        out.append(vocab.note_on(pitch))
        self.holders[pitch] = {channel}
        self.onset[pitch] = self.step
        return out

    def note_off(self, seconds: float, pitch: int, channel: int = 0) -> list[int]:
        key = (channel, pitch)
        if self.presses[key] <= 0:
            self.presses.pop(key, None)
            return []
        self.presses[key] -= 1
        if self.presses[key] > 0:
            self.merged["handover"] += 1
            return []
        del self.presses[key]
        if channel not in self.holders.get(pitch, ()):
            return []
        if channel in self.pedal_down:
            self.sustained.add(key)
            return []
        return self._let_go(seconds, channel, pitch)

    def _let_go(self, seconds: float, channel: int, pitch: int) -> list[int]:
        holders = self.holders[pitch]
        holders.discard(channel)
        if holders:  # a unison partner still holds it
            return []
        del self.holders[pitch]
        out = self.advance(seconds)
        if self.onset.pop(pitch) == self.step:
            self.pending.add(pitch)
            return out
        return out + [vocab.note_off(pitch)]

    def control(self, seconds: float, number: int, value: int, channel: int = 0) -> list[int]:
        if channel in self.ignore:
            return []
        if number == ALL_NOTES_OFF_CC:
            out: list[int] = []
            for ch, pitch in sorted(k for k in self.presses if k[0] == channel):
                self.presses[(ch, pitch)] = 1
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
        ending = sorted(p for ch, p in self.sustained if ch == channel)
        self.sustained = {k for k in self.sustained if k[0] != channel}
        out = []
        for pitch in ending:
            if channel in self.holders.get(pitch, ()):
                out += self._let_go(seconds, channel, pitch)
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


def notes_from_messages(messages) -> tuple[list[vocab.Note], Counter]:
    """A whole performance, [(seconds, mido message)] in time order, as the live
    encoder hears it: its notes on the 10 ms grid (notes still held or sustained at
    the end end at the last event), and how often each overlap rule applied."""
    enc = StreamEncoder()
    tokens: list[int] = []
    end = 0.0
    for t, msg in messages:
        tokens += enc.message(msg, t)
        end = max(end, t)
    # Keys still down or sustained by a pedal never lifted end at the file's last
    # event (its last release), as note_seq ends them; never where the last token was.
    tokens += enc.release_all(end)
    return vocab.decode(tokens), enc.merged
