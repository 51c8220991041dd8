"""Live adaptation: tonight's playing, learned as it is played.

A cache model over the player's own tokens this session (never livejam's answers):
which pitch classes they use, the intervals between their notes (an interval
n-gram, two intervals of context backing off to one and none), the time shifts
between their events and their velocities. Mixed into the GRU's next-token
probabilities inside each kind's mass, geometrically (a product of experts):

    p(NOTE_ON q) = P_gru(NOTE_ON) * normalised(P_gru(q | NOTE_ON)^(1 - lam) * P_cache(q)^lam)

(the same for TIME_SHIFT and VELOCITY), so the model still decides *what kind*
of token comes next, and the cache reshapes *which one*. Geometric, not linear:
a linear mix leaves the GRU's favourite notes their share whatever the player
does (the judge measured no style gain below lam ~0.9); the product lets either
expert veto, as the key control does. `lam` is the adapt control
times the cache's confidence, which grows with the notes heard (a cache of three
notes knows little). Only the last WINDOW notes count: memory stays bounded over a
long night, and a change of style tonight is followed. No training, no network
change; the cost is a few small numpy operations per token, the cache distribution
recomputed only when the line moves on.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ..model import vocab
from .steering import COPY_LIMIT, ON

WINDOW = 2000  # the player's latest notes the cache counts
CONFIDENCE_NOTES = 16.0  # notes heard at which the cache gets half the adapt weight
MAX_INTERVAL = 24  # semitones; wider leaps count as this
PC_PRIOR = 0.5  # add-k smoothing of the pitch-class counts
BACKOFF = 2.0  # an interval context seen n times gets n / (n + BACKOFF) of the weight
SHIFT = slice(vocab.TIME_SHIFT, vocab.TIME_SHIFT + vocab.MAX_SHIFT)
VEL = slice(vocab.VELOCITY, vocab.VELOCITY + vocab.VELOCITY_BINS)
_IV = np.arange(-MAX_INTERVAL, MAX_INTERVAL + 1)
_PITCHES = np.arange(128)


class SessionCache:
    """The player's habits this session. Fed on the engine thread with the tokens
    each played message became; asked for mixed logits while an answer samples."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget tonight (a key, or a new session)."""
        self.notes: deque[tuple[int, tuple, tuple, int, tuple | None]] = deque()  # what each note added
        self.pc = np.zeros(12)
        self.iv0 = np.zeros(len(_IV))
        self.iv1: dict[int, np.ndarray] = {}
        self.iv2: dict[tuple[int, int], np.ndarray] = {}
        # The time shifts after a note starts (how long it sounds, or the next onset) and
        # after one ends (the rest before the next): one histogram would give an answer's
        # notes the length of the player's rests.
        self.shifts = {after: deque(maxlen=WINDOW) for after in ("on", "off")}
        self.shift_counts = {after: np.zeros(vocab.MAX_SHIFT) for after in ("on", "off")}
        self.last_kind = "NOTE_OFF"  # the kind of the player's last event
        self.vels: deque[int] = deque(maxlen=WINDOW)
        self.vel_counts = np.zeros(vocab.VELOCITY_BINS)
        self.runs: dict[tuple[int, ...], dict[int, int]] = {}
        self.line: deque[int] = deque(maxlen=COPY_LIMIT + 1)  # the player's latest pitches (for contexts)
        self.pending_shift: int | None = None  # a shift waiting for the event it leads to
        self.version = 0  # notes learned (the pitch distribution's memo key)
        self.fed = 0  # tokens learned (the rhythm and velocity distributions' memo key)
        self._memo: tuple = (None, None, None)
        self._log_memo: tuple = (None, None, None)

    @property
    def size(self) -> int:
        return len(self.notes)

    def weight(self, adapt: float) -> float:
        """The mix weight for the adapt control, by how much has been heard."""
        n = self.size
        return float(adapt) * n / (n + CONFIDENCE_NOTES) if adapt > 0 and n else 0.0

    # -- learning ------------------------------------------------------------
    def feed(self, tokens: list[int]) -> None:
        """Tokens of the player's playing (as the listener encoded them)."""
        for tok in tokens:
            self.fed += 1
            kind, value = vocab.describe(tok)
            if kind == "TIME_SHIFT":
                # A rest of a second or more is several shifts: between phrases, not a rhythm.
                self.pending_shift = value if self.pending_shift is None and value < vocab.MAX_SHIFT else -1
                continue
            if self.pending_shift is not None and self.pending_shift > 0:
                after = _after(self.last_kind)
                self._count(self.shifts[after], self.shift_counts[after], self.pending_shift - 1)
            self.pending_shift = None
            self.last_kind = kind
            if kind == "VELOCITY":
                self._count(self.vels, self.vel_counts, value)
            elif kind == "NOTE_ON":
                self._note(value)

    @staticmethod
    def _count(window: deque, counts: np.ndarray, i: int) -> None:
        if len(window) == window.maxlen:
            counts[window[0]] -= 1
        window.append(i)
        counts[i] += 1

    def _note(self, pitch: int) -> None:
        line = list(self.line)
        ivs = [_clip(b - a) for a, b in zip(line[-3:], line[-2:] + [pitch])] if line else []
        iv = ivs[-1] if ivs else None
        c1 = (ivs[-2],) if len(ivs) >= 2 else ()
        c2 = (ivs[-3], ivs[-2]) if len(ivs) >= 3 else ()
        run = tuple(line[-COPY_LIMIT:]) if len(line) >= COPY_LIMIT else None
        self._add(pitch, c1, c2, iv, run, +1)
        self.notes.append((pitch, c1, c2, iv, run))
        if len(self.notes) > WINDOW:
            self._add(*self.notes.popleft(), -1)
        self.line.append(pitch)
        self.version += 1

    def _add(self, pitch, c1, c2, iv, run, sign) -> None:
        self.pc[pitch % 12] += sign
        if iv is not None:
            i = iv + MAX_INTERVAL
            self.iv0[i] += sign
            if c1:
                self.iv1.setdefault(c1[0], np.zeros(len(_IV)))[i] += sign
            if c2:
                self.iv2.setdefault(c2, np.zeros(len(_IV)))[i] += sign
        if run is not None:
            nxt = self.runs.setdefault(run, {})
            nxt[pitch] = nxt.get(pitch, 0) + sign
            if nxt[pitch] <= 0:
                del nxt[pitch]
                if not nxt:
                    del self.runs[run]

    # -- predicting ----------------------------------------------------------
    def copies(self, line: list[int]) -> set[int]:
        """Pitches that would make `line`'s last COPY_LIMIT notes a longer copy of a run the player played."""
        if len(line) < COPY_LIMIT:
            return set()
        return set(self.runs.get(tuple(line[-COPY_LIMIT:]), ()))

    def pitches(self, line: list[int]) -> np.ndarray:
        """P_cache over the 128 pitches for the note after `line` (the answer's pitches
        so far; empty: the note after the player's last)."""
        tail = tuple(line[-3:]) if line else tuple(list(self.line)[-1:])
        if self._memo[0] == (tail, self.version):
            return self._memo[1]
        self._memo = ((tail, self.version), *self._pitch_dist(tail))
        return self._memo[1]

    def _pitch_dist(self, tail: tuple) -> tuple[np.ndarray, np.ndarray]:
        pc = (self.pc + PC_PRIOR) / (self.pc.sum() + 12 * PC_PRIOR)
        p = pc[_PITCHES % 12]
        if tail:
            ivs = [_clip(b - a) for a, b in zip(tail, tail[1:])]
            dist = self._intervals(ivs)
            move = np.zeros(128)
            last = tail[-1]
            target = last + _IV
            ok = (target >= 0) & (target < 128)
            move[target[ok]] = dist[ok]
            p = p * (move + 1e-3 / 128)  # a leap the player never made stays possible, barely
        p = p / p.sum()
        return p, np.log(p + 1e-12)

    def _logs(self) -> tuple[dict, np.ndarray | None]:
        """Log distributions of the time shifts (after an onset, after a release) and
        velocities, recomputed only when something new was learned."""
        if self._log_memo[0] != self.fed:
            v = np.convolve(self.vel_counts, (0.25, 0.5, 0.25), "same")  # a velocity bin's neighbours are near misses
            self._log_memo = (self.fed, {a: _log_dist(c) for a, c in self.shift_counts.items()}, _log_dist(v))
        return self._log_memo[1], self._log_memo[2]

    def _intervals(self, ivs: list[int]) -> np.ndarray:
        """The next interval after `ivs`: contexts of two, one and no intervals,
        each weighted by how often it was seen (interpolated backoff)."""
        dist = np.full(len(_IV), 1.0 / len(_IV))
        for counts in (self.iv0, self.iv1.get(ivs[-1]) if ivs else None,
                       self.iv2.get(tuple(ivs[-2:])) if len(ivs) >= 2 else None):
            n = 0.0 if counts is None else counts.sum()
            if n > 0:
                w = n / (n + BACKOFF)
                dist = w * counts / n + (1 - w) * dist
        return dist

    def mixed(self, logits: np.ndarray, line: list[int], lam: float, after: str = "NOTE_ON") -> np.ndarray:
        """The GRU's logits with the cache mixed in at weight `lam` (a new array);
        `after`: the kind of the last event before this token (what a time shift follows)."""
        z = np.array(logits, dtype=np.float64)
        if lam <= 0 or not self.size:
            return z
        self.pitches(line)
        _mix(z, ON, self._memo[2], lam)
        shifts, vel = self._logs()
        if shifts[_after(after)] is not None:
            _mix(z, SHIFT, shifts[_after(after)], lam)
        if vel is not None:
            _mix(z, VEL, vel, lam)
        return z


def primer(path) -> tuple[list[int], int]:
    """A MIDI file's notes as the tokens the player's would be (every track merged,
    the drum channel left out, the pedal folded in), and how many notes: what
    `--prime` feeds the cache before the first call. One line if it cannot be read."""
    from ..errors import LivejamError
    from ..midi.files import MidiFileError, read_messages
    from ..model.encoder import notes_from_messages

    try:
        notes, _ = notes_from_messages(read_messages(path))
    except (MidiFileError, OSError) as exc:
        raise LivejamError(f"cannot prime from {path}: {exc} (give a standard MIDI file)") from None
    if not notes:
        raise LivejamError(f"cannot prime from {path}: it has no notes")
    tokens = [int(t) for t in vocab.encode(notes[-WINDOW:])]  # the cache counts no more than this
    return tokens, min(len(notes), WINDOW)


def _log_dist(counts: np.ndarray) -> np.ndarray | None:
    total = counts.sum()
    return np.log(counts / total + 1e-12) if total > 0 else None


def _after(kind: str) -> str:
    return "on" if kind in ("NOTE_ON", "VELOCITY") else "off"


def _clip(iv: int) -> int:
    return int(max(-MAX_INTERVAL, min(MAX_INTERVAL, iv)))


def _mix(z: np.ndarray, seg: slice, log_cache: np.ndarray, lam: float) -> None:
    """In place: z[seg] -> (1-lam) log softmax(z[seg]) + lam log cache, renormalised
    to the segment's total mass (what the model gave this kind of token)."""
    zs = z[seg]
    top = zs.max()
    mass = top + np.log(np.exp(zs - top).sum())
    y = (1 - lam) * (zs - mass) + lam * log_cache
    ytop = y.max()
    z[seg] = y - (ytop + np.log(np.exp(y - ytop).sum())) + mass
