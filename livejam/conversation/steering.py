"""Steering an answer by its call: biases added to the model's logits before
sampling, from the controls (key adherence, register, density, echo/contrast).

Each bias is in nats on NOTE_ON logits, so the model still chooses among what is
left: a bias makes a note likelier or rarer, a strict control (key adherence 1, or
the copy guard) rules notes out. Cheap per token: the static part is computed once
per answer.
"""
from __future__ import annotations

import numpy as np

from ..model import vocab
from .call import Profile

ON = slice(vocab.NOTE_ON, vocab.NOTE_ON + 128)
NEVER = -1e4  # rules a note out, yet leaves the sampler something if nothing else is allowed
KEY_NATS = 6.0  # out-of-key penalty at key adherence just under 1
REGISTER_FREE = 3  # semitones beyond a hand's range of the call with no pull at all
REGISTER_NATS = 0.6  # penalty per semitone beyond that
DENSITY_GAIN = 1.5  # nats per note ahead of or behind the aimed-for count
DENSITY_LIMIT = 8.0
ECHO_NATS = 3.0  # boost (echo) or penalty (contrast) of a note that continues a call motif
MOTIF_NOTES = 64
COPY_LIMIT = 4  # at echo below 1, no run of more than this many notes copied from the call


class Steering:
    def __init__(self, call: Profile, cfg, session=None) -> None:
        self.call, self.cfg = call, cfg
        self.session = session  # adaptation.SessionCache: with adapt on, the guard covers tonight's runs too
        self._static_for: tuple | None = None
        self._memo: tuple = (None, set())
        line = call.pitches
        recent = np.array(line[-MOTIF_NOTES:], int)  # motifs from the call's latest notes: a bounded search
        self.intervals = np.diff(recent) if len(recent) > 1 else np.zeros(0, int)
        self.first = line[0] if line else None
        # The call's (COPY_LIMIT)-note runs -> the notes that would extend them into a copy.
        self.copies: dict[tuple[int, ...], set[int]] = {}
        for i in range(len(line) - COPY_LIMIT):
            self.copies.setdefault(tuple(line[i : i + COPY_LIMIT]), set()).add(line[i + COPY_LIMIT])

    def _static(self) -> np.ndarray:
        """Key and register biases; recomputed only when those controls move (live)."""
        cfg, call = self.cfg, self.call
        if self._static_for != (cfg.key_adherence, cfg.register):
            pitches = np.arange(128)
            static = np.zeros(128)
            if cfg.key_adherence > 0 and call.key is not None:
                out = ~np.isin(pitches % 12, list(call.key.pitch_classes))
                static[out] = NEVER if cfg.key_adherence >= 1 else -KEY_NATS * cfg.key_adherence
            if call.pitches:
                # Each pitch is pulled toward the nearest hand of the call: a two-hand
                # call keeps its left hand low and its right hand high, and the gap
                # between them costs what leaving either hand costs.
                hands = call.hands or ((call.center, call.center),)
                away = np.min([np.maximum(np.maximum(lo + cfg.register - pitches, pitches - hi - cfg.register), 0)
                               for lo, hi in hands], axis=0)
                static -= REGISTER_NATS * np.maximum(away - REGISTER_FREE, 0)
            self._static_for, self._static_values = (cfg.key_adherence, cfg.register), static
        return self._static_values

    def logits(self, logits: np.ndarray, played: list[int], seconds: float, events: int | None = None,
               in_chord: bool = False) -> np.ndarray:
        """The biased logits for the next token, given the answer's pitches so far
        (onset order), how far into the answer it is, how many onsets it has struck
        (a chord once; default one per note) and whether a note now joins the chord
        just struck."""
        z = np.array(logits, dtype=np.float64)
        on = self._static().copy()
        # Density counts onsets, a chord once (the call's too): notes joining the
        # chord being struck are neither held back nor asked for.
        rate = self.cfg.density * self.call.event_rate
        if rate > 0 and not in_chord:
            struck = len(played) if events is None else events
            ahead = struck - (1 + rate * seconds)  # the first onset is due at once
            on -= float(np.clip(DENSITY_GAIN * ahead, -DENSITY_LIMIT, DENSITY_LIMIT))
        echo = self.cfg.echo
        if echo != 0:
            tail = tuple(played[-3:])  # all a continuation depends on; unchanged between notes
            if self._memo[0] != tail:
                self._memo = (tail, self._continuations(played))
            nxt = self._memo[1]
            if nxt:
                on[[p for p in nxt if 0 <= p < 128]] += ECHO_NATS * echo
        if echo < 1 and len(played) >= COPY_LIMIT:
            ruled_out = self.copies.get(tuple(played[-COPY_LIMIT:]), set())
            if self.session is not None and self.cfg.adapt > 0:
                ruled_out = ruled_out | self.session.copies(played)
            if ruled_out:
                on[list(ruled_out)] = NEVER
        z[ON] += on
        return z

    def _continuations(self, played: list[int]) -> set[int]:
        """Next pitches that carry on a motif of the call from where the answer is,
        transposed: the answer's last intervals found in the call, and the interval
        that followed there (two intervals if they match anywhere, else one)."""
        if not played:
            return {self.first} if self.first is not None else set()
        iv = self.intervals
        last = played[-1]
        for k in (2, 1):
            if len(played) <= k or len(iv) <= k:
                continue
            tail = np.diff(np.array(played[-k - 1 :], int))
            windows = np.lib.stride_tricks.sliding_window_view(iv[:-1], k)
            hits = np.nonzero((windows == tail).all(axis=1))[0]
            if len(hits):
                return {last + int(d) for d in iv[hits + k]}
        # Nothing matches yet: any step the call took, from here.
        return {last + int(d) for d in set(iv.tolist())} if len(iv) else set()
