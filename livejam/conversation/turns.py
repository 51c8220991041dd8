"""Calls and answers: when a call ends, and an answer's life (planned ahead, played, cut short by
the player, finished) with what the model hears meanwhile. Pure logic on the times it is given;
the engine thread drives it and the scheduler plays what it schedules."""
from __future__ import annotations

from collections import deque
from dataclasses import replace

import mido

from ..timing import bars
from ..model import vocab
from ..model.encoder import ALL_NOTES_OFF_CC, DRUM_CHANNEL
from ..harmony.chords import LeftHand
from ..timing.pulse import pulse_of
from .accompany import Accompanist
from .adaptation import SessionCache
from .answer import Answer
from .call import HeardCall, pitch_name
from .events import AnswerEnded, HeldLong, Interrupted, PhraseEnded
from .phrase import THRESHOLD, PhraseDetector, model_gap_due
from .steering import Steering

PLAN_SECONDS = 0.5  # free time: how far ahead an answer's notes are decided (and shown)
REFILL = 0.05  # seconds of plan decided at a time: a long run would hold the interpreter lock from the sends
PREPARE_AHEAD = 0.015  # seconds before the silence is up that the answer's first notes are sampled
END_GRACE = 0.01  # a note struck this close to an answer's end starts the next call, not an interruption
HELD_LONG = 10.0  # seconds a key may be held with nothing else played before the screen names it


class Conversation:
    def __init__(self, cfg, listener, scheduler, sampler, emit) -> None:
        self.cfg, self.listener, self.scheduler, self.sampler, self.emit = cfg, listener, scheduler, sampler, emit
        self.phrases = PhraseDetector(cfg.silence)
        self.answer: Answer | None = None
        self.upcoming: Answer | None = None  # sampled ahead for the coming phrase end, not yet heard
        self.deferred: list[int] = []  # player tokens heard while an answer played over them
        self.decided_at: float | None = None  # the phrase-end decision the next first note is timed from
        self.onsets: deque[float] = deque(maxlen=1000)  # decision -> first answer note sent, seconds
        self.answers_played = 0
        self.call = HeardCall()  # the call being played, as the model heard it: what steering aims at
        self.call_onsets: list[float] = []  # clock times of the call's notes (its swing, with a tempo)
        self.tempo = None  # tempo.FixedTempo or MidiClockFollower: bars and beats; None: free time
        self.phrases.bar_due = self._bar_due
        self.style = SessionCache()  # tonight's playing, for live adaptation (the player's notes only)
        self.last_heard: float | None = None  # when the player last played anything
        self.held_said = False  # HeldLong said for the keys held since last_heard
        self.accompanist = Accompanist(cfg, listener, scheduler, sampler, self.grid)  # --mode accompany
        self.left = self.accompanist.left = LeftHand()  # --split: the chord held below it, not part of the call
        # --count-in: the beat (on the grid) livejam starts listening at; None: listening
        self.count_until: float | None = None
        self.counting = False  # within the count-in, as of the last look
        self.show_plan = lambda notes: None  # (start, end, pitch) decided ahead: the engine shows them

    def reset(self) -> None:
        """Forget the answer in play and any prepared one (after an error; the
        scheduler has already released their notes). The model keeps what it heard."""
        self.accompanist.forget()
        self.answer = self.upcoming = None
        self.deferred, self.decided_at = [], None
        self.phrases.reset()

    def count_in(self, bars: int | None = None) -> None:
        """The song starts (--bpm at start, the DAW's Start): click `bars` bars (default
        the setting), then listen from the bar after."""
        bars = self.cfg.count_in if bars is None else bars
        self.count_until = float(bars * self.cfg.beats_per_bar) if bars > 0 else None
        self.counting = self.count_until is not None

    def counting_in(self, t: float) -> bool:
        """Is `t` inside the count-in (livejam not yet listening)?"""
        if self.count_until is None:
            return False
        g = self.grid()
        if g is None:
            return True  # a DAW's Start, its tempo not yet found: still counting
        if g.beats(t) >= self.count_until - 1e-6:
            self.count_until = None  # counted in: listening from here on
            return False
        return True

    @property
    def state(self) -> str:
        if self.counting:
            return "counting in"
        if self.cfg.muted:
            return "muted"
        if self.answer:
            return "answering"
        if self.accompanist.playing:
            return "playing along"
        return "listening" if self.phrases.in_call else "waiting"

    @property
    def accompanying(self) -> bool:
        return self.cfg.mode == "accompany" and not self.cfg.muted

    def _answers(self) -> bool:
        """Answer mode, or accompany mode handing the turn to an answer when the player stops."""
        return self.cfg.mode == "answer" or self.cfg.then_answer

    def phrase_end_near(self, now: float) -> bool:
        """The phrase end is due, or its answer is about to be prepared."""
        due = self.phrases.due(self.listener.held)
        return due is not None and now >= due - PREPARE_AHEAD

    def countdown(self, now: float) -> float | None:
        if not self._answers():
            return None  # accompany mode without then_answer: no answer is coming
        due = self.phrases.due(self.listener.held)
        return None if due is None else max(0.0, due - now)

    def next_wakeup(self) -> float | None:
        """The next time to look without input: a phrase end or an answer refill."""
        times = []
        due = self.phrases.due(self.listener.held)
        if due is not None:
            times.append(due - PREPARE_AHEAD if self._may_prepare() else due)
        if self._held_long_due() is not None:
            times.append(self._held_long_due())
        if self.accompanist.next_wakeup() is not None:
            times.append(self.accompanist.next_wakeup())
        if self.count_until is not None and (g := self.grid()) is not None:
            times.append(g.time(self.count_until))  # the count-in's end: "listening" shown on the bar line
        if (ans := self.answer) is not None:
            if ans.plan:
                times.append(ans.time_of(ans.plan[0][3]) - self._lookahead(ans))
            ahead = max(self._plan_ahead(ans) - REFILL, self._lookahead(ans) / 2)  # decide a bit at a time
            times.append(ans.end_time if ans.done else ans.time_of(ans.dec.step) - ahead)
        return min(times) if times else None

    # -- the player ----------------------------------------------------------
    def heard(self, msg: mido.Message, t: float) -> None:
        """A note or pedal message the player played at `t`."""
        if msg.channel == DRUM_CHANNEL:
            return  # a pad tap or a metronome routed back in: not a call (the model ignores it too)
        if self.left.takes(msg, self.cfg.split, t):  # the harmony: it starts, ends and cuts no call
            self._left_hand(msg, t)
            return
        if self.counting_in(t):
            return  # the count-in: livejam listens from the bar after (thru and the recording have it)
        # A phrase end that fell due before this was played comes first; judged by
        # when it was played, not when it is processed, so a note played just before
        # the deadline but handled just after it does not split the call.
        self.end_phrase_if_due(t)
        self.discard_upcoming()  # the call goes on: what was sampled ahead is void
        self.last_heard, self.held_said = t, False
        striking = msg.type == "note_on" and msg.velocity > 0
        if striking and self.answer is not None and not self.cfg.overlap and not self._answer_over(t):
            self.interrupt(t)
        tokens = self.listener.encode(msg, t)
        self.style.feed(tokens)
        if striking and not self.phrases.in_call:
            self.call.clear()
            self.call_onsets = []
        if striking:
            self.call_onsets.append(t)
        self._hear(tokens)
        if self.accompanying and msg.type in ("note_on", "note_off"):
            self.accompanist.heard(msg, t)
        elif msg.type == "control_change" and msg.control == ALL_NOTES_OFF_CC:
            self.accompanist.keys_up(t)  # a keyboard's all-notes-off: its keys are up for the accompaniment too
            self.left.clear()
        if striking:
            self.phrases.note_on(t)
        elif tokens or msg.type == "note_off":
            # A key (or the pedal) let go: the silence counts from here. Other CCs (a
            # mod wheel, an expression pedal) are not the end of anything.
            self.phrases.released(t)
            self.judge_gap()

    def _left_hand(self, msg: mido.Message, t: float) -> None:
        """A new chord struck: what was sampled ahead in the old one is sampled again."""
        if self.accompanying and not self.counting_in(t):
            self.accompanist.left_hand(t)
        self.discard_upcoming()
        if msg.type == "note_on" and msg.velocity > 0 and (ans := self.answer) is not None and not ans.done:
            self.scheduler.replan("answer", set(ans.rewind(t).sounding))
            self._continue_answer(t)
            self.show_plan(ans.planned(t))

    def _hear(self, tokens: list[int]) -> None:
        self.call.feed(tokens)
        if self.answer is not None and not self.answer.done:
            # Playing over the answer (--overlap): the model hears these notes once it finishes (or is cut).
            self.deferred += [x for x in tokens if vocab.describe(x)[0] != "TIME_SHIFT"]
        else:
            self.listener.feed(tokens)

    def release_keys(self, now: float) -> None:
        """Every key and the pedal up as far as the model knows (a panic, "answer
        now", a lost input): a note-off lost on the way cannot hold the call open."""
        self._hear(self.listener.release_keys(now))
        self.accompanist.keys_up(now)
        self.judge_gap()

    def panic(self, now: float) -> None:
        """Stop the answer, free every key, and forget the call: silence, then a fresh start."""
        self.interrupt(now)
        self.accompanist.stop()
        self.discard_upcoming()
        self.release_keys(now)
        self.left.clear()
        self.phrases.reset()

    def _held_long_due(self) -> float | None:
        if self.held_said or self.last_heard is None or not self.listener.held:
            return None
        return self.last_heard + HELD_LONG

    def _answer_over(self, t: float) -> bool:
        """The answer has played its last note and only its final releases are due:
        a call that starts on that very bar line (or the moment it ends) comes in
        after it, not over it."""
        ans = self.answer
        return ans is not None and ans.done and t >= ans.end_time - END_GRACE

    def tick(self, now: float) -> None:
        self.counting = self.counting_in(now)
        due = self._held_long_due()
        if due is not None and now >= due:
            self.held_said = True
            self.emit(HeldLong, notes=[pitch_name(p) for p in self.listener.encoder.held_pitches()],
                      seconds=round(now - self.last_heard, 1))
        if self.answer is not None:
            self._continue_answer(now)
        if self.accompanying:
            self.accompanist.tick(now)
        due = self.phrases.due(self.listener.held)
        if due is not None and self._may_prepare() and due - now <= PREPARE_AHEAD:
            self._start_answer(max(due, now), self.phrases.call_seconds, self.phrases.start,
                               self.phrases.last_activity)
        self.end_phrase_if_due(now)

    def end_phrase_if_due(self, now: float) -> None:
        phrase = self.phrases.check(now, self.listener.held)
        if phrase is not None:
            self._phrase_ended(phrase, now)

    def end_phrase_now(self, now: float) -> None:
        """A manual phrase end (a CC or key): answer at once, keys down or not
        (they count as released: the model hears the call end)."""
        self.release_keys(now)
        phrase = self.phrases.manual_end(now)
        if phrase is not None:
            self._phrase_ended(phrase, now)

    # -- answers -------------------------------------------------------------
    def _may_prepare(self) -> bool:
        return self.upcoming is None and self.answer is None and not self.cfg.muted and self._answers()

    # -- bars (with a tempo or a clock) ----------------------------------------
    def grid(self):
        return self.tempo.grid() if self.tempo is not None else None

    def _bar_due(self, start: float, last: float) -> float | None:
        """With a tempo: the bar line the call ends on (None: free time, the silence rule)."""
        in_bars = self._bar_start(last, start, last)
        return in_bars[0] if in_bars else None

    def judge_gap(self) -> None:
        """--phrase-end model: once per release (or setting change), here on the
        engine thread, how long after it the model judges the call over; the phrase
        detector only reads it (the screen asks for the countdown from its own thread)."""
        p = self.phrases
        if self.cfg.phrase_rule != "model" or not p.in_call or self.listener.held or self.answer is not None:
            p.model_gap = None  # over an answer (--overlap) the model has not heard the call yet
            return
        self._hear(self.listener.settle())  # a note released in its first step: the call's too
        head = self.listener.phrase_head
        if head is not None:
            if p.model_threshold is not None:
                head = replace(head, threshold=p.model_threshold)
            p.model_gap = head.gap(self.listener.state, self.listener.logits, self.call.notes, self.cfg.silence)
        else:
            p.model_gap = model_gap_due(self.listener.logits, self.cfg.silence,
                                        p.model_threshold if p.model_threshold is not None else THRESHOLD)

    def bar_known(self) -> bool:
        """Does the tempo say where bar 1 is? (A clock joined mid-song: not until Start or a Song Position.)"""
        return getattr(self.tempo, "bar_known", True)

    def beats_per_bar(self) -> int:
        """The bar calls end on: the real one, or one beat while the bar is unknown (no invented downbeat)."""
        return self.cfg.beats_per_bar if self.bar_known() else 1

    def _bar_start(self, t: float, start: float | None, last: float | None):
        """With a tempo: (the bar line the answer starts on, its first bar, how many bars). None in free time."""
        g = self.grid()
        return None if g is None or start is None else bars.answer_bars(g, self.cfg, self.beats_per_bar(), t, start,
                                                                           last)

    def _start_answer(self, t: float, call_seconds: float, start: float | None = None,
                      last: float | None = None) -> None:
        """Sample the start of an answer for time t (now, or the coming phrase end;
        with a tempo, the bar line the call ends on) and schedule its first notes
        there, leaving the listener alone until the phrase really ends; so the
        answer can sound the instant it does."""
        in_bars = self._bar_start(t, start, last)
        if in_bars:
            t = in_bars[0]
        step, state, logits = self.listener.ahead(t)
        timeline = None
        if in_bars:
            g = self.grid()
            swing = bars.swing_of([g.beats(x) for x in self.call_onsets])
            timeline = bars.BarTimeline(self.grid, step, in_bars[1], in_bars[2], self.beats_per_bar(),
                                        self.cfg.quantize, swing)
        # Each answer samples from its own generator, seeded by the seed and how many
        # answers were played before: one prepared and thrown away draws nothing from
        # the next, so --seed reproduces a live session.
        self.sampler.reseed(self.answers_played)
        seconds = timeline.seconds if timeline else self.cfg.answer_length(call_seconds)
        profile = self.call.profile()
        key = profile.key.pitch_classes if profile.key else None
        self.upcoming = Answer(self.listener.model, self.sampler, self.cfg, state, logits, step, t,
                               seconds, self.listener.velocity_bin, Steering(profile, self.cfg, self.style), timeline,
                               self.style, (lambda at: self.left.chord(at, key)) if self.cfg.split else None,
                               pulse_of(self.call_onsets))
        # The onset is timed from t: the first note may go out before the engine
        # thread gets round to committing the phrase end.
        self.decided_at = t
        for deadline, msg in self.upcoming.fill(t):
            self.scheduler.schedule(deadline, msg, "answer")

    def discard_upcoming(self) -> None:
        if self.upcoming is not None:
            self.scheduler.cancel("answer")
            self.upcoming = None
            self.decided_at = None

    def _phrase_ended(self, phrase, now: float) -> None:
        key = self.call.profile().key
        self.emit(PhraseEnded, notes=phrase.notes, seconds=round(phrase.seconds, 2), key=key.name if key else None)
        if self.answer is not None:
            # A call played over an answer (--overlap) ended: answer the newest call.
            self.interrupt(now)
        if self.cfg.muted or not self._answers():
            self.discard_upcoming()
            return
        if self.upcoming is None:
            self._start_answer(now, phrase.seconds, phrase.start, phrase.end)
        ans, self.upcoming = self.upcoming, None
        self.answers_played += 1
        self.listener.adopt(ans.marks[0])  # the model has now heard the silence up to the answer
        self.answer = ans
        phrase.decided = ans.t0
        self._continue_answer(now)

    def _continue_answer(self, now: float) -> None:
        ans = self.answer
        done, decided = ans.done, ans.notes_played
        for deadline, msg in ans.fill(now + self._lookahead(ans), now + self._plan_ahead(ans)):
            self.scheduler.schedule(deadline, msg, "answer")
        if ans.done and not done:
            self.listener.adopt(ans.marks[-1])
            self.listener.feed(self.deferred)
            self.deferred = []
        if ans.notes_played != decided:
            self.show_plan(ans.planned(now))
        if ans.done and not ans.plan and now >= ans.end_time and self.scheduler.pending("answer") == 0:
            self.scheduler.cancel("answer")  # every note-off is out; release anything the tracker still holds
            self.answer = None
            self.emit(AnswerEnded, notes=ans.notes_played, seconds=round(ans.end_time - ans.t0, 2),
                      onset_ms=round(self.onsets[-1] * 1000, 2) if self.onsets else None)

    def _lookahead(self, ans) -> float:
        """How far ahead an answer's notes are handed to the scheduler. In bars a note is timed by the
        tempo as it is then (a short horizon follows a ramp), and pulled onto the grid up to `pull` early."""
        if isinstance(ans.timeline, bars.BarTimeline):
            return ans.timeline.pull + bars.LOOKAHEAD
        return self.cfg.lookahead

    def _plan_ahead(self, ans) -> float:
        """How far ahead an answer's notes are decided (and shown): 0.5 s in free time; in bars only as far
        as they are handed over (a beat decided at the phrase end cost the first note its bar line)."""
        return self._lookahead(ans) if isinstance(ans.timeline, bars.BarTimeline) else PLAN_SECONDS

    def answer_note_sent(self, now: float) -> None:
        """Called on the scheduler thread as each answer NOTE_ON goes out: only
        cheap bookkeeping. The first after a decision is the onset."""
        if self.decided_at is not None:
            self.onsets.append(now - self.decided_at)
            self.decided_at = None

    def interrupt(self, now: float) -> None:
        """The player came back in (or mute, panic, a model switch): stop the
        answer now, release its notes, and rewind the model to what was heard."""
        ans = self.answer
        if ans is None:
            return
        self.scheduler.cancel("answer", cut=True)
        mark, release = ans.rollback(now)
        self.listener.adopt(mark)
        # The answer's cut notes end, then the model hears what was played over it (--overlap).
        self.listener.feed(release + self.deferred)
        self.deferred = []
        self.answer = None
        self.show_plan([])
        self.emit(Interrupted, at_seconds=round(now - ans.t0, 2))
