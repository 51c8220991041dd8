"""One error type for everything a musician can cause, with a message they can act on."""


class LivejamError(Exception):
    """Raised with one plain line: what happened and what to do about it."""


class NoMidiSystem(LivejamError):
    """The MIDI system itself is missing (no ALSA sequencer, no JACK server)."""
