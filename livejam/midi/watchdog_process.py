"""The watchdog process itself (`python -m livejam.midi.watchdog_process`): it owns
livejam's output port and sends what livejam writes into its pipe, noting as it
goes what sounds (notes on every channel, the sustain pedal) and whether MIDI
clock runs. When the pipe closes without a `bye`, livejam died: it releases all
of that through the port it still holds, to whoever listens, and exits.
No model, no onnxruntime: python-rtmidi, mido and the standard library only.

The pipe (livejam -> here) carries records: two bytes of length, big-endian, then
the payload. A payload whose first byte is a MIDI status byte (>= 0x80) is a
message to send; otherwise it is a word: `bye` (livejam released everything
itself: go quietly) or `reopen N` (the port came back: open it by name again).
Back to livejam, one line each: `open NAME` (started), `N open NAME` or `N failed WHY`
(to reopen N), `lost WHY` (a send failed), `back` (a send works again).

The pipe is read on a thread of its own, apart from the sending, and a third minds
the sending: a send stuck for good (RtMidi's JACK send spins on a full ring buffer
when the server is gone) can no longer hide livejam's end. One send taking
STUCK_SECONDS, or the sending not done END_SECONDS after the pipe ended (or said
`bye`), ends the process (`stuck WHY` said first): nothing more could go out through
that port. livejam then starts another, which opens the port afresh."""
from __future__ import annotations

import argparse
import os
import queue
import signal
import sys
import threading
import time

import mido

from ..threads import ask_for_realtime
from .panic import sequence
from .sounding import AT_REST_CCS, NoteTracker

FLUSH_SECONDS = 0.1  # after the release: a few server periods before the port closes (JACK sends on its own thread)
END_SECONDS = 2.0  # livejam gone or said bye: the sending must be done by then (the release takes ~0.1 s)
STUCK_SECONDS = 2.0  # one send this long is stuck (a panic's ~300 bytes take 0.1 s even at 31.25 kbaud)
MIND_EVERY = 0.1
SUSTAIN, START, CONTINUE, STOP = 64, 0xFA, 0xFB, 0xFC
STUCK_EXIT = 3  # the exit status of a watchdog that ended with its send stuck


class Keeper:
    """What livejam left sounding, learned from what passed through: every channel
    a note or the pedal went out on, every note still on, every gesture away from
    rest (a bent pitch, the mod wheel, the soft pedal), and a running clock."""

    def __init__(self) -> None:
        self.notes = NoteTracker()
        self.channels: set[int] = set()
        self.clock_running = False

    def saw(self, data: bytes) -> None:
        status = data[0]
        if status in (START, CONTINUE):
            self.clock_running = True
        elif status == STOP:
            self.clock_running = False
        elif status < 0xF0 and len(data) in (2, 3):
            kind, ch = status & 0xF0, status & 0x0F
            if kind in (0x80, 0x90) or kind in (0xA0, 0xD0, 0xE0) or (kind == 0xB0 and data[1] in AT_REST_CCS):
                self.notes.sent(mido.Message.from_bytes(data))  # notes, and gestures to put back (a bend)
                self.channels.add(ch)
            elif kind == 0xB0 and data[1] == SUSTAIN and data[2] > 0:
                self.channels.add(ch)

    def release(self) -> list[bytes]:
        """The one panic sequence over what is known to sound, then Stop if clock ran."""
        out = [m.bytes() for _, m in sequence(self.channels, {"livejam": self.notes})]
        if self.clock_running:
            out.append(bytes([STOP]))
        return out


class Port:
    """The output port itself: virtual (livejam out) or opened by name."""

    def __init__(self, api: int, wanted: str | None, virtual_name: str) -> None:
        from .system import CLIENT, client

        self.api, self.wanted, self.virtual_name = api, wanted, virtual_name
        self.midi = client("out", api, CLIENT)
        self.name = virtual_name
        if wanted is None:
            self.midi.open_virtual_port(virtual_name)
        else:
            self.open()

    def open(self) -> str:
        from .system import close_port, resolve

        idx = resolve(self.wanted, self.midi.get_ports(), "output")
        if self.midi.is_port_open():
            close_port(self.midi, self.api)
        self.midi.open_port(idx, "out")
        self.name = self.midi.get_ports()[idx]
        return self.name

    def send(self, data: bytes) -> None:
        self.midi.send_message(data)

    def close(self, process_ends: bool = False) -> None:
        from .system import close_client

        close_client(self.midi, self.api, process_ends)


def frame(payload: bytes) -> bytes:
    """One record of the pipe: two bytes of length, then the payload."""
    return len(payload).to_bytes(2, "big") + bytes(payload)


def records(fd: int):
    """Each payload from the pipe, until it closes."""
    buf = b""
    while True:
        data = os.read(fd, 65536)
        if not data:
            return
        buf += data
        while len(buf) >= 2 and len(buf) >= 2 + (n := int.from_bytes(buf[:2], "big")):
            yield buf[2:2 + n]
            buf = buf[2 + n:]


def serve(fd: int, port, say, give_up=None) -> int:
    """Send what comes through the pipe until `bye` (0) or the pipe closing (1: livejam died).
    A send that fails is said once (`lost`); every later message is tried again, and
    the first that goes says `back` (a device replugged within a second, a CoreMIDI
    send error that passes): nothing is latched silent. The pipe is read apart from
    the sending; give_up(why) is called when it is stuck (main: the process exits)."""
    items: queue.SimpleQueue = queue.SimpleQueue()
    done = threading.Event()
    sending = Sending()

    def read() -> None:
        for data in records(fd):
            items.put(data)
            if data == b"bye":
                break  # livejam's last word: the pipe is read no further
        sending.ended_at = time.monotonic()
        items.put(None)  # the end: a bye, or the pipe closed (livejam died)

    def mind() -> None:
        while not done.wait(MIND_EVERY):
            why = sending.stuck(time.monotonic())
            if why and give_up is not None:
                give_up(why)
                return

    threading.Thread(target=read, name="livejam-watchdog-pipe", daemon=True).start()
    threading.Thread(target=mind, name="livejam-watchdog-mind", daemon=True).start()
    try:
        return _send(items, port, say, sending)
    finally:
        done.set()


class Sending:
    """When the send in progress began, and when livejam's pipe ended: what the minder reads."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.ended_at: float | None = None

    def stuck(self, now: float) -> str:
        since, ended = self.since, self.ended_at  # (one read each: the sending thread writes them)
        if since is not None and now - since > STUCK_SECONDS:
            return f"one send has taken {now - since:.1f} s"
        if ended is not None and now - ended > END_SECONDS:
            return f"the sending was not done {END_SECONDS:.0f} s after livejam's end"
        return ""


def _send(items: queue.SimpleQueue, port, say, sending: Sending) -> int:
    keeper, failing = Keeper(), False
    for data in iter(items.get, None):
        if data[0] >= 0x80:
            keeper.saw(data)
            sending.since = time.monotonic()
            try:
                port.send(data)
            except Exception as exc:  # the device went away, or hiccupped
                if not failing:
                    say(f"lost {exc}")
                failing = True
            else:
                if failing:
                    say("back")
                failing = False
            finally:
                sending.since = None
        elif data == b"bye":
            time.sleep(FLUSH_SECONDS)  # livejam's own last releases may still wait for the server's thread
            return 0
        elif data.startswith(b"reopen"):
            request = data[len(b"reopen"):].strip().decode()  # the reply names the request it answers
            tag = f"{request} " if request else ""
            try:
                say(f"{tag}open {port.open()}")  # a failing port says `back` at its next send that goes
            except Exception as exc:
                say(f"{tag}failed {exc}")
    for data in keeper.release():
        sending.since = time.monotonic()
        try:
            port.send(data)
        except Exception:
            break  # the port went with livejam: nothing sounds there any more
        finally:
            sending.since = None
    time.sleep(FLUSH_SECONDS)
    return 1


def run(argv: list[str], fd: int, say, process_ends: bool = False, give_up=None) -> int:
    """Open the port the arguments name, say so, then serve the pipe on fd;
    process_ends: main() ends the process next (system.close_client); give_up: see serve."""
    from .system import api_id

    p = argparse.ArgumentParser(prog="livejam.midi.watchdog_process")
    p.add_argument("--api", required=True)
    p.add_argument("--out", default=None, help="an output port by name; none: a virtual port")
    p.add_argument("--virtual-name", default="livejam out")
    a = p.parse_args(argv)
    try:
        port = Port(api_id(a.api), a.out, a.virtual_name)
    except Exception as exc:
        say(f"failed {exc}")
        return 2
    say(f"open {port.name}")
    try:
        return serve(fd, port, say, give_up)
    finally:
        port.close(process_ends)


def main(argv: list[str] | None = None) -> int:
    # Ctrl-C at the terminal is livejam's to handle (Windows sends it to the whole
    # console; elsewhere this process has a session of its own anyway).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Every note livejam plays waits for this process's wake-up: it asks for the
    # real-time priority the scheduler's thread has, where the OS grants it.
    ask_for_realtime()

    def say(line: str) -> None:
        print(line.replace("\n", " "), flush=True)

    def give_up(why: str) -> None:
        try:
            say(f"stuck {why}")
        except OSError:
            pass  # livejam has gone
        os._exit(STUCK_EXIT)  # the sending thread cannot be stopped; the process can

    return run(sys.argv[1:] if argv is None else argv, sys.stdin.fileno(), say, process_ends=True, give_up=give_up)


if __name__ == "__main__":
    sys.exit(main())
