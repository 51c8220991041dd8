"""The model's ears: the live encoder, the GRU state and the logits after
everything the model has heard, and the way back to an earlier point (an answer
Mark) when an answer is cut short. Only the engine thread touches it."""
from __future__ import annotations

import mido
import numpy as np

from ..model import vocab
from ..model.encoder import StreamEncoder
from .phrase import PhraseHead

# The longest rest the model is told about. Training never shows gaps over ~2 s, and
# an hour of silence would otherwise be 3,600 TIME_SHIFTs in one call: far outside
# anything the model learned, and slow. The clock still moves on; only what the model
# hears of a long rest is capped.
MAX_HEARD_REST_STEPS = 200


class Listener:
    def __init__(self, model, origin: float) -> None:
        self.model = model
        self.origin = origin  # the clock time of step 0
        self.encoder = StreamEncoder(live=True)
        self.reset()

    def reset(self, model=None) -> None:
        """Start the model afresh (a new model, or the same one). It never heard
        the keys down now, so none count as held: their releases are ignored, and a
        key whose note-off was lost cannot outlive the switch."""
        self.model = model or self.model
        # The model's judge of a release (--phrase-end model), if it carries one.
        self.phrase_head = PhraseHead.from_metadata(getattr(self.model, "metadata", None) or {})
        self.encoder = StreamEncoder(live=True)
        self.state = self.model.initial_state(1)
        # Logits before any token: the model's view of how a piece starts.
        self.logits, self.state = self.model.step(vocab.time_shift(1), self.state)
        self.encoder.step = 1

    @property
    def held(self) -> bool:
        return self.encoder.held

    @property
    def velocity_bin(self) -> int:
        vb = self.encoder.velocity_bin
        return vocab.DEFAULT_VELOCITY_BIN if vb is None else vb

    def encode(self, msg: mido.Message, t: float) -> list[int]:
        """A played message as tokens (not yet heard by the model)."""
        return capped(self.encoder.message(msg, t - self.origin))

    def release_keys(self, t: float) -> list[int]:
        """Every key and the pedal let go at `t`, as tokens (not yet heard)."""
        return capped(self.encoder.release_all(t - self.origin))

    def feed(self, tokens: list[int]) -> None:
        if tokens:
            logits, self.state = self.model.run(np.array([tokens], np.int64), self.state)
            self.logits = logits[0, -1]

    def settled_logits(self) -> np.ndarray:
        """The logits after everything played so far has been heard (a note released
        in its first step included): what the model expects next."""
        self.feed(self.settle())
        return self.logits

    def settle(self) -> list[int]:
        """The NOTE_OFFs still due one step on (a note released in its first step),
        as tokens not yet heard."""
        return self.encoder.settle()

    def ahead(self, t: float) -> tuple[int, np.ndarray, np.ndarray]:
        """(step, state, logits) as if the silence up to `t` were heard, without
        committing it: an answer prepared ahead may still be thrown away."""
        self.settled_logits()  # a note released in its first step: its end is past, and real
        step = max(self.encoder.step, int(vocab.to_steps(t - self.origin)))
        state, logits = self.state, self.logits
        shifts = vocab.shift_tokens(min(step - self.encoder.step, MAX_HEARD_REST_STEPS))
        if shifts:
            out, state = self.model.run(np.array([shifts], np.int64), state)
            logits = out[0, -1]
        return step, state, logits

    def adopt(self, mark) -> None:
        """Take an answer's point (its start, its end, or where it was cut) as heard."""
        self.state, self.logits = mark.state, mark.logits
        self.encoder.step = mark.step
        self.encoder.velocity_bin = mark.velocity_bin


def capped(tokens: list[int]) -> list[int]:
    """The leading rest of `tokens` cut to MAX_HEARD_REST_STEPS."""
    steps, i = 0, 0
    while i < len(tokens) and vocab.describe(tokens[i])[0] == "TIME_SHIFT":
        steps += vocab.describe(tokens[i])[1]
        i += 1
    if steps <= MAX_HEARD_REST_STEPS:
        return tokens
    return vocab.shift_tokens(MAX_HEARD_REST_STEPS) + tokens[i:]
