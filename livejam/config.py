"""The runtime's settings: one dataclass, unknown keys refused. The command line,
the settings file and live CCs all change these fields."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

# Default CC numbers for live controls: 20-31 are undefined in the MIDI spec, so
# they clash with nothing a keyboard sends on its own.
DEFAULT_CCS = {
    "temperature": 20,  # 0..127 -> 0.1..2.0
    "answer_length": 21,  # 0 = mirror the call, else 1..16 s
    "silence": 22,  # 0..127 -> 0.2..3.0 s
    "mute": 23,  # >= 64 mutes, < 64 unmutes
    "panic": 24,  # >= 64: every note off
    "phrase_end": 25,  # >= 64: end the phrase now, answer at once
}

# What a CC value (0..127) means for each control.
CC_MEANING = {
    "temperature": lambda v: 0.1 + 1.9 * v / 127,
    "answer_length": lambda v: 0.0 if v == 0 else 1 + 15 * (v - 1) / 126,
    "silence": lambda v: 0.2 + 2.8 * v / 127,
    "mute": lambda v: v >= 64,
    "panic": lambda v: v >= 64,
    "phrase_end": lambda v: v >= 64,
}
TRIGGERS = ("panic", "phrase_end")  # act when pressed (>= 64); the release does nothing


def refuse_unknown(cls, d: dict, what: str) -> None:
    """One rule for every settings dataclass (here and in training): a typo is an error."""
    unknown = set(d) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {what}(s): {', '.join(sorted(unknown))}")


@dataclass
class LivejamConfig:
    model: str = ""  # empty: the shipped default
    api: str = ""  # rtmidi backend: alsa, jack, coremidi, winmm; empty: the platform's default
    inputs: list[str] = field(default_factory=list)  # names or unique substrings
    output: str = ""
    virtual: bool = False
    channel: int = 1  # answer channel, 1..16
    thru: bool = False
    temperature: float = 0.9
    top_p: float = 0.95
    seed: int | None = None
    silence: float = 0.8  # seconds of quiet (all keys up) that end a phrase
    answer_seconds: float = 0.0  # 0: mirror the call's length
    min_answer: float = 2.0
    max_answer: float = 16.0
    overlap: bool = False  # keep answering when the player comes back in
    muted: bool = False
    lowest: int = 21  # answer pitch range (piano keys)
    highest: int = 108
    polyphony: int = 8
    max_note_seconds: float = 4.0
    lookahead: float = 0.3  # seconds sampled ahead of playback
    record: bool = True
    record_dir: str = ""  # empty: the user data directory
    ccs: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CCS))

    @classmethod
    def from_dict(cls, d: dict) -> "LivejamConfig":
        refuse_unknown(cls, d, "setting")
        cfg = cls(**d)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if not 1 <= self.channel <= 16:
            raise ValueError(f"channel must be 1..16, not {self.channel}")
        if self.temperature <= 0 or not 0 < self.top_p <= 1:
            raise ValueError("temperature must be > 0 and top-p in (0, 1]")
        if self.silence <= 0:
            raise ValueError("silence must be more than 0 seconds")
        bad = set(self.ccs) - set(DEFAULT_CCS)
        if bad:
            raise ValueError(f"unknown CC control(s): {', '.join(sorted(bad))}; known: {', '.join(DEFAULT_CCS)}")

    def answer_length(self, call_seconds: float) -> float:
        if self.answer_seconds > 0:
            return self.answer_seconds
        return min(self.max_answer, max(self.min_answer, call_seconds))

    def to_dict(self) -> dict:
        return asdict(self)
