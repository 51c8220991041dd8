"""The timed output: a heap of messages sent at absolute deadlines by one thread.

Deadlines are absolute clock times, so a late wake-up never shifts what follows
(no drift). Nothing due means the thread sleeps on a condition: no busy loop.
Every note and pedal sent is tracked per source ("answer", "thru", "metronome"),
so a source can be cut off at once with every one of its notes released, and
one source's note-off never silences another's note (midi/sounding.py).
"""
from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from typing import Callable

import mido

from ..midi import panic
from ..midi.sounding import Sounding, puts_back
from ..threads import ask_for_realtime, name_this_thread


class Scheduler:
    def __init__(self, output, clock, on_sent: Callable | None = None, on_error: Callable | None = None) -> None:
        self.output = output
        self.clock = clock
        self.on_sent = on_sent  # (time, tag, msg, lateness) after each send
        self.on_error = on_error  # (exception) when the output fails
        self.cond = threading.Condition()
        self.heap: list[tuple[float, int, str, mido.Message]] = []
        self.seq = itertools.count()
        self.voices = Sounding()  # what each source has sounding, and what reaches the wire
        self.taps: list = []  # outputs beside the port that hear the same wire and never fail (the built-in synth)
        self.running = False
        self.closed = False  # after the final panic: nothing more is scheduled or sent
        self.thread: threading.Thread | None = None
        self.late = 0  # messages sent more than 1 ms after their deadline
        self.sent = 0  # messages sent so far
        self.failed = 0  # sends the output refused (a lost port)
        self.lateness: deque[float] = deque(maxlen=4096)  # recent send time - deadline, seconds
        self.realtime = False  # whether the OS gave this thread real-time priority

    # -- from other threads ------------------------------------------------
    def schedule(self, deadline: float, msg: mido.Message, tag: str = "answer") -> None:
        entry = (deadline, next(self.seq), tag, msg)
        with self.cond:
            if self.closed:
                return  # after the final panic nothing new may start sounding
            heapq.heappush(self.heap, entry)
            if self.heap[0] is entry:  # sooner than what the thread sleeps towards
                self.cond.notify()

    def send_now(self, msg: mido.Message, tag: str) -> None:
        with self.cond:
            if self.closed:
                return
            self._send(msg, tag, self.clock.now(), None)

    def cancel(self, tag: str, cut: bool = False) -> int:
        """Drop what `tag` has pending and release its sounding notes now; cut: the
        taps stop its voices at once too (an interruption: no release tail under
        the player). Returns how many pending messages were dropped."""
        with self.cond:
            before = len(self.heap)
            self.heap = [e for e in self.heap if e[2] != tag]
            heapq.heapify(self.heap)
            self._release(tag)
            if cut:
                for tap in self.taps:
                    tap.cut(tag)
            return before - len(self.heap)

    def replan(self, tag: str, keep: set[int]) -> int:
        """Drop what `tag` has pending, and release now what it sounds but `keep`
        (pitches): its plan is made again from here (an answer when the left hand's
        chord changes). Returns how many pending messages were dropped."""
        with self.cond:
            before = len(self.heap)
            self.heap = [e for e in self.heap if e[2] != tag]
            heapq.heapify(self.heap)
            tracker = self.voices.sources.get(tag)
            if tracker:
                now = self.clock.now()
                for msg in tracker.note_offs():
                    if msg.note not in keep:
                        self._send(msg, tag, now, None)
            return before - len(self.heap)

    def panic(self, channels, final: bool = False) -> None:
        """The panic sequence (midi/panic.py) for everything livejam sounds. A final
        panic (on stop) closes the scheduler to anything new in the same breath, so a
        thread still finishing its step cannot start a note after it."""
        with self.cond:
            self.closed = self.closed or final
            self._panic(channels)

    def replace_output(self, output, channels):
        """Move to another output in one step: the panic sequence on the old one first,
        and nothing is sent while the two are swapped. Returns the old."""
        with self.cond:
            self._panic(channels)
            old, self.output = self.output, output
            return old

    def sounding(self, tag: str | None = None) -> int:
        with self.cond:
            trackers = [self.voices.sources.get(tag)] if tag else list(self.voices.sources.values())
            return sum(sum(t.sounding.values()) for t in trackers if t)

    def next_deadline(self) -> float | None:
        """When the next message is due (None: nothing pending)."""
        with self.cond:
            return self.heap[0][0] if self.heap else None

    def pending(self, tag: str | None = None) -> int:
        with self.cond:
            return sum(1 for e in self.heap if tag is None or e[2] == tag)

    # -- the thread --------------------------------------------------------
    def start(self) -> None:
        self.running = True
        self.thread = threading.Thread(target=self._run, name="livejam-scheduler", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        with self.cond:
            self.running = False
            self.cond.notify()
        if self.thread:
            self.thread.join(timeout=2)

    def run_due(self) -> int:
        """Send everything due now (the thread's body; tests on a fake clock call it)."""
        with self.cond:
            return self._send_due()

    def _run(self) -> None:
        name_this_thread()
        self.realtime = ask_for_realtime()
        with self.cond:
            while self.running:
                self._send_due()
                if not self.running:
                    break
                self.clock.wait(self.cond, self.heap[0][0] if self.heap else None)

    def _send_due(self) -> int:
        n = 0
        now = self.clock.now()
        while self.heap and self.heap[0][0] <= now:
            deadline, _, tag, msg = heapq.heappop(self.heap)
            self._send(msg, tag, now, deadline)
            n += 1
            now = self.clock.now()
        return n

    def _send(self, msg: mido.Message, tag: str, now: float, deadline: float | None) -> None:
        wires = self.voices.wire(tag, msg)
        at = now if deadline is None else deadline  # a synth renders at the sample: the note's time, not our wake-up
        for tap in self.taps:  # the built-in synth: hears the wire whether the MIDI port works or not
            for wire in wires:
                tap.send(wire, tag, at)
        try:
            for wire in wires:
                self.output.send(wire)
        except Exception as exc:  # a lost port must not stop the music thread
            if puts_back(msg):
                # Meant to end: the note is no longer this source's (a synth that got its
                # note-on and not this is reset by the panic a lost port brings). Kept, it
                # would withhold another source's note-off of that pitch when the port is back.
                self.voices.sent(tag, msg)
            self.failed += 1
            if self.on_error:
                self.on_error(exc)
            return
        self.voices.sent(tag, msg)
        self.sent += 1
        lateness = 0.0 if deadline is None else now - deadline
        if deadline is not None:
            self.lateness.append(lateness)
        if lateness > 0.001:
            self.late += 1
        if self.on_sent:
            self.on_sent(now, tag, msg, lateness)

    def _panic(self, channels) -> None:
        self.heap.clear()
        now = self.clock.now()
        # Each note-off under the source that started the note, so its tracker and
        # whoever listens to that source (the recorder, the piano roll) see it end;
        # the CCs on every channel any source touched (thru plays on the player's).
        sources = {name: t for name, t in self.voices.sources.items()}
        for source, msg in panic.sequence(set(channels) | self.voices.channels(), sources):
            self._send(msg, source, now, None)
        for tracker in sources.values():
            tracker.pedals.clear()  # the panic's CC64=0 lifted them on every channel

    def _release(self, tag: str) -> None:
        tracker = self.voices.sources.get(tag)
        if tracker:
            now = self.clock.now()
            for msg in tracker.release_messages():
                self._send(msg, tag, now, None)
