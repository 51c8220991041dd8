"""The engine: one thread that owns the model state and the conversation.

Everything arrives through one queue (MIDI from the input thread, commands from
the CLI, CCs or the TUI), so nothing else ever touches the model. Each played
event is encoded and fed to the model at once (the state is always current);
at the phrase end the answer is sampled from that state a little ahead of
playback and handed to the scheduler with absolute deadlines.
"""
from __future__ import annotations

import queue
import sys
import threading
from collections import deque

import mido
import numpy as np

from . import vocab
from .answer import Answer
from .clock import RealClock
from .config import CC_MEANING, TRIGGERS, LivejamConfig
from .encoder import StreamEncoder
from .phrase import PhraseDetector
from .sampler import Sampler
from .scheduler import Scheduler


SWITCH_INTERVAL = 0.0005
PREPARE_AHEAD = 0.015  # seconds before the silence is up that the answer's first notes are sampled


class Engine:
    def __init__(self, cfg: LivejamConfig, session, output, clock=None, recorder=None) -> None:
        self.cfg = cfg
        self.session = session
        self.clock = clock or RealClock()
        self.recorder = recorder
        self.inbox: queue.Queue = queue.Queue()
        self.events: queue.Queue = queue.Queue()  # (kind, dict) for the CLI / TUI to show
        self.scheduler = Scheduler(output, self.clock, on_sent=self._sent, on_error=self._output_error)
        self.sampler = Sampler(cfg.temperature, cfg.top_p, cfg.seed)
        self.phrases = PhraseDetector(cfg.silence)
        self.origin = self.clock.now()
        self._reset_model()
        self.answer: Answer | None = None
        self.upcoming: Answer | None = None  # sampled ahead for the coming phrase end, not yet heard
        self.deferred: list[int] = []  # player tokens heard while an answer played over them
        self.decided_at: float | None = None
        self.onsets: deque[float] = deque(maxlen=1000)
        self.events_in = 0
        self.thread: threading.Thread | None = None
        self.running = False
        self.answers = 0
        # What the piano roll draws: (seconds since start, "you"/"livejam", pitch, on?).
        # Appended from the engine and scheduler threads; a deque append is atomic.
        self.roll: deque[tuple[float, str, int, bool]] = deque(maxlen=4000)
        self.recording = recorder is not None

    # -- from any thread -----------------------------------------------------
    def feed_midi(self, msg: mido.Message, t: float | None = None) -> None:
        self.inbox.put(("midi", msg, self.clock.now() if t is None else t))

    def command(self, name: str, value=None) -> None:
        self.inbox.put(("cmd", name, value))

    def start(self) -> None:
        # A thread waiting for the GIL waits up to the switch interval (5 ms by
        # default): too long for the scheduler's deadlines while the engine samples.
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.scheduler.start()
        self.running = True
        self.thread = threading.Thread(target=self._run, name="livejam-engine", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop answering, release every note, send the panic CCs, save the recording."""
        if self.running:
            self.running = False
            self.inbox.put(("stop", None, None))
            if self.thread:
                self.thread.join(timeout=2)
        self.scheduler.panic(self._channels())
        self.scheduler.stop()
        if self.recorder:
            self.recorder.close()

    # -- the engine thread ---------------------------------------------------
    def _run(self) -> None:
        while self.running:
            timeout = self.next_wakeup()
            try:
                item = self.inbox.get(timeout=None if timeout is None else max(0.0, timeout - self.clock.now()))
            except queue.Empty:
                item = None
            if item is not None:
                if item[0] == "stop":
                    break
                self.process(item)
            self.tick()

    def next_wakeup(self) -> float | None:
        """The next time the engine must look without input: a phrase end or an answer refill."""
        times = []
        due = self.phrases.due(self.encoder.held)
        if due is not None:
            times.append(due - PREPARE_AHEAD if self._may_prepare() else due)
        if self.answer is not None:
            # Refill once half the lookahead is used; wake at the end to close the answer.
            times.append(self.answer.end_time if self.answer.done
                         else self.answer.time_of(self.answer.dec.step) - self.cfg.lookahead / 2)
        return min(times) if times else None

    def process(self, item) -> None:
        kind, a, b = item
        if kind == "cmd":
            self.apply(a, b)
        elif kind == "midi":
            self.played(a, b)

    def played(self, msg: mido.Message, t: float) -> None:
        self.events_in += 1
        if msg.type == "control_change" and self._control(msg):
            return
        if msg.type not in ("note_on", "note_off", "control_change"):
            return  # clock, sysex, aftertouch...: not part of the conversation
        self._end_phrase_if_due(self.clock.now())  # a phrase end that fell due while this waited comes first
        self._discard_upcoming()  # the call goes on: what was sampled ahead is void
        if self.cfg.thru:
            self.scheduler.send_now(msg, "thru")
        if self.recorder and self.recording:
            self.recorder.player(msg, t)
        striking = msg.type == "note_on" and msg.velocity > 0
        if msg.type in ("note_on", "note_off"):
            self.roll.append((t - self.origin, "you", msg.note, striking))
        if striking and self.answer is not None and not self.cfg.overlap:
            self.interrupt(t)
        tokens = self.encoder.message(msg, t - self.origin)
        if self.answer is not None and not self.answer.done:
            # Playing over the answer (--overlap): the model hears these notes once it finishes.
            self.deferred += [x for x in tokens if vocab.describe(x)[0] != "TIME_SHIFT"]
        else:
            self.feed(tokens)
        if striking:
            self.phrases.note_on(t)
        elif tokens or msg.type != "note_on":
            self.phrases.released(t)

    def tick(self) -> None:
        now = self.clock.now()
        if self.answer is not None:
            self._continue_answer(now)
        due = self.phrases.due(self.encoder.held)
        if due is not None and self._may_prepare() and due - now <= PREPARE_AHEAD:
            self._start_answer(max(due, now), self.phrases.call_seconds)
        self._end_phrase_if_due(now)

    def _end_phrase_if_due(self, now: float) -> None:
        phrase = self.phrases.check(now, self.encoder.held)
        if phrase is not None:
            self._phrase_ended(phrase, now)

    # -- model ---------------------------------------------------------------
    def _reset_model(self) -> None:
        self.encoder = StreamEncoder()
        self.state = self.session.initial_state(1)
        # Logits before any token: the model's view of how a piece starts.
        self.logits, self.state = self.session.step(vocab.time_shift(1), self.state)
        self.encoder.step = 1

    def feed(self, tokens: list[int]) -> None:
        if tokens:
            logits, self.state = self.session.run(np.array([tokens], np.int64), self.state)
            self.logits = logits[0, -1]

    # -- answers -------------------------------------------------------------
    def _may_prepare(self) -> bool:
        return self.upcoming is None and self.answer is None and not self.cfg.muted

    def _start_answer(self, t: float, call_seconds: float) -> None:
        """Sample the start of an answer for time t (now, or the coming phrase end)
        and schedule its first notes at t, leaving the engine's own state alone
        until the phrase really ends; so the answer can sound the instant it does."""
        step = max(self.encoder.step, int(vocab.to_steps(t - self.origin)))
        state, logits = self.state, self.logits
        shifts = vocab.shift_tokens(step - self.encoder.step)
        if shifts:
            out, state = self.session.run(np.array([shifts], np.int64), state)
            logits = out[0, -1]
        vbin = self.encoder.velocity_bin if self.encoder.velocity_bin is not None else vocab.DEFAULT_VELOCITY_BIN
        self.upcoming = Answer(self.session, self.sampler, self.cfg, state, logits, step, t,
                               self.cfg.answer_length(call_seconds), vbin)
        # The onset is timed from t: the first note may go out before the engine
        # thread gets round to committing the phrase end.
        self.decided_at = t
        for deadline, msg in self.upcoming.fill(t, self.cfg.channel - 1):
            self.scheduler.schedule(deadline, msg, "answer")

    def _discard_upcoming(self) -> None:
        if self.upcoming is not None:
            self.scheduler.cancel("answer")
            self.upcoming = None
            self.decided_at = None

    def _phrase_ended(self, phrase, now: float) -> None:
        self.emit("phrase", notes=phrase.notes, seconds=round(phrase.seconds, 2))
        if self.recorder:
            self.recorder.flush()
        if self.answer is not None:
            # A call played over an answer (--overlap) ended: answer the newest call.
            self.interrupt(now)
        if self.cfg.muted:
            self._discard_upcoming()
            return
        if self.upcoming is None:
            self._start_answer(now, phrase.seconds)
        ans, self.upcoming = self.upcoming, None
        self._adopt(ans.marks[0])  # the model has now heard the silence up to the answer
        self.answer = ans
        phrase.decided = ans.t0
        self._continue_answer(now)

    def _continue_answer(self, now: float) -> None:
        ans = self.answer
        if not ans.done:
            for deadline, msg in ans.fill(now + self.cfg.lookahead, self.cfg.channel - 1):
                self.scheduler.schedule(deadline, msg, "answer")
            if ans.done:
                self._adopt(ans.marks[-1])
                self.feed(self.deferred)
                self.deferred = []
        if ans.done and now >= ans.end_time and self.scheduler.pending("answer") == 0:
            self.answer = None
            self.answers += 1
            self.emit("answer", notes=ans.notes_played, seconds=round(ans.end_time - ans.t0, 2),
                      onset_ms=round(self.onsets[-1] * 1000, 2) if self.onsets else None)
            if self.recorder:
                self.recorder.flush()

    def _adopt(self, mark) -> None:
        self.state, self.logits = mark.state, mark.logits
        self.encoder.step = mark.step
        self.encoder.velocity_bin = mark.velocity_bin

    def interrupt(self, now: float) -> None:
        """The player came back in: stop the answer now, release its notes, and
        rewind the model to what was actually heard."""
        ans = self.answer
        if ans is None:
            return
        self.scheduler.cancel("answer")
        mark, release = ans.rollback(now)
        self._adopt(mark)
        self.deferred = []
        self.feed(release)
        self.answer = None
        self.emit("interrupted", at_seconds=round(now - ans.t0, 2))

    # -- controls ------------------------------------------------------------
    def _control(self, msg: mido.Message) -> bool:
        """A mapped CC changes a setting instead of reaching the model."""
        name = next((n for n, number in self.cfg.ccs.items() if number == msg.control), None)
        if name is None:
            return False
        value = CC_MEANING[name](msg.value)
        if name not in TRIGGERS or value:  # a trigger acts on press, not on release
            self.apply(name, value)
        return True

    def apply(self, name: str, value=None) -> None:
        now = self.clock.now()
        self._discard_upcoming()  # sampled with the old settings
        if name == "panic":
            if self.answer is not None:
                self.interrupt(now)
            self.scheduler.panic(self._channels())
            self.emit("panic")
        elif name == "phrase_end":
            phrase = self.phrases.manual_end(now)
            if phrase is not None:
                self._phrase_ended(phrase, now)
        elif name == "mute":
            self.cfg.muted = bool(value) if value is not None else not self.cfg.muted
            if self.cfg.muted and self.answer is not None:
                self.interrupt(now)
            self.emit("mute", muted=self.cfg.muted)
        elif name == "record":
            self.recording = self.recorder is not None and (bool(value) if value is not None else not self.recording)
            self.emit("setting", name="record", value=self.recording)
        elif name == "model":
            self._switch_model(value)
        elif name in ("temperature", "top_p", "silence", "answer_seconds", "answer_length", "overlap", "thru", "channel"):
            field = "answer_seconds" if name == "answer_length" else name
            setattr(self.cfg, field, type(getattr(self.cfg, field))(value))
            self.sampler.temperature, self.sampler.top_p = self.cfg.temperature, self.cfg.top_p
            self.phrases.silence = self.cfg.silence
            self.emit("setting", name=field, value=getattr(self.cfg, field))
        else:
            self.emit("error", message=f"unknown command {name!r}")

    def _switch_model(self, path) -> None:
        """Between phrases or mid-answer: release what sounds, load, start afresh."""
        from .errors import LivejamError
        from .session import ModelSession

        try:
            session = ModelSession(path)
        except LivejamError as exc:
            self.emit("error", message=str(exc))
            return
        if self.answer is not None:
            self.interrupt(self.clock.now())
        self.session = session
        held = self.encoder
        self._reset_model()
        # Keys still down stay down: their releases must still end the phrase.
        self.encoder.keys_down, self.encoder.sounding = held.keys_down, held.sounding
        self.encoder.pedal_down, self.encoder.sustained = held.pedal_down, held.sustained
        self.emit("model", path=str(session.path), summary=session.metadata.get("summary", ""))

    # -- bookkeeping ---------------------------------------------------------
    def _channels(self) -> list[int]:
        return [self.cfg.channel - 1]

    def _sent(self, now: float, tag: str, msg: mido.Message, lateness: float) -> None:
        # Runs on the scheduler thread: only cheap bookkeeping here.
        if tag == "answer" and self.decided_at is not None and msg.type == "note_on":
            self.onsets.append(now - self.decided_at)
            self.decided_at = None
        if tag == "answer" and msg.type in ("note_on", "note_off"):
            self.roll.append((now - self.origin, "livejam", msg.note, msg.type == "note_on" and msg.velocity > 0))
        if self.recorder and self.recording and tag == "answer":
            self.recorder.answer(msg, now)

    def _output_error(self, exc: Exception) -> None:
        self.emit("error", message=f"output failed: {exc}")

    def emit(self, kind: str, **data) -> None:
        self.events.put((kind, {"t": round(self.clock.now() - self.origin, 3), **data}))

    def snapshot(self) -> dict:
        steps = np.array(self.session.step_seconds) * 1000 if self.session.step_seconds else np.zeros(1)
        onsets = np.array(self.onsets) * 1000 if self.onsets else None
        due = self.phrases.due(self.encoder.held)
        return {
            "state": "muted" if self.cfg.muted else "answering" if self.answer else
                     "listening" if self.phrases.in_call else "waiting",
            "countdown": max(0.0, due - self.clock.now()) if due is not None else None,
            "now": self.clock.now() - self.origin,
            "recording": self.recording,
            "answers": self.answers,
            "step_ms_p50": float(np.percentile(steps, 50)), "step_ms_p99": float(np.percentile(steps, 99)),
            "onset_ms_last": float(onsets[-1]) if onsets is not None else None,
            "onset_ms_p95": float(np.percentile(onsets, 95)) if onsets is not None else None,
            "late": self.scheduler.late, "events_in": self.events_in,
        }
