"""Session recording: the player's track and the answer track in one MIDI file.

Rewritten after every phrase and answer (to a temporary file, then renamed), so
a crash loses at most the phrase in progress and a reader never sees half a file.
The rewriting happens on a writer thread of its own: the engine only asks for it,
so a long session or a slow disk never delays an answer. A folder that cannot be
written is said once; the session stays in memory and is written when it can.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import mido

from ..errors import LivejamError
from ..midi.files import write_messages
from ..midi.sounding import hanging


def default_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("livejam")) / "recordings"


class SessionRecorder:
    def __init__(self, folder: Path | None, clock) -> None:
        self.folder = Path(folder) if folder else default_dir()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LivejamError(f"cannot write recordings to {self.folder} ({exc.strerror}); pass --record-dir or --no-record")
        self.path = self.folder / time.strftime("livejam-%Y%m%d-%H%M%S.mid")
        n = 1
        while self.path.exists():
            self.path = self.folder / time.strftime(f"livejam-%Y%m%d-%H%M%S-{n}.mid")
            n += 1
        self.clock = clock
        self.t0 = clock.now()
        self.lock = threading.Lock()  # the answer track is written from the scheduler thread
        self.tracks: dict[str, list[tuple[float, mido.Message]]] = {"player": [], "livejam": []}
        self.dirty = False
        self.on_error = None  # (message) once when the file cannot be written
        self.failing = False
        self.wanted = threading.Event()
        self.writer: threading.Thread | None = None

    def player(self, msg: mido.Message, t: float) -> None:
        self._add("player", msg, t)

    def answer(self, msg: mido.Message, t: float) -> None:
        self._add("livejam", msg, t)

    def _add(self, track: str, msg: mido.Message, t: float) -> None:
        if msg.type in ("note_on", "note_off", "control_change", "pitchwheel"):
            with self.lock:
                self.tracks[track].append((max(0.0, t - self.t0), msg))
                self.dirty = True

    def request_flush(self) -> None:
        """Have the writer thread rewrite the file soon (the engine's call: never blocks)."""
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
        """Rewrite the file now, if anything was added; None if nothing was written."""
        with self.lock:
            if not self.dirty:
                return None
            snapshot = {k: list(v) for k, v in self.tracks.items()}
            self.dirty = False
        try:
            write_messages(self.path, list(snapshot.items()))
        except OSError as exc:
            with self.lock:
                self.dirty = True  # still to be written: nothing recorded is dropped
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
            for name, track in self.tracks.items():
                for ch, p in sorted(hanging(track)):
                    track.append((max(0.0, t - self.t0), mido.Message("note_off", channel=ch, note=p)))
                down = {}
                for _, m in track:
                    if m.type == "control_change" and m.control == 64:
                        down[m.channel] = m.value >= 64
                for ch in sorted(c for c, d in down.items() if d):
                    track.append((max(0.0, t - self.t0), mido.Message("control_change", channel=ch, control=64, value=0)))
            self.dirty = True

    def close(self) -> Path | None:
        """Close what is held in the file, then write it a last time."""
        writer, self.writer = self.writer, None
        if writer is not None:
            self.wanted.set()
            writer.join(timeout=10)
        self.close_held(self.clock.now())
        return self.flush()
