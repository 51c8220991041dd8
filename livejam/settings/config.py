"""The runtime's settings: one dataclass, unknown keys refused, and each field
described once, in place (type, range, CC, TUI keys, help, whether it is saved).
The command line, the settings file, live CCs, the engine and the TUI all read
this one table; nothing else lists setting names."""
from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Callable


@dataclass(frozen=True)
class Setting:
    """How one LivejamConfig field is shown, checked and steered."""

    help: str
    label: str = ""  # the name on screen; empty: not shown in the controls panel
    short: str = ""  # the name on a key in the footer and the command palette
    lo: float | None = None  # valid range (the command line and the settings file are checked against it)
    hi: float | None = None
    span: tuple[float, float] | None = None  # what a CC and the TUI keys sweep; default (lo, hi)
    step: float = 0.1  # one TUI key press
    choices: tuple = ()  # one TUI key cycles through these
    keys: tuple[str, ...] = ()  # TUI keys: one toggles/cycles, two step down/up
    cc: int | None = None  # default CC number for live control
    from_cc: Callable[[int], object] | None = None  # CC value 0..127 -> value; default: sweep the span
    unit: str = ""
    zero: str = ""  # what 0 means on screen (e.g. "mirror call")
    live: bool = False  # may change while playing (by command, CC or key)
    saved: bool = True  # kept in settings.toml (`livejam config set`, and when changed on screen)
    screen_saves: bool = True  # False: its TUI key is for this session only (`r` pauses recording, never for good)
    flag: str | None = ""  # command-line flag; "" derives --name-with-dashes, None: no flag
    play_only: bool = False  # a flag of `play` only (ports, recording), not of `respond`
    kind: type | None = None  # for fields whose default is None
    parse: Callable[[str], object] | None = None  # typed text (a flag, `config set`) -> value; default: the type
    show: Callable[[object], str] | None = None  # value -> what the screen says; default: number and unit

    def sweep(self) -> tuple[float, float]:
        return self.span or (self.lo, self.hi)


@dataclass(frozen=True)
class Action:
    """A trigger, not a value: acts when pressed (a CC rising to >= 64); the
    release, and the rest of a knob's sweep, do nothing."""

    name: str
    title: str  # on a key in the footer and the command palette
    help: str
    cc: int | None = None
    keys: tuple[str, ...] = ()


# The default CCs sit in 102-119, undefined in the MIDI spec and seldom on a
# controller's factory layout (20-31, undefined too, is where makers put knobs and
# pads: a Launchkey's knobs send 21-28). MIDI learn (the TUI's `i`) maps any other.
ACTIONS = (
    Action("panic", "Panic", "every note off, then all-notes-off, sustain off, all-sound-off", cc=106, keys=("p",)),
    Action("phrase_end", "Answer now", "end the phrase now: answer at once", cc=107, keys=("space",)),
    Action("forget", "Forget style", "live adaptation starts afresh: forget the style heard so far tonight",
           cc=115, keys=("F",)),  # shift+f: every lower-case letter plays or steers
)
CC_OFF = "off"  # a control with no CC (`--cc NAME=off`, or removed in the TUI)
LEARNABLE = range(0, 120)  # 120-127 are channel mode messages, never a knob
CC_ALIASES = {"answer_length": "answer_seconds", "mute": "muted"}  # names before settings had one table


PHRASE_ENDS = ("silence", "model")
MODES = ("answer", "accompany")  # answer after the player stops; play along while they play
ROLES = ("bass", "chords", "counter")  # what accompany mode plays


def _opt(default, help: str, **kw):
    meta = {"setting": Setting(help, **kw)}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class LivejamConfig:
    model: str = _opt("", "a model by name (`livejam models` lists them) or an .onnx file; empty: the shipped default")
    api: str = _opt("", "MIDI backend: alsa, jack, coremidi, winmm; empty: the platform's default", play_only=True)
    inputs: list[str] = _opt([], "input port names or unique substrings", flag="--in", play_only=True)
    output: str = _opt("", "output port name or unique substring", flag="--out", play_only=True)
    virtual: bool = _opt(False, "create 'livejam in' / 'livejam out' ports", saved=False, play_only=True)
    muted: bool = _opt(False, "no answers (the model still listens)", short="Mute", keys=("m",), cc=105, live=True,
                       saved=False, flag=None)
    temperature: float = _opt(0.9, "sampling temperature", label="temperature", short="Temp", lo=0.05, hi=3.0,
                              span=(0.1, 2.0), keys=("minus", "plus,equals_sign"), cc=102, live=True)
    top_p: float = _opt(0.95, "nucleus sampling mass", label="top-p", lo=0.05, hi=1.0, live=True)
    seed: int | None = _opt(None, "make answers reproducible (a whole number 0 or more)", lo=0, hi=2**63 - 1,
                            saved=False, kind=int)
    key_adherence: float = _opt(0.5, "keep answers in the call's key (estimated as you play): 0 off .. 1 strict",
                                label="key", short="Key", lo=0.0, hi=1.0, keys=("semicolon", "apostrophe"), cc=108,
                                zero="off", live=True)
    register: int = _opt(0, "answer register, semitones from the call's (0: around the call)", label="register",
                          short="Reg", lo=-24, hi=24, step=12, keys=("comma", "full_stop"), cc=109, unit=" st",
                          zero="the call's", live=True)
    density: float = _opt(1.0, "answer notes per second, relative to the call (1: as dense; 0: the model's own)",
                          label="density", short="Dens", lo=0.0, hi=4.0, span=(0.0, 3.0), step=0.25,
                          keys=("9", "0"), cc=110, unit="x", zero="free", live=True)
    echo: float = _opt(0.0, "-1 contrast (new material) .. 1 echo (the call's motifs, transposed); "
                            "copies of over 4 notes only at 1", label="echo", short="Echo", lo=-1.0, hi=1.0,
                       step=0.25, keys=("v", "b"), cc=111, zero="neutral", live=True)
    silence: float = _opt(0.8, "seconds of quiet (all keys up) that end a phrase", label="silence", short="Silence",
                          lo=0.1, hi=60.0, span=(0.2, 3.0), keys=("left_square_bracket", "right_square_bracket"),
                          cc=104, unit=" s", live=True)
    phrase_rule: str = _opt("silence", "when a call is over: after the silence threshold (silence), or when the "
                                      "model hears it end (model: from 0.15 s, never later than the silence)",
                           label="phrase end", short="End", choices=PHRASE_ENDS, keys=("E",), cc=114,
                           from_cc=lambda v: PHRASE_ENDS[v >= 64], live=True, flag="--phrase-end")
    mode: str = _opt("answer", "answer when you stop (answer), or play along while you play (accompany)",
                     label="mode", short="Mode", choices=MODES, keys=("A",), cc=116,
                     from_cc=lambda v: MODES[v >= 64], live=True)
    role: str = _opt("bass", "accompany mode plays a bass line under you (bass), two to four notes under you "
                             "(chords), or a line beside you in your register (counter)", label="role", short="Role",
                     choices=ROLES, keys=("R",), cc=117, from_cc=lambda v: ROLES[min(2, v * 3 // 128)], live=True)
    then_answer: bool = _opt(False, "accompany mode: when you stop, answer as in answer mode (off: the "
                                    "accompaniment ends within a beat and waits)", live=True)
    adapt: float = _opt(0.25, "live adaptation: answers take up the style you play tonight (0 off .. 1 strong; "
                             "F forgets it; 0.25 by the judge)", label="adapt", short="Adapt", lo=0.0, hi=1.0, step=0.25,
                        keys=("7", "8"), cc=113, zero="off", live=True)
    answer_seconds: float = _opt(0.0, "fixed answer length; 0 mirrors the call (clamped to min/max answer)",
                                 label="answer", short="Length", lo=0.0, hi=60.0, choices=(0.0, 2.0, 4.0, 8.0, 16.0),
                                 keys=("l",), cc=103, from_cc=lambda v: 0.0 if v == 0 else 1 + 15 * (v - 1) / 126,
                                 unit=" s", zero="mirror call", live=True)
    min_answer: float = _opt(2.0, "shortest mirrored answer, seconds", lo=0.5, hi=60.0, saved=False, flag=None)
    max_answer: float = _opt(16.0, "longest mirrored answer, seconds", lo=0.5, hi=120.0, saved=False, flag=None)
    bpm: float = _opt(0.0, "play to this tempo: calls end and answers start on bar lines (0: free time)",
                      lo=0.0, hi=400.0, unit=" BPM", saved=False)
    clock_port: str = _opt("", "follow MIDI clock from this input port (a DAW or drum machine): tempo, bars, "
                               "Start/Stop", flag="--clock", saved=False, play_only=True)
    beats_per_bar: int = _opt(4, "beats in a bar (with a tempo or MIDI clock)", lo=1, hi=16)
    call_bars: int = _opt(1, "with a tempo, a call lasts a whole number of these bars (1, 2 or 4)", lo=1, hi=8)
    answer_bars: int = _opt(0, "with a tempo, answers last this many bars (0: as many as the call)",
                            lo=0, hi=64, live=True)
    quantize: float = _opt(0.5, "with a tempo, pull answer onsets onto the sixteenth grid (0 off .. 1 on it), "
                                "keeping the call's swing", lo=0.0, hi=1.0, cc=112, live=True)
    clock_out: bool = _opt(False, "send MIDI clock and Start/Stop with the answers (with --bpm), for a DAW to "
                                  "follow", saved=False, play_only=True)
    metronome: bool = _opt(False, "click each beat (with a tempo or MIDI clock)", live=True, saved=False)
    count_in: int = _opt(0, "with a tempo (--bpm or --clock): click this many bars before livejam listens; "
                            "come in on the bar after (0: none)", label="count-in", lo=0, hi=8, choices=(0, 1, 2, 4),
                         keys=("C",), zero="off", unit=" bars",
                         short="Count-in", live=True)
    split: int = _opt(0, "the split point, a note like C4 or a number like 60: below it the left hand holds "
                         "the harmony (accompany mode plays in it, answers land on it) and plays no part in the "
                         "call (off or 0: none)", label="split", lo=0, hi=127, short="Split",
                      zero="off", live=True, parse=lambda text: note_number(text), show=lambda v: note_name(v))
    metronome_channel: int = _opt(10, "the metronome's MIDI channel", lo=1, hi=16)
    metronome_note: int = _opt(76, "the metronome's note (GM percussion 76: high wood block)", lo=0, hi=127)
    overlap: bool = _opt(False, "keep answering when the player comes back in", label="overlap", short="Overlap",
                         keys=("o",), live=True, play_only=True)
    thru: bool = _opt(False, "pass the player's notes through to the output", label="thru", live=True,
                      play_only=True)
    channel: int = _opt(1, "answer MIDI channel", label="channel", lo=1, hi=16, live=True)
    lowest: int = _opt(21, "lowest answer pitch", lo=0, hi=127, flag=None)
    highest: int = _opt(108, "highest answer pitch", lo=0, hi=127, flag=None)
    polyphony: int = _opt(8, "most answer notes sounding at once", lo=1, hi=32, flag=None)
    max_note_seconds: float = _opt(2.0, "longest answer note, seconds", lo=0.05, hi=30.0, saved=False, flag=None)
    lookahead: float = _opt(0.3, "seconds sampled ahead of playback", lo=0.02, hi=2.0, saved=False, flag=None)
    watchdog: bool = _opt(True, "send through a watchdog process that releases every note if livejam is killed "
                          "(--no-watchdog: straight to the port)", saved=False, play_only=True)
    synth: str = _opt("", "also play through livejam's own synth (audio through JACK, else the default sound "
                          "device): --synth for the General MIDI SoundFont it ships, --synth FILE.sf2 for yours",
                      play_only=True)
    synth_volume: float = _opt(0.8, "the built-in synth's volume", lo=0.0, hi=1.0, play_only=True)
    answer_program: int = _opt(1, "the built-in synth's General MIDI program for the answers (1 acoustic grand "
                                  "piano, 5 electric piano, 12 vibraphone, 25 nylon guitar, 74 flute, ...)",
                               lo=1, hi=128, play_only=True)
    thru_program: int = _opt(1, "the built-in synth's General MIDI program for the player's notes (--thru)",
                             lo=1, hi=128, play_only=True)
    prime: str = _opt("", "prime live adaptation with a MIDI file's notes before you play, as if you had played "
                          "them (never copied out; F forgets them with the rest)", saved=False)
    record: bool = _opt(True, "record the session to a MIDI file", short="Record", keys=("r",), live=True,
                        play_only=True, screen_saves=False)
    record_dir: str = _opt("", "where session recordings go; empty: the user data directory", play_only=True)
    ccs: dict[str, int] = _opt({}, "CC numbers for live controls (NAME=NUMBER, or NAME=off for none)", flag="--cc", play_only=True)

    def __post_init__(self) -> None:
        # A number given to one control takes it from a default that had it.
        self.ccs = remap(DEFAULT_CCS, {CC_ALIASES.get(k, k): v for k, v in self.ccs.items()})

    @classmethod
    def from_dict(cls, d: dict) -> "LivejamConfig":
        refuse_unknown(cls, d, "setting")
        cfg = cls(**d)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        for name, s in SETTINGS.items():
            v = getattr(self, name)
            kind = value_type(name)
            if v is None:
                continue
            if not isinstance(v, kind) and not (kind is float and isinstance(v, int) and not isinstance(v, bool)) \
                    or (kind is int and isinstance(v, bool)):
                raise ValueError(f"{name.replace('_', '-')} must be {_KIND_WORDS.get(kind, kind.__name__)}, not {v!r}")
            _check_choice(name, s, v)
            if s.lo is None:
                continue
            if not s.lo <= v <= s.hi:
                raise ValueError(f"{name.replace('_', '-')} must be {s.lo:g}..{s.hi:g}, not {v}")
        if self.lowest > self.highest:
            raise ValueError(f"lowest ({self.lowest}) must not be above highest ({self.highest})")
        if self.bpm and not 20 <= self.bpm <= 400:
            raise ValueError(f"bpm must be 20..400 (or 0 for free time), not {self.bpm:g}")
        if self.bpm and self.clock_port:
            raise ValueError("give --bpm (livejam keeps the tempo) or --clock (it follows one), not both")
        if self.min_answer > self.max_answer:
            raise ValueError(f"min-answer ({self.min_answer}) must not be above max-answer ({self.max_answer})")
        bad = set(self.ccs) - set(CONTROLS)
        if bad:
            raise ValueError(f"unknown CC control(s): {', '.join(sorted(bad))}; known: {', '.join(CONTROLS)}")
        for name, number in self.ccs.items():
            if number != CC_OFF and (not isinstance(number, int) or isinstance(number, bool) or number not in LEARNABLE):
                raise ValueError(f"the CC for {name} must be a number 0..119 or off, not {number!r}")
        users: dict[int, list[str]] = {}
        for name, number in self.ccs.items():
            if number != CC_OFF:
                users.setdefault(number, []).append(name)
        shared = {n: names for n, names in users.items() if len(names) > 1}
        if shared:
            n, names = sorted(shared.items())[0]
            raise ValueError(f"CC {n} is given to {' and '.join(names)}; one CC steers one control")

    def answer_length(self, call_seconds: float) -> float:
        if self.answer_seconds > 0:
            return self.answer_seconds
        return min(self.max_answer, max(self.min_answer, call_seconds))

    def to_dict(self) -> dict:
        return asdict(self)


def remap(ccs: dict, changes: dict) -> dict:
    """`ccs` with `changes` (name -> number or off) over it: a number now given to
    one control is taken from whichever control had it."""
    taken = {v for v in changes.values() if v != CC_OFF}
    kept = {n: (CC_OFF if c in taken else c) for n, c in ccs.items()}
    return {**kept, **changes}


def refuse_unknown(cls, d: dict, what: str) -> None:
    """One rule for every settings dataclass (here and in training): a typo is an error."""
    unknown = set(d) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {what}(s): {', '.join(sorted(unknown))}")


SETTINGS: dict[str, Setting] = {f.name: f.metadata["setting"] for f in fields(LivejamConfig)}
DEFAULTS: dict[str, object] = {
    f.name: (f.default if f.default is not MISSING else f.default_factory()) for f in fields(LivejamConfig)}
# Everything a CC can steer: live settings with a CC, and the actions.
CONTROLS: dict[str, Setting | Action] = {
    **{n: s for n, s in SETTINGS.items() if s.cc is not None}, **{a.name: a for a in ACTIONS}}
DEFAULT_CCS: dict[str, int] = {n: c.cc for n, c in CONTROLS.items()}
DEFAULTS["ccs"] = dict(DEFAULT_CCS)  # what a config starts with (the field's own default is merged over these)


_KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a text", list: "a list",
               dict: "a table"}


def value_type(name: str) -> type:
    s = SETTINGS[name]
    return s.kind or type(DEFAULTS[name])


def _check_choice(name: str, s: Setting, v) -> None:
    """A text setting with choices (phrase_rule) is one of them."""
    if isinstance(v, str) and s.choices and v not in s.choices:
        raise ValueError(f"{name.replace('_', '-')} must be {' or '.join(s.choices)}, not {v!r}")


def coerce(name: str, value):
    """A value from a command, CC or file as the field's type, range-checked."""
    kind, s = value_type(name), SETTINGS[name]
    if kind is bool and not isinstance(value, bool):
        raise ValueError(f"{name} is on or off, not {value!r}")
    v = s.parse(value) if s.parse is not None and isinstance(value, str) else kind(value)
    _check_choice(name, s, v)
    if s.lo is not None and not s.lo <= v <= s.hi:
        raise ValueError(f"{name.replace('_', '-')} must be {s.lo:g}..{s.hi:g}, not {v}")
    return v


def from_cc(name: str, cc_value: int):
    """What a CC value (0..127) means for a control: a trigger fires at >= 64, a
    switch is on at >= 64, a number sweeps its span."""
    c = CONTROLS[name]
    if isinstance(c, Action) or value_type(name) is bool:
        return cc_value >= 64
    if c.from_cc:
        return c.from_cc(cc_value)
    lo, hi = c.sweep()
    return value_type(name)(lo + (hi - lo) * cc_value / 127)


NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTERS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def note_name(n: int) -> str:
    """60 -> C4 (the octave numbering most keyboards print)."""
    return f"{NOTE_NAMES[n % 12]}{n // 12 - 1}"


def note_number(text: str) -> int:
    """A note as a player writes it: C4, F#3, Bb2, c-1 (C4 is 60), or a number 0..127; off is 0."""
    t = str(text).strip()
    if t.lower() in ("off", "none", ""):
        return 0
    if t.isdigit() and int(t) <= 127:
        return int(t)
    letter, rest = t[:1].lower(), t[1:]
    shift = 0
    while rest[:1] in ("#", "b"):
        shift += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    try:
        n = (int(rest) + 1) * 12 + _LETTERS[letter] + shift
    except (KeyError, ValueError):
        n = -1
    if not 0 <= n <= 127:
        raise ValueError(f"a note is a name like C4, F#3 or Bb2 (C4 is 60), or a number 0..127, or off; not {text!r}")
    return n


def shown(name: str, value) -> str:
    """A value as the controls panel says it."""
    s = SETTINGS[name]
    if s.show is not None and not (value == 0 and s.zero):
        return s.show(value)
    if isinstance(value, bool):
        return "on" if value else "off"
    if value == 0 and s.zero:
        return s.zero
    if isinstance(value, float) and s.unit:
        return f"{value:.2f}".rstrip("0").rstrip(".") + s.unit
    if isinstance(value, float):
        return f"{value:.2f}"
    return f"{value}{s.unit}"
