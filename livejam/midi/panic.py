"""The one panic sequence. Every path that silences a synth sends exactly this:
the scheduler's panic, a port switch, the watchdog after livejam died (over
what it saw go out), and `livejam panic` (over every pitch). In order: a
NOTE_OFF for every note known to sound (or, when what sounds is not known, for
every pitch) and every gesture a source left away from rest put back (the bend
centred, the mod wheel and the soft and sostenuto pedals down to rest), then
all-notes-off, sustain off and all-sound-off on each channel."""
from __future__ import annotations

import time

import mido

from . import system

PANIC = "panic"  # the source a panic's own messages are sent under
PANIC_CCS = ((123, 0), (64, 0), (120, 0))  # all notes off, sustain off, all sound off


def sequence(channels, sounding: dict | None = None) -> list[tuple[str, mido.Message]]:
    """(source, message) pairs, in the order they go out. `sounding` maps each
    source to its NoteTracker (what livejam knows it started); None means nothing
    is known (livejam is gone, a synth is stuck), so every pitch of each channel
    gets its NOTE_OFF."""
    chans = sorted(set(channels))
    if sounding is None:
        out = [(PANIC, mido.Message("note_off", channel=ch, note=p, velocity=0)) for ch in chans for p in range(128)]
    else:
        # Each source's gestures put back too (a bend centred, the soft pedal up): CC121
        # would reset them all, but also what livejam never touched on some synths.
        out = [(source, m) for source, tracker in sounding.items() for m in tracker.note_offs() + tracker.gestures_back()]
    return out + [(PANIC, mido.Message("control_change", channel=ch, control=c, value=v))
                  for ch in chans for c, v in PANIC_CCS]


def send_to_ports(api: int, ports: set[str], channels) -> int:
    """The sequence, with nothing known to sound, to each output port by name, one
    channel at a time. Returns how many ports it reached."""
    import rtmidi

    reached = 0
    for name in sorted(ports):
        out = rtmidi.MidiOut(rtapi=api, name="livejam-panic")
        try:
            names = out.get_ports()
            if name not in names:
                continue
            out.open_port(names.index(name), "panic")
            for ch in sorted(set(channels)):
                for _, m in sequence([ch]):
                    out.send_message(m.bytes())
                time.sleep(0.01)  # let the server carry one channel's worth before the next
            time.sleep(0.05)  # a few server periods before the port closes
            reached += 1
        except rtmidi.RtMidiError:
            pass  # a port that went away too: nothing sounds there any more
        finally:
            system.close_client(out, api)
    return reached
