"""The engine: one thread that owns the model state and the conversation.

Everything arrives through one queue (played MIDI from the input thread,
commands from the CLI, CCs or the TUI), so nothing else ever touches the model.
Each played event is encoded and fed to the model at once (the state is always
current); the conversation decides phrase ends and plays answers through the
scheduler. What happens goes out as events to whoever subscribed (the headless
printer, the TUI), never by anyone polling the engine.
"""
from __future__ import annotations

import contextlib
import queue
import sys
import threading
from typing import Callable

import mido
import numpy as np

from . import config
from .clock import RealClock
from .conversation import Conversation
from .events import (AnswerEnded, ClockChanged, ClockIn, Command, Event, ModelLoaded, Panicked, PhraseEnded,
                     Played, Problem, SettingChanged, StateChanged, Stop)
from .listener import Listener
from .notelog import NoteLog
from .osthread import name_this_thread
from .pulse import Pulse
from .sampler import Sampler
from .scheduler import Scheduler
from .tempo import CLOCK_KINDS, ClockFollower, FixedTempo

SWITCH_INTERVAL = 0.0005
START_LEAD = 0.05  # with --bpm: seconds from start to bar 1 (Start goes out first)


class Engine:
    def __init__(self, cfg: config.LivejamConfig, session, output, clock=None, recorder=None) -> None:
        self.cfg = cfg
        self.clock = clock or RealClock()
        self.recorder = recorder
        self.recording = recorder is not None
        if recorder is not None:
            recorder.on_error = lambda message: self.emit(Problem, message=message)
        self.inbox: queue.Queue = queue.Queue()
        self.subscribers: list[Callable[[Event], None]] = []
        self.scheduler = Scheduler(output, self.clock, on_sent=self._sent, on_error=self._output_error)
        self.sampler = Sampler(cfg.temperature, cfg.top_p, cfg.seed)
        self.origin = self.clock.now()
        self.listener = Listener(session, self.origin)
        self.conversation = Conversation(cfg, self.listener, self.scheduler, self.sampler, self.emit)
        # Musical time: a fixed tempo, a followed MIDI clock, or none (free time).
        self.tempo = (FixedTempo(cfg.bpm, self.origin) if cfg.bpm else ClockFollower(cfg.clock) if cfg.clock
                      else None)
        self.conversation.tempo = self.tempo
        self.pulse = Pulse(cfg, self.scheduler, self.conversation.grid, clock_out=cfg.clock_out and bool(cfg.bpm))
        self.notes = NoteLog()  # what the piano roll draws
        self.events_in = 0
        self.answers = 0
        self.shown_state = self.conversation.state
        self.thread: threading.Thread | None = None
        self.running = False

    @property
    def session(self):
        return self.listener.session

    # -- from any thread -----------------------------------------------------
    def feed_midi(self, msg: mido.Message, t: float | None = None) -> None:
        self.inbox.put(Played(msg, self.clock.now() if t is None else t))

    def feed_clock(self, msg: mido.Message, t: float | None = None) -> None:
        """From the --clock port's thread: MIDI clock, Start/Stop/Continue, song position."""
        self.inbox.put(ClockIn(msg, self.clock.now() if t is None else t))

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
        self.scheduler.start()
        self.pulse.start()
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
        self.pulse.stop()
        self.scheduler.panic(self._channels(), final=True)
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
        times = [self.conversation.next_wakeup(), self.pulse.next_wakeup()]
        if isinstance(self.tempo, ClockFollower):
            times.append(self.tempo.lost_deadline())
        times = [x for x in times if x is not None]
        return min(times) if times else None

    def process(self, item) -> None:
        with self._guard():
            if isinstance(item, Command):
                self.apply(item.name, item.value)
            elif isinstance(item, Played):
                self.played(item.msg, item.t)
            elif isinstance(item, ClockIn):
                self.clock_in(item.msg, item.t)
        self._show_state()

    def tick(self) -> None:
        now = self.clock.now()
        if self.conversation.phrase_end_near(now) and self._played_waiting():
            return  # something played may predate the phrase end: it is handled first, then the loop comes back
        with self._guard():
            if isinstance(self.tempo, ClockFollower):
                self._clock_said(self.tempo.check(now), now)
            self.conversation.tick(now)
            self.pulse.tick(now)
        self._show_state()

    def clock_in(self, msg: mido.Message, t: float) -> None:
        if isinstance(self.tempo, ClockFollower) and msg.type in CLOCK_KINDS:
            self._clock_said(self.tempo.feed(msg.type, t, getattr(msg, "pos", None)), t)

    def _clock_said(self, what: str | None, t: float) -> None:
        if what is None:
            return
        if what == "stop":
            # The DAW stopped: so does the answer in bars (a DAW stops its own notes too).
            self.conversation.discard_upcoming()
            self.conversation.interrupt(t)
            self.pulse.rewind()
        self.emit(ClockChanged, what=what, source=self.tempo.source, bpm=self.tempo.bpm)

    def position(self, t: float | None = None) -> tuple[int, float] | None:
        """(bar from 1, beat from 1.0) at t (default now) with a tempo; None in free time."""
        g = self.conversation.grid()
        if g is None:
            return None
        # Rounded first, as shown: 11.996 beats is bar 4 beat 1.0, not bar 3 beat 5.0.
        beats = max(0.0, round(g.beats(self.clock.now() if t is None else t), 2))
        bpb = self.cfg.beats_per_bar
        bar = int(beats // bpb)
        return bar + 1, round(beats - bar * bpb + 1, 2)

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
            self.conversation.reset()
            self.emit(Problem, message=f"{type(exc).__name__}: {exc} (the answer was stopped; playing goes on)")

    def played(self, msg: mido.Message, t: float) -> None:
        self.events_in += 1
        if msg.type == "control_change" and self._control(msg):
            return
        if msg.type not in ("note_on", "note_off", "control_change"):
            return  # clock, sysex, aftertouch...: not part of the conversation
        if self.cfg.thru:
            self.scheduler.send_now(msg, "thru")
        if self.recorder and self.recording:
            self.recorder.player(msg, t)
        if msg.type in ("note_on", "note_off"):
            self.notes.add(t - self.origin, "you", msg.note, msg.type == "note_on" and msg.velocity > 0)
        self.conversation.heard(msg, t)

    # -- controls ------------------------------------------------------------
    def _control(self, msg: mido.Message) -> bool:
        """A mapped CC changes a setting (or fires an action) instead of reaching the model."""
        name = next((n for n, number in self.cfg.ccs.items() if number == msg.control), None)
        if name is None:
            return False
        value = config.from_cc(name, msg.value)
        if isinstance(config.CONTROLS[name], config.Action):
            if value:  # a trigger acts on press, not on release
                self.apply(name)
        else:
            self.apply(name, value)
        return True

    def apply(self, name: str, value=None) -> None:
        now = self.clock.now()
        conv = self.conversation
        conv.discard_upcoming()  # sampled with the old settings
        if name == "panic":
            conv.interrupt(now)
            self.scheduler.panic(self._channels())
            self.pulse.rewind()  # the clock and the clicks it dropped are scheduled again
            self.emit(Panicked)
        elif name == "phrase_end":
            conv.end_phrase_now(now)
        elif name == "record":
            self.recording = self.recorder is not None and (bool(value) if value is not None else not self.recording)
            self.emit(SettingChanged, name="record", value=self.recording)
        elif name == "model":
            self._load_model(value)
        elif name == "model_ready":
            self._switch_model(value)
        elif name in config.SETTINGS and config.SETTINGS[name].live:
            self._set(name, value, now)
        else:
            self.emit(Problem, message=f"unknown command {name!r}")

    def _set(self, name: str, value, now: float) -> None:
        if value is None and config.value_type(name) is bool:
            value = not getattr(self.cfg, name)  # no value: toggle
        try:
            value = config.coerce(name, value)
        except (TypeError, ValueError) as exc:
            self.emit(Problem, message=str(exc))
            return
        setattr(self.cfg, name, value)
        if name == "thru" and not value:
            self.scheduler.cancel("thru")  # keys held now would never get their note-off through
        self.sampler.temperature, self.sampler.top_p = self.cfg.temperature, self.cfg.top_p
        self.conversation.phrases.silence = self.cfg.silence
        if name == "muted" and value:
            self.conversation.interrupt(now)
        self.emit(SettingChanged, name=name, value=value)

    def _load_model(self, path) -> None:
        """Load a model off the engine thread (it takes a while): the old one keeps
        playing meanwhile, and keeps playing if the new one is refused."""
        from .errors import LivejamError
        from .session import ModelSession

        def load() -> None:
            try:
                self.command("model_ready", ModelSession(path))
            except LivejamError as exc:
                self.emit(Problem, message=str(exc))

        if self.running:
            threading.Thread(target=load, name="livejam-model-load", daemon=True).start()
        else:
            load()  # no engine thread (offline, tests): the pump picks the result up

    def _switch_model(self, session) -> None:
        """Between phrases or mid-answer: release what sounds, start afresh on the new model."""
        self.conversation.interrupt(self.clock.now())
        self.listener.reset(session)
        self.emit(ModelLoaded, path=str(session.path), summary=session.metadata.get("summary", ""))

    # -- bookkeeping ---------------------------------------------------------
    def _channels(self) -> list[int]:
        return [self.cfg.channel - 1]

    def _sent(self, now: float, tag: str, msg: mido.Message, lateness: float) -> None:
        # Runs on the scheduler thread: only cheap bookkeeping here.
        if tag != "answer":
            return
        if msg.type in ("note_on", "note_off"):
            on = msg.type == "note_on" and msg.velocity > 0
            if on:
                self.conversation.answer_note_sent(now)
            self.notes.add(now - self.origin, "livejam", msg.note, on)
        if self.recorder and self.recording:
            self.recorder.answer(msg, now)

    def _output_error(self, exc: Exception) -> None:
        self.emit(Problem, message=f"output failed: {exc}")

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

    def reset_figures(self) -> None:
        self.session.step_seconds.clear()
        self.conversation.onsets.clear()
        self.scheduler.lateness.clear()
        self.events_in = self.answers = self.scheduler.late = 0

    def activity(self) -> tuple:
        """Changes whenever a figure may have: a cheap check before computing them."""
        return self.session.runs, self.events_in, self.answers, self.scheduler.sent

    def figures(self) -> dict:
        """The live figures the screen shows (cheap: a view reads them about once a second)."""
        steps = np.array(self.session.step_seconds) * 1000 if self.session.step_seconds else np.zeros(1)
        onsets = np.array(self.conversation.onsets) * 1000 if self.conversation.onsets else None
        late = np.maximum(np.array(self.scheduler.lateness), 0) * 1000 if self.scheduler.lateness else np.zeros(1)
        return {
            "step_ms_p50": float(np.percentile(steps, 50)), "step_ms_p99": float(np.percentile(steps, 99)),
            "onset_ms_last": float(onsets[-1]) if onsets is not None else None,
            "onset_ms_p95": float(np.percentile(onsets, 95)) if onsets is not None else None,
            "send_late_ms_p50": float(np.percentile(late, 50)), "send_late_ms_p99": float(np.percentile(late, 99)),
            "late": self.scheduler.late, "events_in": self.events_in, "answers": self.answers,
        }
