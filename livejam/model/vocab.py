"""The event vocabulary shared by training and the runtime (standard library + numpy).

Performance-RNN style: NOTE_ON(p), NOTE_OFF(p), TIME_SHIFT(k x 10 ms), VELOCITY(bin).
A note is (start seconds, end seconds, pitch, velocity). `encode` turns notes into
tokens, `decode` turns tokens back into notes; decode(encode(n)) == quantize(n).
The live, one-message-at-a-time side (sustain pedal, re-strikes) is in encoder.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple

import numpy as np

VOCAB_ID = "perf388-v1"
STEPS_PER_SECOND = 100  # one TIME_SHIFT step = 10 ms
MAX_SHIFT = 100  # the longest single TIME_SHIFT: 1 s
VELOCITY_BINS = 32

# The table: (kind, how many). Token ids are laid out in this order.
SEGMENTS: tuple[tuple[str, int], ...] = (
    ("NOTE_ON", 128),
    ("NOTE_OFF", 128),
    ("TIME_SHIFT", MAX_SHIFT),
    ("VELOCITY", VELOCITY_BINS),
)
OFFSET: dict[str, int] = {}
_o = 0
for _kind, _n in SEGMENTS:
    OFFSET[_kind] = _o
    _o += _n
VOCAB_SIZE = _o  # 388
NOTE_ON, NOTE_OFF, TIME_SHIFT, VELOCITY = (OFFSET[k] for k, _ in SEGMENTS)


def note_on(pitch: int) -> int:
    return NOTE_ON + pitch


def note_off(pitch: int) -> int:
    return NOTE_OFF + pitch


def time_shift(steps: int) -> int:
    """A shift of 1..100 steps of 10 ms."""
    return TIME_SHIFT + steps - 1


def velocity(bin_: int) -> int:
    return VELOCITY + bin_


def describe(token: int) -> tuple[str, int]:
    """(kind, value): value is the pitch, the number of 10 ms steps, or the bin."""
    for kind, n in SEGMENTS:
        if OFFSET[kind] <= token < OFFSET[kind] + n:
            value = token - OFFSET[kind]
            return kind, value + 1 if kind == "TIME_SHIFT" else value
    raise ValueError(f"token {token} is outside the {VOCAB_ID} vocabulary (0..{VOCAB_SIZE - 1})")


# Velocity 1..127 in 32 bins of ~4; a bin decodes to the rounded mean of its members
# so that bin(velocity_of(b)) == b.
_V = np.arange(1, 128)
VELOCITY_TO_BIN = np.concatenate([[0], (_V - 1) * VELOCITY_BINS // 127]).astype(np.int64)
BIN_TO_VELOCITY = np.array(
    [int(round(_V[VELOCITY_TO_BIN[1:] == b].mean())) for b in range(VELOCITY_BINS)], dtype=np.int64
)
DEFAULT_VELOCITY_BIN = int(VELOCITY_TO_BIN[64])  # before any VELOCITY token


def velocity_bin(v: int) -> int:
    return int(VELOCITY_TO_BIN[min(max(int(v), 1), 127)])


def to_steps(seconds):
    """Seconds -> 10 ms steps, rounding half up (the same for scalars and arrays)."""
    return np.floor(np.asarray(seconds, dtype=np.float64) * STEPS_PER_SECOND + 0.5).astype(np.int64)


class Note(NamedTuple):
    start: float
    end: float
    pitch: int
    velocity: int


def shift_tokens(steps: int) -> list[int]:
    """A gap of `steps` x 10 ms as TIME_SHIFT tokens (gaps over 1 s take several)."""
    full, rest = divmod(int(steps), MAX_SHIFT)
    return [time_shift(MAX_SHIFT)] * full + ([time_shift(rest)] if rest else [])


def _grid(arr: np.ndarray, piece: np.ndarray):
    """The quantisation rules on arrays, for many pieces at once: returns
    (piece, start step, end step, pitch, velocity) sorted by piece, start, pitch."""
    start = np.maximum(to_steps(arr[:, 0]), 0)
    end = to_steps(arr[:, 1])
    pitch = arr[:, 2].astype(np.int64)
    vel = BIN_TO_VELOCITY[VELOCITY_TO_BIN[np.clip(arr[:, 3].astype(np.int64), 1, 127)]]
    # Notes of one pitch struck in one step are one key press (a unison): the first
    # struck gives its velocity, the last released its end (as encoder.py hears it).
    order = np.lexsort((np.arange(len(start)), arr[:, 0], start, pitch, piece))
    piece, start, end, pitch, vel = piece[order], start[order], end[order], pitch[order], vel[order]
    first = np.ones(len(start), bool)
    first[1:] = (pitch[1:] != pitch[:-1]) | (piece[1:] != piece[:-1]) | (start[1:] != start[:-1])
    heads = np.nonzero(first)[0]
    end = np.maximum.reduceat(end, heads) if len(heads) else end
    piece, start, pitch, vel = piece[heads], start[heads], pitch[heads], vel[heads]
    same_key = np.zeros(len(start), bool)
    same_key[:-1] = (pitch[1:] == pitch[:-1]) & (piece[1:] == piece[:-1])
    end = np.maximum(end, start + 1)
    nxt = np.empty_like(start)
    nxt[:-1] = start[1:]
    end = np.where(same_key, np.minimum(end, nxt), end)  # a re-strike ends the note before
    order = np.lexsort((pitch, start, piece))
    return piece[order], start[order], end[order], pitch[order], vel[order]


def quantize(notes: Iterable) -> list[Note]:
    """What the vocabulary can hold of `notes`: times on the 10 ms grid, velocities
    at their bin's value, at least one step long, and a re-struck pitch ending the
    note it interrupts (two notes of one pitch never overlap). Sorted by start, pitch."""
    arr = _as_array(notes)
    _, start, end, pitch, vel = _grid(arr, np.zeros(len(arr), np.int64))
    return [
        Note(s / STEPS_PER_SECOND, e / STEPS_PER_SECOND, int(p), int(v))
        for s, e, p, v in zip(start.tolist(), end.tolist(), pitch.tolist(), vel.tolist())
    ]


def encode(notes: Iterable) -> np.ndarray:
    """Notes -> int64 tokens, timed from 0 s."""
    return encode_many([_as_array(notes)])[0]


def encode_many(pieces: list[np.ndarray]) -> list[np.ndarray]:
    """Many pieces' notes (float arrays [n, 4]) -> their tokens, in one vectorised
    pass: the corpus path, where per-call overhead would cost more than the work."""
    lengths = np.array([len(p) for p in pieces], np.int64)
    if lengths.sum() == 0:
        return [np.zeros(0, np.int64) for _ in pieces]
    arr = np.concatenate([np.asarray(p, np.float64).reshape(-1, 4) for p in pieces])
    piece, start, end, pitch, vel = _grid(arr, np.repeat(np.arange(len(pieces)), lengths))
    n = len(start)
    # Events (piece, time, kind, pitch); at one time offs come before ons, so a
    # re-strike is NOTE_OFF then NOTE_ON, and chords are ordered low to high.
    pc = np.concatenate([piece, piece])
    t = np.concatenate([end, start])
    kind = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
    p = np.concatenate([pitch, pitch])
    v = np.concatenate([np.zeros(n, np.int64), VELOCITY_TO_BIN[vel]])
    order = np.lexsort((p, kind, t, pc))
    pc, t, kind, p, v = pc[order], t[order], kind[order], p[order], v[order]
    first = np.ones(len(t), bool)
    first[1:] = pc[1:] != pc[:-1]
    gap = np.where(first, t, t - np.concatenate([[0], t[:-1]]))  # each piece from 0 s
    full, rest = np.divmod(gap, MAX_SHIFT)
    is_on = kind == 1
    on_bins, on_pc = v[is_on], pc[is_on]
    changed = np.ones(len(on_bins), bool)
    changed[1:] = (on_bins[1:] != on_bins[:-1]) | (on_pc[1:] != on_pc[:-1])
    vel_flag = np.zeros(len(t), bool)
    vel_flag[is_on] = changed
    count = full + (rest > 0) + vel_flag + 1
    ends = np.cumsum(count)
    begins = ends - count
    out = np.full(int(ends[-1]), -1, np.int64)
    out[ends - 1] = np.where(is_on, NOTE_ON, NOTE_OFF) + p
    out[(ends - 2)[vel_flag]] = VELOCITY + v[vel_flag]
    out[(begins + full)[rest > 0]] = TIME_SHIFT + rest[rest > 0] - 1
    fill = np.repeat(begins, full) + (np.arange(full.sum()) - np.repeat(np.cumsum(full) - full, full))
    out[fill] = time_shift(MAX_SHIFT)
    per_piece = np.bincount(pc, weights=count, minlength=len(pieces)).astype(np.int64)
    return np.split(out, np.cumsum(per_piece)[:-1])


@dataclass
class StreamDecoder:
    """Tokens -> note events one token at a time (the runtime plays these).
    `feed` returns ('on', pitch, velocity, step) / ('off', pitch, 0, step) or None;
    a NOTE_ON of a sounding pitch re-strikes it (off, then on); a NOTE_OFF of a
    silent pitch is dropped."""

    step: int = 0
    velocity_bin: int = DEFAULT_VELOCITY_BIN

    def __post_init__(self) -> None:
        self.sounding: dict[int, int] = {}  # pitch -> start step

    def feed(self, token: int) -> list[tuple[str, int, int, int]]:
        kind, value = describe(int(token))
        if kind == "TIME_SHIFT":
            self.step += value
        elif kind == "VELOCITY":
            self.velocity_bin = value
        elif kind == "NOTE_OFF":
            if self.sounding.pop(value, None) is not None:
                return [("off", value, 0, self.step)]
        else:
            events = [("off", value, 0, self.step)] if value in self.sounding else []
            self.sounding[value] = self.step
            return events + [("on", value, int(BIN_TO_VELOCITY[self.velocity_bin]), self.step)]
        return []

    def release_all(self) -> list[tuple[str, int, int, int]]:
        """NOTE_OFFs for everything still sounding, at the current step."""
        events = [("off", p, 0, self.step) for p in sorted(self.sounding)]
        self.sounding.clear()
        return events


def decode(tokens: Iterable[int]) -> list[Note]:
    """Tokens -> notes. Notes still sounding at the end end there, so every
    NOTE_ON has its NOTE_OFF; a note that would last no time at all (its NOTE_OFF,
    or a re-strike, in the step it started) is left out."""
    dec = StreamDecoder()
    starts: dict[int, tuple[int, int]] = {}
    notes: list[Note] = []

    def handle(events):
        for what, pitch, vel, step in events:
            if what == "on":
                starts[pitch] = (step, vel)
            else:
                s, v = starts.pop(pitch)
                if step > s:  # a NOTE_ON and its NOTE_OFF in one step sound nothing
                    notes.append(Note(s / STEPS_PER_SECOND, step / STEPS_PER_SECOND, pitch, v))

    for tok in tokens:
        handle(dec.feed(tok))
    handle(dec.release_all())
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def _as_array(notes: Iterable) -> np.ndarray:
    if isinstance(notes, np.ndarray):
        return notes.astype(np.float64).reshape(-1, 4)
    return np.array([tuple(n) for n in notes], dtype=np.float64).reshape(-1, 4)
