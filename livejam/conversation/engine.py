"""The engine: one thread that owns the model state and the conversation.

Everything arrives through one queue (played MIDI from the input thread,
commands from the CLI, CCs or the TUI), so nothing else ever touches the model.
Each played event is encoded and fed to the model at once (the state is always
current); the conversation decides phrase ends and plays answers through the
scheduler. What happens goes out as events to whoever subscribed (the headless
printer, the TUI), never by anyone polling the engine.
"""
from __future__ import annotations

import collections
import contextlib
import functools
import queue
import sys
import threading
from typing import Callable

import mido

from ..midi.feedback import EchoDetector
from ..midi.sounding import GESTURES, Keyboards
from ..model.sampler import Sampler
from ..settings import config
from ..threads import name_this_thread
from ..timing import bars
from ..timing.beats_out import BeatsOut
from ..timing.scheduler import Scheduler
from ..timing.tempo import CLOCK_KINDS, FIT_EVERY, FixedTempo, MidiClockFollower
from ..timing.wallclock import WallClock
from .adaptation import primer
from .controls import Controls
from .events import (AnswerEnded, ClockChanged, ClockWaiting, Command, Event, MidiClockIn, PhraseEnded, Planned,
                     Played, Problem, StateChanged, Stop)
from .listener import Listener
from .readouts import Figures, RollLog
from .turns import Conversation

SWITCH_INTERVAL = 0.0005
START_LEAD = 0.05  # with --bpm: seconds from start to bar 1 (Start goes out first)


class Engine:
    def __init__(self, cfg: config.LivejamConfig, model, output, clock=None, recorder=None) -> None:
        self.cfg = cfg
        self.clock = clock or WallClock()
        self.recorder = recorder
        self.recording = recorder is not None
        if recorder is not None:
            recorder.on_error = lambda message: self.emit(Problem, message=message)
        self.inbox: queue.Queue = queue.Queue()
        # The --clock port's messages in their order (a deque: its append and popleft are
        # atomic). Taken whenever the engine looks at the time, so every decision sees
        # every tick heard; the engine is woken for them only now and then (feed_midi_clock).
        self.clock_queue: collections.deque[MidiClockIn] = collections.deque()
        self.subscribers: list[Callable[[Event], None]] = []
        self.scheduler = Scheduler(output, self.clock, on_sent=self._sent, on_error=self._output_error)
        self.sampler = Sampler(cfg.temperature, cfg.top_p, cfg.seed)
        self.origin = self.clock.now()
        self.listener = Listener(model, self.origin)
        self.conversation = Conversation(cfg, self.listener, self.scheduler, self.sampler, self.emit)
        # Musical time: a fixed tempo, a followed MIDI clock, or none (free time).
        self.tempo = (FixedTempo(cfg.bpm, self.origin) if cfg.bpm else MidiClockFollower(cfg.clock_port) if cfg.clock_port
                      else None)
        self.conversation.tempo = self.tempo
        if isinstance(self.tempo, FixedTempo):
            self.conversation.count_in()  # --count-in: bars of clicks from bar 1 before it listens
        self.primed = 0  # notes --prime fed live adaptation before the first call
        if cfg.prime:
            tokens, self.primed = primer(cfg.prime)  # one line (LivejamError) if the file will not do
            self.conversation.style.feed(tokens)
        self.beats_out = BeatsOut(cfg, self.scheduler, self.conversation.grid, clock_out=cfg.clock_out and bool(cfg.bpm),
                                  count_until=lambda: self.conversation.count_until)
        self.roll = RollLog()  # what the piano roll draws
        self.conversation.show_plan = self.conversation.accompanist.show_plan = self._show_plan
        self.controls = Controls(self)
        self.figures = Figures(self)
        self.events_in = 0
        self.answers = 0
        self.output_failing = False
        self.released = True  # stop(): did every last release go out?
        self.keyboards = Keyboards()  # several inputs on one channel, held apart
        self.echoes = EchoDetector()  # our own output coming back in (a feedback loop)
        self.shown_state = self.conversation.state
        self.thread: threading.Thread | None = None
        self.running = False

    @property
    def model(self):
        return self.listener.model

    # -- from any thread -----------------------------------------------------
    def feed_midi(self, msg: mido.Message, t: float | None = None, keyboard: str = "") -> None:
        self.inbox.put(Played(msg, self.clock.now() if t is None else t, keyboard))

    def keyboard_sink(self, name: str | None) -> Callable[..., None]:
        """The sink for one input port: its messages carry its name (midi/sounding.py, Keyboards)."""
        return functools.partial(self.feed_midi, keyboard=name or "virtual")

    def feed_midi_clock(self, msg: mido.Message, t: float | None = None) -> None:
        """From the --clock port's thread: MIDI clock, Start/Stop/Continue, song position.
        The engine is woken at once for the transport and while the tempo is not yet
        known, else every FIT_EVERY ticks (a sixteenth): not 48 times a second at 120 BPM."""
        self.clock_queue.append(MidiClockIn(msg, self.clock.now() if t is None else t))
        tempo = self.tempo
        finding = isinstance(tempo, MidiClockFollower) and (tempo.fit is None or tempo.lost)  # (one read each: no lock)
        if msg.type != "clock" or len(self.clock_queue) >= FIT_EVERY or finding:
            self.inbox.put(ClockWaiting())

    def command(self, name: str, value=None) -> None:
        self.inbox.put(Command(name, value))

    def subscribe(self, fn: Callable[[Event], None]) -> None:
        """fn(event) is called on the engine thread (or the scheduler's): it must only enqueue."""
        self.subscribers.append(fn)

    def start(self) -> None:
        # A thread waiting for the GIL waits up to the switch interval (5 ms by
        # default): too long for the scheduler's deadlines while the engine samples.
        sys.setswitchinterval(SWITCH_INTERVAL)
        if isinstance(self.tempo, FixedTempo):
            # Bar 1 starts as livejam does (a moment after Start goes out, so a DAW sees Start first).
            self.tempo.restart(self.clock.now() + START_LEAD)
            self.conversation.count_in()  # --count-in: bars of clicks before it listens
        self.scheduler.start()
        self.beats_out.start()
        self.running = True
        self.thread = threading.Thread(target=self._run, name="livejam-engine", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop answering, release every note, send the panic CCs, save the recording."""
        if self.running:
            self.running = False
            self.inbox.put(Stop())
            if self.thread:
                self.thread.join(timeout=2)
        self.beats_out.stop()
        failed = self.scheduler.failed
        self.scheduler.panic(self.channels(), final=True)
        self.released = self.scheduler.failed == failed  # every last release went out (said on the way out)
        self.scheduler.stop()
        if self.recorder:
            self.recorder.close()

    # -- the engine thread ---------------------------------------------------
    def _run(self) -> None:
        name_this_thread()
        while self.running:
            wake = self.next_wakeup()
            try:
                item = self.inbox.get(timeout=None if wake is None else max(0.0, wake - self.clock.now()))
            except queue.Empty:
                item = None
            # Everything queued, then the decisions (a MIDI clock fills the inbox 24 times
            # a beat, in bursts: a phrase end must not wait behind it one item at a time).
            while item is not None:
                if isinstance(item, Stop):
                    return
                self.process(item)
                try:
                    item = self.inbox.get_nowait()
                except queue.Empty:
                    item = None
            self.tick()

    def next_wakeup(self) -> float | None:
        times = [self.conversation.next_wakeup(), self.beats_out.next_wakeup()]
        if isinstance(self.tempo, MidiClockFollower):
            times.append(self.tempo.lost_deadline())
        times = [x for x in times if x is not None]
        return min(times) if times else None

    def process(self, item) -> None:
        self.take_clock()
        with self._guard():
            if isinstance(item, Command):
                self.controls.apply(item.name, item.value)
            elif isinstance(item, Played):
                self.played(item.msg, item.t, item.keyboard)
        self._show_state()

    def take_clock(self) -> None:
        """Feed the follower every MIDI clock message waiting, in order."""
        while self.clock_queue:
            item = self.clock_queue.popleft()
            with self._guard():
                self.midi_clock_in(item.msg, item.t)

    def tick(self) -> None:
        self.take_clock()
        now = self.clock.now()
        if self.conversation.phrase_end_near(now) and self._played_waiting():
            return  # something played may predate the phrase end: it is handled first, then the loop comes back
        with self._guard():
            if isinstance(self.tempo, MidiClockFollower):
                self._clock_said(self.tempo.check(now), now)
            self.conversation.tick(now)
            self.beats_out.tick(now)
        self._show_state()

    def midi_clock_in(self, msg: mido.Message, t: float) -> None:
        if isinstance(self.tempo, MidiClockFollower) and msg.type in CLOCK_KINDS:
            self._clock_said(self.tempo.feed(msg.type, t, getattr(msg, "pos", None)), t)
            if self.tempo.downbeat:  # the first tick after Start: beat 1 is now
                self.tempo.downbeat = False
                self.beats_out.downbeat()

    def _clock_said(self, what: str | None, t: float) -> None:
        if what is None:
            return
        if what == "start":
            self.conversation.count_in()  # the song starts: --count-in bars of clicks, then it listens
        elif what in ("stop", "relocate", "continue"):
            self.conversation.count_in(0)  # the song stopped or runs on: no count-in (or none left)
        if what in ("stop", "relocate"):
            # The DAW stopped, or jumped (a loop, a locate): the answer in bars ends with
            # its notes released (a DAW stops its own notes too), and so do the
            # accompaniment and clicks already scheduled; the bars count from where the DAW now is.
            self.conversation.discard_upcoming()
            self.conversation.interrupt(t)
            self.conversation.accompanist.stop()  # the accompaniment too, as the DAW's own tracks stop
            self.scheduler.cancel("metronome")
            self.beats_out.rewind()
        self.emit(ClockChanged, what=what, source=self.tempo.source, bpm=self.tempo.bpm,
                  bar_known=self.conversation.bar_known())

    def position(self, t: float | None = None) -> tuple[int, float] | None:
        """(bar from 1, beat from 1.0) at t (default now) with a tempo; None in free
        time; (None, None) with a followed clock whose bar is not known."""
        g = self.conversation.grid()
        if g is None:
            return None
        if not self.conversation.bar_known():
            return None, None  # a beat, but no bar: nothing said where bar 1 is
        return bars.bar_and_beat(g, self.clock.now() if t is None else t, self.cfg.beats_per_bar)

    def _played_waiting(self) -> bool:
        """Is a played message (not the clock) waiting in the inbox?"""
        with self.inbox.mutex:
            return any(isinstance(item, Played) for item in self.inbox.queue)

    @contextlib.contextmanager
    def _guard(self):
        """Whatever goes wrong in one step (a full disk, a bad setting, a bug), the
        engine thread lives on: the answer in play is dropped with every one of its
        notes released, the player hears why in one line, and the next call is
        answered as usual."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - the music must not stop on any one error
            self.scheduler.cancel("answer")
            self.scheduler.cancel("accompany")
            self.conversation.reset()
            self.emit(Problem, message=f"{type(exc).__name__}: {exc} (the answer was stopped; playing goes on)")

    def played(self, msg: mido.Message, t: float, keyboard: str = "") -> None:
        self.events_in += 1
        if msg.type in GESTURES:
            # A bend, vibrato, pressure: the player's, passed through and recorded as
            # played; the model hears notes and pedals only.
            self._pass_and_record(msg, t)
            return
        if msg.type not in ("note_on", "note_off", "control_change"):
            return  # clock, sysex...: not part of the conversation
        if self._echo(msg, t):
            return
        if msg.type == "control_change" and self.controls.from_cc(msg):
            return
        if self.controls.split_learned(msg):
            return  # the key that set the split
        if not self.keyboards.passes(msg, keyboard):
            return  # another keyboard on this channel still holds that key or pedal down
        self._pass_and_record(msg, t)
        if msg.type in ("note_on", "note_off"):
            self.roll.add(t - self.origin, "you", msg.note, msg.type == "note_on" and msg.velocity > 0)
        self.conversation.heard(msg, t)

    def _pass_and_record(self, msg: mido.Message, t: float) -> None:
        if self.cfg.thru:
            self.scheduler.send_now(msg, "thru")
        if self.recorder and self.recording:
            self.recorder.player(msg, t)

    def _echo(self, msg: mido.Message, t: float) -> bool:
        """Our own output heard again (midi/feedback.py): dropped; a loop is said once and pauses thru."""
        release = msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)
        if release and (self.listener.encoder.presses.get((msg.channel, msg.note))
                        or msg.note in self.conversation.left.keys):
            return False  # a key the player holds (either hand): its release, even if ours just sent the same bytes
        was = self.echoes.looping
        if not self.echoes.heard(bytes(msg.bytes()), t):
            return False
        if self.echoes.looping and not was:
            if self.cfg.thru:
                self.controls.apply("thru", False)
            self.emit(Problem, message="feedback loop: livejam hears its own output on its input (a DAW monitoring "
                                       "its track, or livejam out patched to livejam in); thru is paused and the "
                                       "echoes ignored. Break the loop, then turn thru on again")
        return True

    # -- bookkeeping ---------------------------------------------------------
    def channels(self) -> list[int]:
        return [self.cfg.channel - 1]

    def _sent(self, now: float, tag: str, msg: mido.Message, lateness: float) -> None:
        # Runs on the scheduler thread: only cheap bookkeeping here.
        self.output_failing = False  # the output works (again): a next failure is said again
        if msg.type in ("note_on", "note_off", "control_change"):
            self.echoes.sent(bytes(msg.bytes()), now)
        if tag not in ("answer", "accompany"):
            return
        if msg.type in ("note_on", "note_off"):
            on = msg.type == "note_on" and msg.velocity > 0
            if on and tag == "answer":
                self.conversation.answer_note_sent(now)
            self.roll.add(now - self.origin, "livejam", msg.note, on)
        if self.recorder and self.recording:
            self.recorder.answer(msg, now)

    def _output_error(self, exc: Exception) -> None:
        # Said once until a send works again: with the port gone, every message
        # (48 a second of clock alone) would otherwise be a line of its own.
        if not self.output_failing:
            self.output_failing = True
            self.emit(Problem, message=f"output failed: {exc} (said once; livejam goes on and sends again when it can)")

    def _show_plan(self, notes: list[tuple[float, float, int]]) -> None:
        """The notes decided ahead (clock times): drawn as ghosts, and said (headless JSON)."""
        rel = [(round(s - self.origin, 4), p, round(e - s, 4)) for s, e, p in sorted(notes)]
        self.roll.show_plan([(s, s + d, p) for s, p, d in rel])
        self.emit(Planned, notes=[list(n) for n in rel])

    def _show_state(self) -> None:
        state = self.conversation.state
        if state != self.shown_state:
            self.shown_state = state
            self.emit(StateChanged, state=state)

    def emit(self, kind: type[Event], **data) -> None:
        now = self.clock.now()
        pos = self.position(now)
        if pos is not None:
            data["bar"], data["beat"] = pos
        event = kind(t=round(now - self.origin, 3), **data)
        if isinstance(event, AnswerEnded):
            self.answers += 1
        if self.recorder and isinstance(event, (PhraseEnded, AnswerEnded)):
            self.recorder.request_flush()
        for fn in self.subscribers:
            fn(event)
