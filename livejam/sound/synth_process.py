"""The built-in synth's own process (`python -m livejam.sound.synth_process`,
started by synth_link.py): the synth and its audio, the audio callback reading
the records livejam writes into stdin, the main thread asleep on a pipe that
only closes when livejam has gone. No model, no screen, no MIDI ports: nothing
else in this process takes the interpreter lock from the audio callback."""
from __future__ import annotations

import gc
import json
import os
import sys
import time

from ..errors import LivejamError
from .live import ROLES, SynthOutput
from .synth_link import ALL_OFF, CUT, RECORD, SEND, TAKE_RECORDS, _board


def _say(word: str, line: str = "") -> None:
    try:
        sys.stdout.write(f"{word}\t{line}\n" if line else f"{word}\n")
        sys.stdout.flush()
    except OSError:
        pass  # livejam has gone: the life pipe says so to the main thread


def take(data: bytes, output) -> bytes:
    """Plays the whole records in `data` into `output` (live.SynthOutput), each at
    its own time; returns the start of a record still to come."""
    import mido

    whole = len(data) - len(data) % RECORD.size
    for at, kind, role, length, raw in RECORD.iter_unpack(data[:whole]):
        source = ROLES[role] if role < len(ROLES) else "other"
        if kind == SEND:
            output.send(mido.Message.from_bytes(raw[:length]), source, at)
        elif kind == CUT:
            output.cut(source, at)
        else:
            output.close(at)
    return data[whole:]


class PipedOutput(SynthOutput):
    """The child's SynthOutput: the audio callback takes the records waiting in the
    pipe at the start of each cycle. It reads the pipe only when the board says
    livejam wrote since (a failed read of an empty pipe costs the cold-cached
    callback ~25 us), or when its last read left records for the next cycle. On
    JACK, the board is what idle_cycle.py's machine code watches: until it moves, a
    silent synth's cycles run no Python."""

    def __init__(self, fd: int, *args, board=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fd, self.rest, self.board, self.seen, self.more = fd, b"", board, 0, False
        if sys.platform == "win32":  # (a check mypy --platform win32 reads)
            raise RuntimeError("the synth's own process is POSIX only (synth_link.IN_PROCESS)")
        os.set_blocking(fd, False)

    def taken_up_to(self) -> int | None:
        return None if self.board is None or self.more else self.seen

    def take(self) -> None:
        if self.board is not None and not self.more:
            count = self.board[0]
            if count == self.seen:
                return
            self.seen = count
        try:
            data = os.read(self.fd, TAKE_RECORDS * RECORD.size)
        except BlockingIOError:
            self.more = False
            return
        self.more = len(data) == TAKE_RECORDS * RECORD.size
        self.rest = take(self.rest + data, self) if data else self.rest


def _out_of_the_collectors_sight() -> None:
    """Moves every object made so far (modules, the SoundFont, the synth) out of
    the cyclic garbage collector's walk. Python runs a collection inside whichever
    thread's allocations tip its counts, the audio callback's too; a full one over
    this process's start-up objects takes ~6 ms on the build machine, more than a
    256-frame period. Steady playing frees what it makes (none ran in a 10-minute
    conversation), but a burst that keeps objects alive can tip the counts; then a
    collection walks only what was made since."""
    gc.freeze()


class _MonotonicClock:
    """livejam's wall clock (timing/ is a wing above sound/): perf_counter, the machine's monotonic clock."""

    now = staticmethod(time.perf_counter)


class _Warm:
    def send(self, *args) -> None:
        pass


def child(args: dict, life: int) -> int:
    """Opens the audio, then plays what comes on stdin until livejam ends."""
    from . import live
    from .synth import BlockSynth

    programs = {role: int(p) for role, p in args["programs"].items()}
    take(RECORD.pack(0.0, SEND, 0, 3, bytes((0x80, 60, 0))), _Warm())  # mido's parser made ready outside the callback
    gc.collect()  # the start-up's garbage gone while no callback runs
    _out_of_the_collectors_sight()

    def make_output(rate: int):
        return PipedOutput(0, BlockSynth(args["soundfont"], rate), _MonotonicClock(), args["volume"], programs,
                           board=_board(args["board"]))

    def lost(line: str) -> None:
        _say("lost", line)

    def fault(line: str) -> None:
        _say("fault", line)

    try:
        audio = live.open_audio(make_output, on_lost=lost, name=args["name"], audio=args["audio"], on_fault=fault)
    except LivejamError as exc:
        _say("error", str(exc))
        return 1
    _out_of_the_collectors_sight()  # the synth, its SoundFont and its audio client as well (no collection: the callback runs)
    if getattr(audio, "via", ""):
        _say("via", audio.via)
    _say("ready", "\t".join(audio.names))
    try:
        while os.read(life, 1):  # sleeps, the interpreter lock let go, until livejam closes it or is gone
            pass
    finally:
        audio.output.close()  # livejam has gone, whichever way: every voice off
        time.sleep(0.03)  # a few blocks: the silence sounds before the audio stops
        audio.close()
    return 0


if __name__ == "__main__":
    sys.exit(child(json.loads(sys.argv[1]), int(sys.argv[2])))
