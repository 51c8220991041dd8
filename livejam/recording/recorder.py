"""Session recording: the player's track and the answer track in one MIDI file.

The file grows by appending (appending.py): after every phrase and answer the
writer thread adds what was played since the last write, so the cost of a write
is that phrase, not the evening so far, and the file on disk is complete after
each (a crash loses at most the phrase in progress). The engine only asks for a
write; a long session or a slow disk never delays an answer. At the end the file
is compacted to the two tracks. A folder that cannot be written is said once;
what was not written stays in memory and is written when it can.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import mido

from ..errors import LivejamError
from .appending import AppendingMidiFile

PEDAL = 64


def default_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("livejam")) / "recordings"


class Held:
    """What one track has sounding, kept as events are added (so ending it is O(held), not O(session))."""

    def __init__(self) -> None:
        self.notes: dict[tuple[int, int], int] = {}
        self.pedals: set[int] = set()

    def add(self, msg: mido.Message) -> None:
        if msg.type == "control_change" and msg.control == PEDAL:
            (self.pedals.add if msg.value >= 64 else self.pedals.discard)(msg.channel)
        elif msg.type in ("note_on", "note_off"):
            k = (msg.channel, msg.note)
            n = self.notes.get(k, 0) + (1 if msg.type == "note_on" and msg.velocity > 0 else -1)
            if n > 0:
                self.notes[k] = n
            else:
                self.notes.pop(k, None)

    def endings(self) -> list[mido.Message]:
        return ([mido.Message("note_off", channel=ch, note=p) for (ch, p), n in sorted(self.notes.items())
                 for _ in range(n)]
                + [mido.Message("control_change", channel=ch, control=PEDAL, value=0) for ch in sorted(self.pedals)])


class SessionRecorder:
    def __init__(self, folder: Path | None, clock) -> None:
        self.folder = Path(folder) if folder else default_dir()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.path = self.folder / time.strftime("livejam-%Y%m%d-%H%M%S.mid")
            n = 1
            while self.path.exists():
                self.path = self.folder / time.strftime(f"livejam-%Y%m%d-%H%M%S-{n}.mid")
                n += 1
            self.file = AppendingMidiFile(self.path)
        except OSError as exc:
            raise LivejamError(f"cannot write recordings to {self.folder} ({exc.strerror}); pass --record-dir or --no-record")
        self.clock = clock
        self.t0 = clock.now()
        self.lock = threading.Lock()  # the answer track is written from the scheduler thread
        self.appending = threading.Lock()  # the writer thread's appends and the close's
        self.new: dict[str, list[tuple[float, mido.Message]]] = {"player": [], "livejam": []}  # not yet on disk
        self.held = {name: Held() for name in self.new}
        self.on_error = None  # (message) once when the file cannot be written
        self.failing = False
        self.written = 0  # bytes the last write added (the soak test reads it)
        self.wanted = threading.Event()
        self.writer: threading.Thread | None = None

    def player(self, msg: mido.Message, t: float) -> None:
        self._add("player", msg, t)

    def answer(self, msg: mido.Message, t: float) -> None:
        self._add("livejam", msg, t)

    def _add(self, track: str, msg: mido.Message, t: float) -> None:
        if msg.type in ("note_on", "note_off", "control_change", "pitchwheel", "aftertouch", "polytouch"):
            with self.lock:
                self.new[track].append((max(0.0, t - self.t0), msg))
                self.held[track].add(msg)

    def request_flush(self) -> None:
        """Have the writer thread append what is new soon (the engine's call: never blocks)."""
        if self.writer is None:
            self.writer = threading.Thread(target=self._write_loop, name="livejam-recorder", daemon=True)
            self.writer.start()
        self.wanted.set()

    def _write_loop(self) -> None:
        from ..threads import name_this_thread

        name_this_thread()
        while True:
            self.wanted.wait()
            self.wanted.clear()
            if self.writer is None:
                return  # closing
            self.flush()

    def flush(self) -> Path | None:
        """Append what was added since the last write; None if nothing was written.
        One append at a time: a close that gave up waiting for a slow writer thread
        appends after it, never beside it."""
        with self.appending:
            return self._flush()

    def _flush(self) -> Path | None:
        with self.lock:
            if not any(self.new.values()):
                return None
            batch, self.new = self.new, {name: [] for name in self.new}
        try:
            self.written = self.file.append(list(batch.items()))
        except OSError as exc:
            with self.lock:  # still to be written: nothing recorded is dropped
                self.new = {name: batch[name] + self.new[name] for name in batch}
            if not self.failing and self.on_error:
                self.on_error(f"cannot write the recording {self.path} ({exc.strerror or exc}); playing goes on, "
                              f"the session is kept and written when the folder can take it")
            self.failing = True
            return None
        self.failing = False
        return self.path

    def close_held(self, t: float) -> None:
        """End in the file every note (and pedal) still on in either track at `t`:
        recording paused mid-note, or the session over. A file never holds a note
        without its end (it would feed `bin/train personal` a note held for ever)."""
        with self.lock:
            for name, held in self.held.items():
                for msg in held.endings():
                    self.new[name].append((max(0.0, t - self.t0), msg))
                self.held[name] = Held()

    def close(self) -> Path | None:
        """End what is held, write it, then compact the file to its two tracks."""
        writer, self.writer = self.writer, None
        if writer is not None:
            self.wanted.set()
            writer.join(timeout=10)
        self.close_held(self.clock.now())
        self.flush()
        if self.failing:
            return None
        try:
            self.file.compact()
        except OSError:
            pass  # the appended file is complete as it is: readers merge its chunks
        return self.path
