"""What goes into the engine (played MIDI, commands) and what comes out of it (events
for the headless printer, JSON lines and the TUI), as small dataclasses.

Each event says itself in one line (`words`) and as a JSON object (`as_dict`);
`kind` is the name JSON lines carry."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import mido


# -- into the engine (the inbox) ------------------------------------------------
@dataclass
class Played:
    msg: mido.Message
    t: float  # when it arrived, by the engine's clock
    keyboard: str = ""  # the input port it came from (midi/sounding.py, Keyboards)


@dataclass
class Command:
    name: str  # a setting (config.SETTINGS), an action (config.ACTIONS), "record" or "model"
    value: Any = None


@dataclass
class MidiClockIn:
    msg: mido.Message  # clock, start, continue, stop or songpos from the --clock port
    t: float


@dataclass
class ClockWaiting:
    """MIDI clock is waiting in the engine's clock queue (ticks are not woken for one by one)."""


@dataclass
class Stop:
    pass


# -- out of the engine ------------------------------------------------------------
@dataclass
class Event:
    t: float  # seconds since the engine started
    # With a tempo: where in the music it happened (bar from 1, beat from 1.0); None in free time.
    bar: int | None = field(default=None, kw_only=True)
    beat: float | None = field(default=None, kw_only=True)
    kind: ClassVar[str] = "event"

    def words(self) -> str:
        return f"{self.kind}: {self.as_dict()}"

    def as_dict(self) -> dict:
        d = asdict(self)
        if d["bar"] is None:
            del d["bar"], d["beat"]
        return {"event": self.kind, **d}

    def at(self) -> str:
        """" at bar:beat" with a tempo, for the words of events that happen on the music's time."""
        return "" if self.bar is None else f" at {self.bar}:{self.beat:g}"


@dataclass
class StateChanged(Event):
    """waiting / listening / answering / muted: what the state box shows."""

    state: str
    kind: ClassVar[str] = "state"

    def words(self) -> str:
        return self.state


@dataclass
class PhraseEnded(Event):
    notes: int
    seconds: float
    key: str | None = None  # the call's key as estimated (what key adherence aims at)
    kind: ClassVar[str] = "phrase"

    def words(self) -> str:
        return f"phrase: {self.notes} notes, {self.seconds} s" + (f", in {self.key}" if self.key else "") + self.at()


@dataclass
class AnswerEnded(Event):
    notes: int
    seconds: float
    onset_ms: float | None
    kind: ClassVar[str] = "answer"

    def words(self) -> str:
        return f"answer: {self.notes} notes, {self.seconds} s, onset {self.onset_ms} ms" + self.at()


@dataclass
class Planned(Event):
    """livejam's next notes, decided ahead of when they sound (an answer's: 0.5 s in
    free time; accompany mode's next beat): [seconds since start, pitch, seconds], and []
    when the plan is cut. Each replaces the last; the TUI draws them as ghost notes."""

    notes: list
    kind: ClassVar[str] = "plan"

    def words(self) -> str:
        return f"plan: {len(self.notes)} notes ahead" + self.at()


@dataclass
class Interrupted(Event):
    at_seconds: float
    kind: ClassVar[str] = "interrupted"

    def words(self) -> str:
        return f"answer stopped: you came back in after {self.at_seconds} s"


@dataclass
class Panicked(Event):
    kind: ClassVar[str] = "panic"

    def words(self) -> str:
        return "panic: every note off"


@dataclass
class SettingChanged(Event):
    name: str
    value: Any
    kind: ClassVar[str] = "setting"

    def words(self) -> str:
        if self.name == "muted":
            return "muted" if self.value else "unmuted"
        if self.name == "ccs":
            return "CC map: " + ", ".join(f"{n} {c}" for n, c in self.value.items())
        return f"{self.name} = {self.value}"


@dataclass
class ModelLoaded(Event):
    path: str
    summary: str
    kind: ClassVar[str] = "model"

    def words(self) -> str:
        return f"model loaded: {self.path}"


@dataclass
class PortsChanged(Event):
    inputs: list[str]
    output: str
    kind: ClassVar[str] = "ports"

    def words(self) -> str:
        return f"ports: in {', '.join(self.inputs)}, out {self.output}"


@dataclass
class PortLost(Event):
    port: str
    kind: ClassVar[str] = "port_lost"

    def words(self) -> str:
        return f"port lost: {self.port} (livejam keeps running and re-opens it when it is back)"


@dataclass
class PortBack(Event):
    port: str
    kind: ClassVar[str] = "port_back"

    def words(self) -> str:
        return f"port back: {self.port}"


@dataclass
class ClockChanged(Event):
    """The tempo source: the MIDI clock started, stopped, continued, was found or lost."""

    what: str  # start, stop, continue, relocate, found, lost
    source: str
    bpm: float | None = None
    bar_known: bool = True  # False: the beat is followed but nothing said where bar 1 is
    kind: ClassVar[str] = "clock"

    WORDS: ClassVar[dict] = {
        "start": "started: bars count from here", "continue": "continues", "found": "tempo found",
        "relocate": "jumped (a loop or a locate): the answer stopped, bars count from the DAW's position",
        "stop": "stopped: free time (answers after the silence) until it starts again",
        "lost": "lost (no ticks): free time until it comes back; check the DAW sends MIDI clock to livejam",
    }

    def words(self) -> str:
        tempo = f" ({self.bpm:.1f} BPM)" if self.bpm else ""
        bar = "" if self.bar_known or self.what in ("stop", "lost") else (
            "; bar unknown until the DAW sends Start or a song position: answers keep to the beat")
        return f"{self.source}{tempo} {self.WORDS.get(self.what, self.what)}{bar}"


@dataclass
class Notice(Event):
    """Something worth telling the player that is neither a problem nor a change
    (a personal model worth trying, found once livejam is playing)."""

    message: str
    kind: ClassVar[str] = "notice"

    def words(self) -> str:
        return self.message


@dataclass
class HeldLong(Event):
    """Keys held (or the pedal down) a long time with nothing else played: often
    a note-off lost on the way, which would keep the call open for good."""

    notes: list[str]
    seconds: float
    kind: ClassVar[str] = "held"

    def words(self) -> str:
        return (f"{', '.join(self.notes)} held {self.seconds:g} s with nothing else played: if the key is up, its "
                f"note-off was lost; strike it again, or press panic, and livejam answers again")


@dataclass
class Problem(Event):
    message: str
    kind: ClassVar[str] = "error"

    def words(self) -> str:
        return f"error: {self.message}"
